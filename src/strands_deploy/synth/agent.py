"""The Agent construct: one agent in strands.yaml becomes its log group, policy, layer, function,
alias, endpoint (URL or HTTP route), alarms and queue trigger.

One small builder per resource; each builds its properties through the provider's model
(:func:`~strands_deploy.synth.props.build`) and adds the resource to the graph.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from strands_deploy.config.schema import AgentConfig
from strands_deploy.packaging.build import read_requirements
from strands_deploy.packaging.hashing import code_hash, file_hash
from strands_deploy.providers.alarm import AlarmProps
from strands_deploy.providers.event_source import EventSourceProps
from strands_deploy.providers.http_route import LambdaRouteProps
from strands_deploy.providers.iam_role import RoleProps
from strands_deploy.providers.iam_role_policy import RolePolicyProps
from strands_deploy.providers.lambda_alias import AliasProps
from strands_deploy.providers.lambda_function import FunctionProps
from strands_deploy.providers.lambda_layer import LayerProps
from strands_deploy.providers.lambda_url import FunctionUrlProps
from strands_deploy.providers.log_group import LogGroupProps
from strands_deploy.synth.context import SynthContext
from strands_deploy.synth.graph import Join, Ref, Resource
from strands_deploy.synth.links import known_outputs, link_env, link_statement, resource_address
from strands_deploy.synth.naming import physical_name
from strands_deploy.synth.props import build

HANDLER = "_strands_runtime.handler"
SHARED_ROLE = "shared.execution-role"
SESSIONS = "shared.sessions"
HTTP_API = "shared.http-api"

BEDROCK_ACTIONS = ["bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"]
BEDROCK_ARNS = ["arn:aws:bedrock:*::foundation-model/*", "arn:aws:bedrock:*:*:inference-profile/*"]

# alarm key → (metric, statistic, comparison); thresholds and periods depend on the agent
ALARMS = {
    "errors": ("Errors", "Sum", "GreaterThanOrEqualToThreshold"),
    "throttles": ("Throttles", "Sum", "GreaterThanOrEqualToThreshold"),
    "duration": ("Duration", "Maximum", "GreaterThanOrEqualToThreshold"),
}


@dataclass(frozen=True)
class AgentSpec:
    """One agent's settings with the project defaults applied, shared by the builders below."""

    name: str
    config: AgentConfig
    fn_name: str
    runtime: str
    architecture: str
    timeout: int
    folder: Path
    tags: dict[str, str]

    @property
    def prefix(self) -> str:
        return f"agent.{self.name}"


def synth_agent(ctx: SynthContext, name: str, agent: AgentConfig) -> None:
    a = _spec(ctx, name, agent)
    logs = _log_group(ctx, a)
    role_address = _role(ctx, a)
    statements = [*_base_statements(logs), *_link_statements(ctx, a)]
    statements += [*_sessions_statements(ctx, a), *_trigger_and_tracing_statements(a)]
    statements.extend(agent.permissions)
    policy = _policy(ctx, a, role_address, statements)
    layers = _layers(ctx, a)
    function = _function(ctx, a, role_address, logs, policy, layers, _environment(ctx, a))
    alias = _alias(ctx, a, function)
    _endpoint(ctx, a, function, alias)
    _trigger(ctx, a, alias)
    _alarms(ctx, a)


def _spec(ctx: SynthContext, name: str, agent: AgentConfig) -> AgentSpec:
    cfg = ctx.project.config
    d = cfg.defaults
    return AgentSpec(
        name=name,
        config=agent,
        fn_name=physical_name(cfg.project, ctx.env, name, "function"),
        runtime=agent.runtime or d.runtime,
        architecture=agent.architecture or d.architecture,
        timeout=agent.timeout or d.timeout,
        folder=ctx.project.root / agent.path,
        tags=ctx.tags(agent=name),
    )


def _add(
    ctx: SynthContext, a: AgentSpec, suffix: str, rtype: str, props: dict[str, Any], **kw: Any
) -> Resource:
    return ctx.graph.add(Resource(f"{a.prefix}.{suffix}", rtype, props, agent=a.name, **kw))


def _log_group(ctx: SynthContext, a: AgentSpec) -> Resource:
    props = build(
        LogGroupProps,
        name=f"/aws/lambda/{a.fn_name}",
        retention_days=ctx.project.config.defaults.log_retention,
        tags=a.tags,
    )
    return _add(ctx, a, "logs", "aws.logs.log_group", props)


def _role(ctx: SynthContext, a: AgentSpec) -> str:
    """The address of the agent's execution role: its own, or the project's shared one."""
    if a.config.role != "own":
        return ctx.shared_role()
    props = build(
        RoleProps,
        name=physical_name(ctx.project.config.project, ctx.env, a.name, "role"),
        trust_service="lambda.amazonaws.com",
        managed_policies=[],
        description=f"strands-deploy execution role of agent {a.name}",
        tags=a.tags,
    )
    return _add(ctx, a, "role", "aws.iam.role", props).address


# --- policy statements ----------------------------------------------------------------------------


def _base_statements(logs: Resource) -> list[dict[str, Any]]:
    """Writing its own logs and invoking Bedrock models: what every agent needs."""
    return [
        {
            "Sid": "Logs",
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": [Ref(logs.address, "arn"), Join((Ref(logs.address, "arn"), ":*"))],
        },
        {"Sid": "Models", "Effect": "Allow", "Action": BEDROCK_ACTIONS, "Resource": BEDROCK_ARNS},
    ]


def _known_links(ctx: SynthContext, a: AgentSpec) -> list[tuple[str, str, dict[str, str]]]:
    """(link name, resource type, outputs known from the deterministic name) of each link."""
    cfg = ctx.project.config
    region = ctx.project.region(ctx.env)
    out: list[tuple[str, str, dict[str, str]]] = []
    for link in a.config.link:
        rtype = cfg.resources[link].type
        name = ctx.graph.resources[resource_address(link, rtype)].props["name"]
        out.append((link, rtype, known_outputs(rtype, name, region, ctx.account)))
    return out


def _link_statements(ctx: SynthContext, a: AgentSpec) -> list[dict[str, Any]]:
    return [link_statement(link, rtype, known) for link, rtype, known in _known_links(ctx, a)]


def _sessions_statements(ctx: SynthContext, a: AgentSpec) -> list[dict[str, Any]]:
    """Read/write under the agent's own prefix of the shared sessions bucket."""
    if not a.config.sessions:
        return []
    sessions = ctx.sessions_bucket()
    return [
        {
            "Sid": "Sessions",
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
            "Resource": [Join((Ref(sessions, "arn"), f"/{a.name}/*"))],
        },
        {
            "Sid": "SessionsList",
            "Effect": "Allow",
            "Action": ["s3:ListBucket"],
            "Resource": [Ref(sessions, "arn")],
            "Condition": {"StringLike": {"s3:prefix": [f"{a.name}/*"]}},
        },
    ]


def _trigger_and_tracing_statements(a: AgentSpec) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    if a.config.trigger:
        actions = [
            "sqs:ReceiveMessage",
            "sqs:DeleteMessage",
            "sqs:GetQueueAttributes",
            "sqs:ChangeMessageVisibility",
        ]
        queue_arn = Ref(f"resource.{a.config.trigger}.queue", "arn")
        out.append({"Sid": "Trigger", "Effect": "Allow", "Action": actions, "Resource": [queue_arn]})
    if a.config.tracing:
        actions = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
        out.append({"Sid": "Tracing", "Effect": "Allow", "Action": actions, "Resource": ["*"]})
    return out


def _policy(ctx: SynthContext, a: AgentSpec, role_address: str, statements: list[dict[str, Any]]) -> Resource:
    props = build(
        RolePolicyProps,
        role_name=Ref(role_address, "name"),
        policy_name=physical_name(ctx.project.config.project, ctx.env, a.name, "policy"),
        document={"Version": "2012-10-17", "Statement": statements},
    )
    return _add(ctx, a, "policy", "aws.iam.role_policy", props)


# --- code, function, alias ------------------------------------------------------------------------


def _layers(ctx: SynthContext, a: AgentSpec) -> list[Any]:
    """The dependency layer, when the agent's requirements file lists anything: its ARN, as a list."""
    req_path = a.folder / a.config.requirements
    if not read_requirements(req_path):
        return []
    props = build(
        LayerProps,
        name=physical_name(ctx.project.config.project, ctx.env, f"{a.name}-deps", "layer"),
        requirements_file=req_path.relative_to(ctx.project.root).as_posix(),
        requirements_hash=file_hash(req_path, ctx.target, a.runtime, a.architecture),
        runtime=a.runtime,
        architecture=a.architecture,
    )
    return [Ref(_add(ctx, a, "deps", "aws.lambda.layer", props).address, "arn")]


def _environment(ctx: SynthContext, a: AgentSpec) -> dict[str, Any]:
    """The function's variables: the agent's own, the runtime's, one or two per link, sessions."""
    env: dict[str, Any] = {
        **a.config.environment,
        "STRANDS_ENTRY": a.config.entry,
        "STRANDS_AGENT_NAME": a.name,
    }
    for link, rtype, known in _known_links(ctx, a):
        env.update(link_env(link, rtype, known))
    if a.config.sessions:
        env["STRANDS_SESSIONS_BUCKET"] = Ref(ctx.sessions_bucket(), "name")
        env["STRANDS_SESSIONS_PREFIX"] = f"{a.name}/"
    return env


def _function(
    ctx: SynthContext,
    a: AgentSpec,
    role_address: str,
    logs: Resource,
    policy: Resource,
    layers: list[Any],
    environment: dict[str, Any],
) -> Resource:
    agent = a.config
    props = build(
        FunctionProps,
        name=a.fn_name,
        role_arn=Ref(role_address, "arn"),
        runtime=a.runtime,
        handler=HANDLER,
        memory=agent.memory or ctx.project.config.defaults.memory,
        timeout=a.timeout,
        architecture=a.architecture,
        environment=environment,
        layers=layers,
        code={"path": agent.path, "hash": code_hash(a.folder), "entry": agent.entry},
        reserved_concurrency=agent.reserved_concurrency,
        tracing="Active" if agent.tracing else "PassThrough",
        dead_letter_arn=None,
        logging_group=Ref(logs.address, "name"),
        description=agent.description or f"strands agent {a.name}",
        tags=a.tags,
    )
    return _add(ctx, a, "function", "aws.lambda.function", props, depends_on={policy.address})


def _alias(ctx: SynthContext, a: AgentSpec, function: Resource) -> Resource:
    props = build(
        AliasProps,
        function_name=Ref(function.address, "name"),
        name="live",
        revision=Ref(function.address, "revision"),
    )
    # the version that serves traffic is published only once its linked data exists
    linked = {resource_address(link, rtype) for link, rtype, _ in _known_links(ctx, a)}
    return _add(ctx, a, "alias", "aws.lambda.alias", props, depends_on=linked)


# --- endpoint, trigger, alarms --------------------------------------------------------------------


def _endpoint(ctx: SynthContext, a: AgentSpec, function: Resource, alias: Resource) -> None:
    """A function URL on the alias (``expose: url``) or a route of the shared HTTP API (``http``)."""
    agent = a.config
    if agent.expose == "url":
        props = build(
            FunctionUrlProps,
            function_name=Ref(function.address, "name"),
            qualifier="live",
            auth=agent.auth,
            cors=agent.cors.model_dump() if agent.cors else None,
        )
        _add(ctx, a, "url", "aws.lambda.url", props, depends_on={alias.address})
    elif agent.expose == "http":
        props = build(
            LambdaRouteProps,
            api_id=Ref(ctx.http_api(), "api_id"),
            route_key=f"POST /agents/{a.name}",
            function_arn=Ref(alias.address, "arn"),
            function_name=Ref(function.address, "name"),
            qualifier="live",
        )
        _add(ctx, a, "route", "aws.apigw.lambda_route", props)


def _trigger(ctx: SynthContext, a: AgentSpec, alias: Resource) -> None:
    """The queue → alias event source mapping (``trigger: <queue>``), one message per invocation."""
    queue = a.config.trigger
    if not queue:
        return
    props = build(
        EventSourceProps,
        function_name=Ref(alias.address, "arn"),
        source_arn=Ref(f"resource.{queue}.queue", "arn"),
        batch_size=1,
    )
    _add(ctx, a, f"trigger-{queue}", "aws.lambda.event_source", props)


def _alarms(ctx: SynthContext, a: AgentSpec) -> None:
    """Errors, throttles and near-timeout duration alarms on the function (unless ``alarms: false``)."""
    d = ctx.project.config.defaults
    if not (a.config.alarms if a.config.alarms is not None else d.alarms):
        return
    thresholds = {"errors": 1, "throttles": 1, "duration": int(a.timeout * 1000 * 0.9)}
    for key, (metric, stat, comparison) in ALARMS.items():
        props = build(
            AlarmProps,
            name=physical_name(ctx.project.config.project, ctx.env, f"{a.name}-{key}", "alarm"),
            namespace="AWS/Lambda",
            metric_name=metric,
            dimensions={"FunctionName": a.fn_name},
            statistic=stat,
            period=300 if key != "duration" else 60,
            evaluation_periods=1,
            threshold=thresholds[key],
            comparison=comparison,
            treat_missing_data="notBreaching",
            tags=a.tags,
        )
        # no dependency on the function: an alarm needs only its name, and PutMetricAlarm's
        # 3 calls/s make alarms the long pole of a many-agent deploy when they start late
        _add(ctx, a, f"alarm-{key}", "aws.cloudwatch.alarm", props)
