"""``bootstrap ci-role``: the IAM OIDC provider of a CI system and a deploy role only that
repository's pipelines can assume, with the permissions the tool's own calls need.

Each step reads first and changes only what differs (a second run changes nothing and returns
``[]``), like ``state bootstrap``. Permissions are scoped by the tool's naming
(``{project}-{env}-*``, see ``synth/naming.py``) wherever the service supports resource-level
permissions; the state bucket, lock table and KMS key of the environment are granted by name.
``DEPLOY_ACTIONS`` lists the API operations the deployer calls; a test scans the providers'
source to keep it complete.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from strands_deploy.aws.arns import partition_for
from strands_deploy.aws.errors import call, call_or_none

if TYPE_CHECKING:
    from strands_deploy.aws.session import AwsContext

AUDIENCE = "sts.amazonaws.com"
ISSUERS = {"github": "https://token.actions.githubusercontent.com", "gitlab": "https://gitlab.com"}
POLICY_NAME = "strands-deploy-ci"
MAX_SESSION_SECONDS = 3600

# service -> the operations the deployer, the refresh and the state backends call
DEPLOY_ACTIONS: dict[str, list[str]] = {
    "lambda": [
        "AddPermission", "CreateAlias", "CreateEventSourceMapping", "CreateFunction",
        "CreateFunctionUrlConfig", "DeleteAlias", "DeleteEventSourceMapping", "DeleteFunction",
        "DeleteFunctionConcurrency", "DeleteFunctionUrlConfig", "DeleteLayerVersion", "GetAlias",
        "GetEventSourceMapping", "GetFunction", "GetFunctionConfiguration", "GetFunctionUrlConfig",
        "GetLayerVersion", "GetPolicy", "ListAliases", "ListEventSourceMappings", "ListLayerVersions",
        "ListVersionsByFunction", "PublishLayerVersion", "PublishVersion", "PutFunctionConcurrency",
        "RemovePermission", "TagResource", "UntagResource", "UpdateAlias", "UpdateEventSourceMapping",
        "UpdateFunctionCode", "UpdateFunctionConfiguration", "UpdateFunctionUrlConfig", "ListTags",
        "PutProvisionedConcurrencyConfig", "GetProvisionedConcurrencyConfig",
        "DeleteProvisionedConcurrencyConfig",
    ],
    "iam": [
        "AttachRolePolicy", "CreateRole", "DeleteRole", "DeleteRolePolicy", "DetachRolePolicy",
        "GetRole", "GetRolePolicy", "ListAttachedRolePolicies", "ListInstanceProfilesForRole",
        "ListRolePolicies", "ListRoleTags", "PutRolePolicy", "RemoveRoleFromInstanceProfile", "TagRole",
        "UntagRole", "UpdateAssumeRolePolicy", "UpdateRole",
    ],
    "logs": [
        "CreateLogGroup", "DeleteLogGroup", "DescribeLogGroups", "ListTagsForResource",
        "PutRetentionPolicy", "TagResource", "UntagResource", "FilterLogEvents",
    ],
    "sqs": [
        "CreateQueue", "DeleteQueue", "GetQueueAttributes", "GetQueueUrl", "ListQueueTags",
        "SetQueueAttributes", "TagQueue", "UntagQueue",
    ],
    "sns": [
        "CreateTopic", "DeleteTopic", "GetSubscriptionAttributes", "GetTopicAttributes",
        "ListSubscriptionsByTopic", "ListTagsForResource", "Subscribe", "TagResource", "Unsubscribe",
        "UntagResource",
    ],
    "dynamodb": [
        "CreateTable", "DeleteTable", "DescribeContinuousBackups", "DescribeTable", "ListTagsOfResource",
        "TagResource", "UntagResource", "UpdateContinuousBackups", "UpdateTable", "DescribeTimeToLive",
        "UpdateTimeToLive",
    ],
    "s3": [
        "CreateBucket", "DeleteBucket", "DeleteBucketPolicy", "GetBucketPolicy", "GetBucketTagging",
        "GetBucketVersioning", "GetEncryptionConfiguration", "GetLifecycleConfiguration",
        "GetBucketNotification", "GetBucketPublicAccessBlock", "ListBucket", "ListBucketVersions",
        "PutBucketNotification", "PutBucketPolicy", "PutBucketTagging", "PutBucketVersioning",
        "PutEncryptionConfiguration", "PutLifecycleConfiguration", "PutBucketPublicAccessBlock",
    ],
    "secretsmanager": [
        "CreateSecret", "DeleteSecret", "DescribeSecret", "PutSecretValue", "RestoreSecret",
        "TagResource", "UntagResource",
    ],
    "ssm": [
        "AddTagsToResource", "DeleteParameter", "ListTagsForResource", "PutParameter",
        "RemoveTagsFromResource", "GetParameter",
    ],
    "events": [
        "DeleteRule", "DescribeRule", "ListTagsForResource", "ListTargetsByRule", "PutRule",
        "PutTargets", "RemoveTargets", "TagResource", "UntagResource",
    ],
    "cloudwatch": [
        "DeleteAlarms", "DescribeAlarms", "ListTagsForResource", "PutMetricAlarm", "TagResource",
        "UntagResource",
    ],
}  # fmt: skip
# Opt-in, account-level services (`budget:`, `security:` on an environment): their resources
# have account-wide or random ids, so they are granted on "*" (docs/ci.md)
ACCOUNT_ACTIONS: dict[str, list[str]] = {
    "budgets": [
        "CreateBudget", "DeleteBudget", "DescribeBudget", "UpdateBudget", "CreateNotification",
        "DeleteNotification", "DescribeNotificationsForBudget", "CreateSubscriber", "DeleteSubscriber",
        "DescribeSubscribersForNotification", "ModifyBudget", "ViewBudget", "TagResource",
        "UntagResource", "ListTagsForResource",
    ],
    "ce": [
        "CreateAnomalyMonitor", "DeleteAnomalyMonitor", "GetAnomalyMonitors", "UpdateAnomalyMonitor",
        "CreateAnomalySubscription", "DeleteAnomalySubscription", "GetAnomalySubscriptions",
        "UpdateAnomalySubscription", "TagResource", "UntagResource", "ListTagsForResource",
    ],
    "config": [
        "PutConfigurationRecorder", "DescribeConfigurationRecorders",
        "DescribeConfigurationRecorderStatus", "StartConfigurationRecorder", "StopConfigurationRecorder",
        "DeleteConfigurationRecorder", "PutDeliveryChannel", "DescribeDeliveryChannels",
        "DeleteDeliveryChannel", "PutConfigRule", "DescribeConfigRules", "DeleteConfigRule",
        "ListTagsForResource", "TagResource", "UntagResource",
    ],
    "securityhub": [
        "EnableSecurityHub", "DescribeHub", "DisableSecurityHub", "TagResource", "UntagResource",
        "ListTagsForResource",
    ],
    "guardduty": [
        "CreateDetector", "ListDetectors", "GetDetector", "UpdateDetector", "DeleteDetector",
        "TagResource", "UntagResource", "ListTagsForResource",
    ],
}  # fmt: skip
# operations that name no resource (listing, the caller's identity, tag search): Resource "*"
UNSCOPED_ACTIONS = [
    "sts:GetCallerIdentity",
    "tag:GetResources",
    "dynamodb:ListTables",
    "s3:ListAllMyBuckets",
    "lambda:ListFunctions",
    "logs:DescribeLogGroups",
    "sns:ListTopics",
    "ssm:DescribeParameters",
    "kms:ListAliases",
    "kms:ListKeys",
    "apigateway:GET",
]
# API Gateway v2 has no name-scoped ARNs (its ids are random): the HTTP APIs of the account
APIGATEWAY_ACTIONS = ["apigateway:GET", "apigateway:POST", "apigateway:PATCH", "apigateway:DELETE",
                      "apigateway:PUT", "apigateway:TagResource", "apigateway:UntagResource"]  # fmt: skip
STATE_OBJECT_ACTIONS = ["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject", "s3:DeleteObject"]
STATE_BUCKET_ACTIONS = ["s3:ListBucket", "s3:ListBucketVersions", "s3:GetBucketVersioning"]
LOCK_TABLE_ACTIONS = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:DescribeTable"]
KMS_ACTIONS = ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey"]


@dataclass(frozen=True)
class CiRoleSpec:
    """What the role is for: which repository's pipelines deploy which project environment."""

    provider: str  # github | gitlab
    repo: str  # owner/name (GitHub) or group/project (GitLab)
    project: str
    env: str
    issuer: str | None = None  # a self-managed GitLab's URL; default ISSUERS[provider]
    state_bucket: str | None = None
    state_key: str | None = None
    lock_table: str | None = None
    kms_key: str | None = None
    state_region: str | None = None  # default: the environment's region
    # account-level services the environment turns on (keys of ACCOUNT_ACTIONS)
    account_services: tuple[str, ...] = ()

    @property
    def issuer_url(self) -> str:
        return (self.issuer or ISSUERS[self.provider]).rstrip("/")

    @property
    def role_name(self) -> str:
        name = f"strands-deploy-{self.project}-{self.env}-ci"
        return name if len(name) <= 64 else name[:55] + "-" + _digest(name)

    def subjects(self) -> list[str]:
        """The token subjects (``sub`` claim) allowed to assume the role."""
        if self.provider == "github":
            # the deploy job names the GitHub environment (its token's sub is environment:ENV);
            # the plan job runs on pull requests of this repository (forks get no token)
            return [f"repo:{self.repo}:environment:{self.env}", f"repo:{self.repo}:pull_request"]
        # GitLab's sub names the branch, not the environment: merge request pipelines run on
        # their source branch, so any branch of this project (protect the deploy with rules)
        return [f"project_path:{self.repo}:ref_type:branch:ref:*"]


def _digest(text: str) -> str:
    import hashlib

    return hashlib.sha256(text.encode()).hexdigest()[:8]


def trust_policy(spec: CiRoleSpec, provider_arn: str) -> dict[str, Any]:
    host = spec.issuer_url.removeprefix("https://")
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Federated": provider_arn},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {
                    "StringEquals": {f"{host}:aud": AUDIENCE},
                    "StringLike": {f"{host}:sub": spec.subjects()},
                },
            }
        ],
    }


def deploy_policy(spec: CiRoleSpec, account: str, region: str) -> dict[str, Any]:
    """The role's permissions: the deployer's calls on ``{project}-{env}-*`` resources, the
    remote state's bucket/key, lock table and KMS key."""
    p, prefix = partition_for(region), f"{spec.project}-{spec.env}-"
    at = f"{region}:{account}"
    scoped = {
        "lambda": [f"arn:{p}:lambda:{at}:function:{prefix}*", f"arn:{p}:lambda:{at}:layer:{prefix}*",
                   f"arn:{p}:lambda:{at}:event-source-mapping:*"],
        "iam": [f"arn:{p}:iam::{account}:role/{prefix}*", f"arn:{p}:iam::{account}:policy/{prefix}*"],
        "logs": [f"arn:{p}:logs:{at}:log-group:/aws/lambda/{prefix}*",
                 f"arn:{p}:logs:{at}:log-group:{prefix}*"],
        "sqs": [f"arn:{p}:sqs:{at}:{prefix}*"],
        "sns": [f"arn:{p}:sns:{at}:{prefix}*"],
        "dynamodb": [f"arn:{p}:dynamodb:{at}:table/{prefix}*"],
        "s3": [f"arn:{p}:s3:::{prefix}*"],
        "secretsmanager": [f"arn:{p}:secretsmanager:{at}:secret:{prefix}*"],
        "ssm": [f"arn:{p}:ssm:{at}:parameter/{prefix}*"],
        "events": [f"arn:{p}:events:{at}:rule/{prefix}*"],
        "cloudwatch": [f"arn:{p}:cloudwatch:{at}:alarm:{prefix}*"],
    }  # fmt: skip
    statements: list[dict[str, Any]] = [
        {
            "Sid": _sid(service),
            "Effect": "Allow",
            "Action": [f"{service}:{a}" for a in sorted(set(actions))],
            "Resource": scoped[service],
        }
        for service, actions in DEPLOY_ACTIONS.items()
    ]
    statements += [
        {
            "Sid": "PassOnlyTheAgentsRolesToLambda",
            "Effect": "Allow",
            "Action": "iam:PassRole",
            "Resource": f"arn:{p}:iam::{account}:role/{prefix}*",
            "Condition": {"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}},
        },
        {"Sid": "HttpApis", "Effect": "Allow", "Action": APIGATEWAY_ACTIONS,
         "Resource": [f"arn:{p}:apigateway:{region}::/apis", f"arn:{p}:apigateway:{region}::/apis/*",
                      f"arn:{p}:apigateway:{region}::/tags/*"]},
        {"Sid": "ReadsWithoutResource", "Effect": "Allow", "Action": UNSCOPED_ACTIONS, "Resource": "*"},
    ]  # fmt: skip
    if spec.account_services:  # only what the environment turns on (`budget:`, `security:`)
        statements += [
            {"Sid": "AccountLevelServices", "Effect": "Allow", "Resource": "*",
             "Action": [f"{svc}:{a}" for svc in sorted(spec.account_services) for a in ACCOUNT_ACTIONS[svc]]},
            {"Sid": "ServiceLinkedRoles", "Effect": "Allow", "Action": "iam:CreateServiceLinkedRole",
             "Resource": f"arn:{p}:iam::{account}:role/aws-service-role/*"},
        ]  # fmt: skip
    statements += _state_statements(spec, account, region)
    return {"Version": "2012-10-17", "Statement": statements}


def _state_statements(spec: CiRoleSpec, account: str, region: str) -> list[dict[str, Any]]:
    region = spec.state_region or region
    p = partition_for(region)
    out: list[dict[str, Any]] = []
    if spec.state_bucket:
        key = spec.state_key or f"{spec.project}/{spec.env}.json"
        out.append({"Sid": "StateBucket", "Effect": "Allow", "Action": STATE_BUCKET_ACTIONS,
                    "Resource": f"arn:{p}:s3:::{spec.state_bucket}"})  # fmt: skip
        # the state object, its lock object and its journal/history objects next to it
        out.append({"Sid": "StateObjects", "Effect": "Allow", "Action": STATE_OBJECT_ACTIONS,
                    "Resource": f"arn:{p}:s3:::{spec.state_bucket}/{key}*"})  # fmt: skip
    if spec.lock_table:
        out.append({"Sid": "StateLockTable", "Effect": "Allow", "Action": LOCK_TABLE_ACTIONS,
                    "Resource": f"arn:{p}:dynamodb:{region}:{account}:table/{spec.lock_table}"})  # fmt: skip
    if spec.kms_key:
        key_arn = spec.kms_key
        if not key_arn.startswith("arn:"):
            key_arn = f"arn:{p}:kms:{region}:{account}:{'alias/' if not key_arn.startswith('alias/') else ''}{key_arn}"
        resources = [key_arn] if ":key/" in key_arn else [f"arn:{p}:kms:{region}:{account}:key/*"]
        out.append({"Sid": "StateKey", "Effect": "Allow", "Action": KMS_ACTIONS, "Resource": resources})
    return out


def _sid(service: str) -> str:
    return "Deploy" + "".join(part.capitalize() for part in service.split("-"))


def ensure_ci_role(aws: AwsContext, spec: CiRoleSpec, account: str) -> tuple[str, list[str]]:
    """Create or update the OIDC provider and the role; (role ARN, the changes made)."""
    iam = aws.client("iam")
    provider_arn, changes = ensure_oidc_provider(iam, spec.issuer_url)
    trust = trust_policy(spec, provider_arn)
    policy = deploy_policy(spec, account, aws.region)
    role_arn, role_changes = _ensure_role(iam, spec, trust, policy)
    return role_arn, changes + role_changes


def ensure_oidc_provider(iam: Any, issuer: str) -> tuple[str, list[str]]:
    """The ARN of the account's OIDC provider for ``issuer`` (created, or given our audience)."""
    host = issuer.removeprefix("https://")
    where = f"oidc-provider/{host}"
    found = call(where, iam, "list_open_id_connect_providers")["OpenIDConnectProviderList"]
    existing = next((p["Arn"] for p in found if p["Arn"].endswith(f":oidc-provider/{host}")), None)
    if existing is None:
        # AWS checks these issuers' certificates itself; the thumbprint is a legacy field
        resp = call(
            where,
            iam,
            "create_open_id_connect_provider",
            Url=issuer,
            ClientIDList=[AUDIENCE],
            ThumbprintList=["0" * 40],
        )
        return str(resp["OpenIDConnectProviderArn"]), [f"created the IAM OIDC provider for {host}"]
    got = call(where, iam, "get_open_id_connect_provider", OpenIDConnectProviderArn=existing)
    if AUDIENCE not in got.get("ClientIDList", []):
        call(where, iam, "add_client_id_to_open_id_connect_provider", OpenIDConnectProviderArn=existing,
             ClientID=AUDIENCE)  # fmt: skip
        return existing, [f"added the audience {AUDIENCE} to the OIDC provider for {host}"]
    return existing, []


def _ensure_role(
    iam: Any, spec: CiRoleSpec, trust: dict[str, Any], policy: dict[str, Any]
) -> tuple[str, list[str]]:
    name, changes = spec.role_name, []
    where = f"role/{name}"
    got = call_or_none(where, iam, "get_role", RoleName=name)
    if got is None:
        role = call(
            where,
            iam,
            "create_role",
            RoleName=name,
            AssumeRolePolicyDocument=json.dumps(trust),
            Description=f"strands-deploy CI: {spec.provider} {spec.repo} deploys {spec.project}/{spec.env}",
            MaxSessionDuration=MAX_SESSION_SECONDS,
            Tags=[{"Key": "strands-deploy:project", "Value": spec.project},
                  {"Key": "strands-deploy:env", "Value": spec.env}],
        )["Role"]  # fmt: skip
        changes.append(f"created the role {name}")
    else:
        role = got["Role"]
        if _document(role.get("AssumeRolePolicyDocument")) != trust:
            call(where, iam, "update_assume_role_policy", RoleName=name, PolicyDocument=json.dumps(trust))
            changes.append(f"updated who may assume {name} (its trust policy)")
    current = call_or_none(where, iam, "get_role_policy", RoleName=name, PolicyName=POLICY_NAME)
    current_doc = _document(current["PolicyDocument"]) if current else None
    if current_doc != policy:
        call(where, iam, "put_role_policy", RoleName=name, PolicyName=POLICY_NAME,
             PolicyDocument=json.dumps(policy))  # fmt: skip
        changes.append(f"{'updated' if current_doc else 'wrote'} the permissions of {name} ({POLICY_NAME})")
    return str(role["Arn"]), changes


def _document(doc: Any) -> dict[str, Any] | None:
    """A policy document as a dict (boto3 returns it decoded, or URL-encoded JSON text)."""
    if doc is None:
        return None
    if isinstance(doc, str):
        from urllib.parse import unquote

        return dict(json.loads(unquote(doc)))
    return dict(doc)
