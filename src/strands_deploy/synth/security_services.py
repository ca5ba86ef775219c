"""`security:` of an environment → the opt-in AWS-side guardrails (docs/policy.md).

- ``config_rules: [ID, ...]``: one AWS Config managed rule per identifier (``shared.config-rule-*``),
  scoped to resources tagged ``strands:project=<project>``, and what Config needs to evaluate
  them: a configuration recorder recording the types this environment deploys, with its delivery
  channel (``shared.config-recorder``), a bucket for the delivery (``shared.config-bucket``,
  retained: it holds the configuration history) and a role Config assumes (``shared.config-role``
  with ``shared.config-role-policy``).
- ``security_hub: true``: Security Hub enabled with AWS's default standards (``shared.security-hub``).
- ``guardduty: true``: a GuardDuty detector with Lambda protection (``shared.guardduty``).

The recorder, the hub and the detector are one per account and region: one that exists already is
adopted and never disabled or deleted on destroy (see the providers).
"""

from __future__ import annotations

import re

from strands_deploy.aws.arns import partition_for
from strands_deploy.config.policy_schema import SecurityServices
from strands_deploy.errors import ConfigError, StrandsDeployError
from strands_deploy.providers.bucket import BucketProps
from strands_deploy.providers.config_recorder import RecorderProps
from strands_deploy.providers.config_rule import ConfigRuleProps
from strands_deploy.providers.guardduty_detector import LAMBDA_PROTECTION, DetectorProps
from strands_deploy.providers.iam_role import RoleProps
from strands_deploy.providers.iam_role_policy import RolePolicyProps
from strands_deploy.providers.security_hub import HubProps
from strands_deploy.synth.context import SynthContext
from strands_deploy.synth.graph import Join, Ref, Resource
from strands_deploy.synth.naming import physical_name
from strands_deploy.synth.props import build

SECURITY_HUB = "shared.security-hub"
GUARDDUTY = "shared.guardduty"
CONFIG_RECORDER = "shared.config-recorder"
CONFIG_BUCKET = "shared.config-bucket"
CONFIG_ROLE = "shared.config-role"
CONFIG_ROLE_POLICY = "shared.config-role-policy"
RULE_PREFIX = "shared.config-rule-"

# What AWS Config records: the Config resource type of each type an environment deploys.
CONFIG_TYPES = {
    "aws.lambda.function": "AWS::Lambda::Function",
    "aws.iam.role": "AWS::IAM::Role",
    "aws.s3.bucket": "AWS::S3::Bucket",
    "aws.dynamodb.table": "AWS::DynamoDB::Table",
    "aws.sqs.queue": "AWS::SQS::Queue",
    "aws.sns.topic": "AWS::SNS::Topic",
    "aws.apigw.http_api": "AWS::ApiGatewayV2::Api",
    "aws.apigw.http_stage": "AWS::ApiGatewayV2::Stage",
    "aws.secretsmanager.secret": "AWS::SecretsManager::Secret",
    "aws.cloudwatch.alarm": "AWS::CloudWatch::Alarm",
    "aws.events.rule": "AWS::Events::Rule",
}

# Managed rules that judge the account, not a resource: a tag scope would make them judge nothing.
ACCOUNT_RULES = frozenset(
    {
        "ACCOUNT_PART_OF_ORGANIZATIONS",
        "CLOUDTRAIL_S3_DATAEVENTS_ENABLED",
        "CLOUDTRAIL_SECURITY_TRAIL_ENABLED",
        "CLOUD_TRAIL_ENABLED",
        "DYNAMODB_THROUGHPUT_LIMIT_CHECK",
        "EBS_SNAPSHOT_PUBLIC_RESTORABLE_CHECK",
        "EC2_EBS_ENCRYPTION_BY_DEFAULT",
        "GUARDDUTY_ENABLED_CENTRALIZED",
        "GUARDDUTY_NON_ARCHIVED_FINDINGS",
        "IAM_PASSWORD_POLICY",
        "IAM_ROOT_ACCESS_KEY_CHECK",
        "MULTI_REGION_CLOUD_TRAIL_ENABLED",
        "ROOT_ACCOUNT_HARDWARE_MFA_ENABLED",
        "ROOT_ACCOUNT_MFA_ENABLED",
        "SECURITYHUB_ENABLED",
        "SHIELD_ADVANCED_ENABLED_AUTORENEW",
        "SHIELD_DRT_ACCESS",
    }
)

RULE_ID = re.compile(r"^[A-Z0-9_]{3,128}$")


def synth_security_services(ctx: SynthContext) -> None:
    """Add the environment's opt-in guardrail resources (nothing without ``security:``). Runs after
    agents and resources: the recorder records the types they deploy."""
    env = ctx.project.config.environments.get(ctx.env)
    security = env.security if env is not None else None
    if security is None:
        return
    if security.security_hub:
        hub = build(HubProps, default_standards=True, tags=ctx.tags())
        ctx.graph.add(Resource(SECURITY_HUB, "aws.securityhub.hub", hub))
    if security.guardduty:
        detector = build(DetectorProps, features=[LAMBDA_PROTECTION], tags=ctx.tags())
        ctx.graph.add(Resource(GUARDDUTY, "aws.guardduty.detector", detector))
    if security.config_rules:
        _config_rules(ctx, security)


def rule_address(identifier: str) -> str:
    return RULE_PREFIX + identifier.lower().replace("_", "-")


def _config_rules(ctx: SynthContext, security: SecurityServices) -> None:
    bad = [r for r in security.config_rules if not RULE_ID.match(r)]
    if bad:
        raise ConfigError(
            [
                StrandsDeployError(
                    f"{r!r} is not an AWS Config managed rule identifier",
                    where=f"environments.{ctx.env}.security.config_rules",
                    fix="use the rule's identifier in capitals, e.g. LAMBDA_FUNCTION_PUBLIC_ACCESS_PROHIBITED",
                )
                for r in bad
            ]
        )
    recorder = _recorder(ctx)
    project = ctx.project.name
    for identifier in dict.fromkeys(security.config_rules):  # in order, once each
        scoped = identifier not in ACCOUNT_RULES
        props = build(
            ConfigRuleProps,
            name=physical_name(project, ctx.env, identifier.lower().replace("_", "-"), "config-rule"),
            identifier=identifier,
            scope_tag_key="strands:project" if scoped else None,
            scope_tag_value=project if scoped else None,
            description=f"strands-deploy: {identifier} for {project} ({ctx.env})",
            tags=ctx.tags(),
        )
        # a rule evaluates only what the recorder records: it comes after the recorder
        ctx.graph.add(Resource(rule_address(identifier), "aws.config.rule", props, depends_on={recorder}))


def _recorder(ctx: SynthContext) -> str:
    project, partition = ctx.project.name, partition_for(ctx.region)
    bucket = build(
        BucketProps,
        name=physical_name(project, ctx.env, f"config-{ctx.account}", "bucket"),
        retain=True,
        tags=ctx.tags(),
    )
    ctx.graph.add(Resource(CONFIG_BUCKET, "aws.s3.bucket", bucket))
    policy_name = physical_name(project, ctx.env, "config-delivery", "policy")
    role = build(
        RoleProps,
        name=physical_name(project, ctx.env, "config", "role"),
        trust_service="config.amazonaws.com",
        # AWS's policy for Config's role: what recording reads. Emulators (moto, the local cloud)
        # do not hold AWS's managed policies and record nothing: left out there.
        managed_policies=[]
        if ctx.emulated
        else [f"arn:{partition}:iam::aws:policy/service-role/AWS_ConfigRole"],
        inline_policies=[policy_name],
        description=f"AWS Config recorder of {project} ({ctx.env})",
        tags=ctx.tags(),
    )
    ctx.graph.add(Resource(CONFIG_ROLE, "aws.iam.role", role))
    bucket_arn = Ref(CONFIG_BUCKET, "arn")
    statements = [
        {
            "Sid": "ConfigDelivery",
            "Effect": "Allow",
            "Action": ["s3:PutObject", "s3:PutObjectAcl"],
            "Resource": [Join((bucket_arn, f"/AWSLogs/{ctx.account}/*"))],
            "Condition": {"StringLike": {"s3:x-amz-acl": "bucket-owner-full-control"}},
        },
        {
            "Sid": "ConfigBucketAcl",
            "Effect": "Allow",
            "Action": ["s3:GetBucketAcl"],
            "Resource": [bucket_arn],
        },
    ]
    policy = build(
        RolePolicyProps,
        role_name=Ref(CONFIG_ROLE, "name"),
        policy_name=policy_name,
        document={"Version": "2012-10-17", "Statement": statements},
    )
    ctx.graph.add(Resource(CONFIG_ROLE_POLICY, "aws.iam.role_policy", policy))
    recorded = sorted({CONFIG_TYPES[r.type] for r in ctx.graph if r.type in CONFIG_TYPES})
    props = build(
        RecorderProps,
        name=physical_name(project, ctx.env, "config", "recorder"),
        role_arn=Ref(CONFIG_ROLE, "arn"),
        bucket=Ref(CONFIG_BUCKET, "name"),
        resource_types=recorded,
    )
    # the delivery channel is checked against the role's permissions: the policy comes first
    ctx.graph.add(Resource(CONFIG_RECORDER, "aws.config.recorder", props, depends_on={CONFIG_ROLE_POLICY}))
    return CONFIG_RECORDER
