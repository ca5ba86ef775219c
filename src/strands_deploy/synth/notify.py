"""Where alarms notify: `alarms: {notify: [email: …, sns: ARN, webhook: {secret: NAME}]}`.

An agent's `alarms.notify` wins over its environment's (`environments.<e>.alarms.notify`). The
targets become alarm (and OK) actions:
- ``sns: ARN``: the user's own topic, used as an action directly;
- ``email:``: a subscription to the environment's alarm topic (``shared.alarms``), which AWS
  confirms by mail;
- ``webhook:``: a small forwarder function (``shared.notify-<secret>``: the builtin
  ``runtime/builtin/notify``) subscribed to that topic, reading the webhook URL from the secret at
  run time, with its own role allowed exactly that secret and its logs.
"""

from __future__ import annotations

from typing import Any

from strands_deploy.config.schema import AgentConfig, AlarmsConfig, NotifyTarget
from strands_deploy.packaging.hashing import code_hash, code_root
from strands_deploy.providers.base import stable_hash
from strands_deploy.providers.iam_role import RoleProps
from strands_deploy.providers.iam_role_policy import RolePolicyProps
from strands_deploy.providers.lambda_function import FunctionProps
from strands_deploy.providers.log_group import LogGroupProps
from strands_deploy.providers.subscription import SubscriptionProps
from strands_deploy.providers.topic import TopicProps
from strands_deploy.synth.context import SynthContext
from strands_deploy.synth.graph import Join, Ref, Resource
from strands_deploy.synth.links import resource_address
from strands_deploy.synth.naming import physical_name
from strands_deploy.synth.props import build

TOPIC = "shared.alarms"
FORWARDER_CODE = "builtin:notify"


def alarms_enabled(ctx: SynthContext, agent: AgentConfig) -> bool:
    if isinstance(agent.alarms, AlarmsConfig):
        return True
    return agent.alarms if agent.alarms is not None else ctx.project.config.defaults.alarms


def targets(ctx: SynthContext, agent: AgentConfig) -> list[NotifyTarget]:
    if isinstance(agent.alarms, AlarmsConfig):
        return list(agent.alarms.notify)
    env = ctx.project.config.environments.get(ctx.env)
    return list(env.alarms.notify) if env is not None and env.alarms is not None else []


def alarm_actions(ctx: SynthContext, agent: AgentConfig) -> list[Any]:
    """The alarm actions for ``agent``: topic ARNs, building what the targets need (once)."""
    actions: list[Any] = []
    for target in targets(ctx, agent):
        if target.sns is not None:
            action: Any = target.sns
        else:
            topic = _topic(ctx)
            action = Ref(topic, "arn")
            if target.email is not None:
                _subscription(ctx, f"email-{stable_hash(target.email, 8)}", "email", target.email)
            elif target.webhook is not None:
                function = _forwarder(ctx, target.webhook.secret)
                _subscription(ctx, f"notify-{target.webhook.secret}", "lambda", Ref(function, "arn"))
        if action not in actions:
            actions.append(action)
    return actions


def _topic(ctx: SynthContext) -> str:
    if TOPIC not in ctx.graph:
        name = physical_name(ctx.project.name, ctx.env, "alarms", "topic")
        ctx.graph.add(Resource(TOPIC, "aws.sns.topic", build(TopicProps, name=name, tags=ctx.tags())))
    return TOPIC


def _subscription(ctx: SynthContext, key: str, protocol: str, endpoint: Any) -> None:
    address = f"{TOPIC}-{key}"
    if address not in ctx.graph:
        props = build(SubscriptionProps, topic_arn=Ref(TOPIC, "arn"), protocol=protocol, endpoint=endpoint)
        ctx.graph.add(Resource(address, "aws.sns.subscription", props))


def _forwarder(ctx: SynthContext, secret: str) -> str:
    """The webhook forwarder of one secret: logs, role, policy (that secret only), function."""
    prefix = f"shared.notify-{secret}"
    function = f"{prefix}.function"
    if function in ctx.graph:
        return function
    p, env, d = ctx.project.name, ctx.env, ctx.project.config.defaults
    fn_name = physical_name(p, env, f"notify-{secret}", "function")
    policy_name = physical_name(p, env, f"notify-{secret}", "policy")
    tags = ctx.tags()
    logs = ctx.graph.add(
        Resource(
            f"{prefix}.logs",
            "aws.logs.log_group",
            build(LogGroupProps, name=f"/aws/lambda/{fn_name}", retention_days=d.log_retention, tags=tags),
        )
    )
    role = ctx.graph.add(
        Resource(
            f"{prefix}.role",
            "aws.iam.role",
            build(
                RoleProps,
                name=physical_name(p, env, f"notify-{secret}", "role"),
                trust_service="lambda.amazonaws.com",
                managed_policies=[],
                inline_policies=[policy_name],
                description=f"strands-deploy alarm webhook forwarder ({secret})",
                tags=tags,
            ),
        )
    )
    secret_arn = Ref(resource_address(secret, "secret"), "arn")
    statements = [
        {
            "Sid": "Logs",
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": [Ref(logs.address, "arn"), Join((Ref(logs.address, "arn"), ":*"))],
        },
        {
            "Sid": "WebhookUrl",
            "Effect": "Allow",
            "Action": ["secretsmanager:GetSecretValue"],
            "Resource": [secret_arn],
        },
    ]
    policy = ctx.graph.add(
        Resource(
            f"{prefix}.policy",
            "aws.iam.role_policy",
            build(
                RolePolicyProps,
                role_name=Ref(role.address, "name"),
                policy_name=policy_name,
                document={"Version": "2012-10-17", "Statement": statements},
            ),
        )
    )
    props = build(
        FunctionProps,
        name=fn_name,
        role_arn=Ref(role.address, "arn"),
        runtime=d.runtime,
        handler="notify.handler",
        memory=128,
        timeout=30,
        architecture=d.architecture,
        environment={"STRANDS_WEBHOOK_SECRET_ARN": secret_arn},
        layers=[],
        code={
            "path": FORWARDER_CODE,
            "hash": code_hash(code_root(ctx.project.root, FORWARDER_CODE)),
            "entry": "notify.py:handler",
        },
        logging_group=Ref(logs.address, "name"),
        description=f"strands-deploy: alarm notifications to the webhook in secret {secret}",
        tags=tags,
        exclusive_access=True,
    )
    ctx.graph.add(Resource(function, "aws.lambda.function", props, depends_on={policy.address}))
    return function
