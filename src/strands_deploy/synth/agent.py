"""The Agent construct: one agent in strands.yaml becomes its role, log group, policy, layer,
function, alias, endpoint (URL or HTTP route, with its authorizer), alarms and triggers (queues,
topics, buckets, schedules, event patterns, table streams: :mod:`.triggers`).

Least privilege per agent: each agent has its own execution role (unless it asks for the shared
one) whose one inline policy holds exactly that agent's statements: its logs, its models, its
links at their access level, its sessions prefix, its polled triggers (queues, table streams),
its own `permissions`. Pushing triggers (SNS, S3, EventBridge) are resource-policy statements on
the alias instead.

One small builder per resource; each builds its properties through the provider's model
(:func:`~strands_deploy.synth.props.build`) and adds the resource to the graph.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from strands_deploy.config.loader import AUTH_FIX, Project
from strands_deploy.config.schema import AgentConfig
from strands_deploy.errors import StrandsDeployError
from strands_deploy.packaging.hashing import code_hash
from strands_deploy.providers.alarm import AlarmProps
from strands_deploy.providers.http_route import LambdaRouteProps
from strands_deploy.providers.iam_role import RoleProps
from strands_deploy.providers.iam_role_policy import RolePolicyProps
from strands_deploy.providers.jwt_authorizer import JwtAuthorizerProps
from strands_deploy.providers.lambda_alias import AliasProps
from strands_deploy.providers.lambda_function import FunctionProps
from strands_deploy.providers.lambda_provisioned import ProvisionedProps
from strands_deploy.providers.lambda_url import FunctionUrlProps
from strands_deploy.providers.log_group import LogGroupProps
from strands_deploy.synth.context import SynthContext
from strands_deploy.synth.graph import Join, Ref, Resource
from strands_deploy.synth.guardrails import guardrail_env, guardrail_statements
from strands_deploy.synth.layers import code_artifacts, layers_for
from strands_deploy.synth.links import known_outputs, link_env, link_statements, resource_address
from strands_deploy.synth.models import DEFAULT_MODEL_ID, models_statement
from strands_deploy.synth.naming import physical_name
from strands_deploy.synth.notify import alarm_actions, alarms_enabled
from strands_deploy.synth.props import build
from strands_deploy.synth.refs import resolve_environment
from strands_deploy.synth.stages import route_target, synth_stages
from strands_deploy.synth.triggers import synth_triggers, trigger_statements, triggers_env

HANDLER = "_strands_runtime.handler"
SHARED_ROLE = "shared.execution-role"
SESSIONS = "shared.sessions"
HTTP_API = "shared.http-api"

# `auth:` → the Function URL's AuthType / the HTTP API route's AuthorizationType
URL_AUTH = {"none": "NONE", "iam": "AWS_IAM"}
ROUTE_AUTH = {"none": "NONE", "iam": "AWS_IAM", "jwt": "JWT"}

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
    auth: str  # none | iam | jwt: `auth:`, or `none` where unset is allowed (emulated environments)
    public: bool  # an endpoint anyone on the internet can invoke (auth none, on AWS)

    @property
    def prefix(self) -> str:
        return f"agent.{self.name}"


def missing_auth(project: Project, env: str, agents: list[str] | None = None) -> list[StrandsDeployError]:
    """On AWS, every endpoint states its `auth:`: a public endpoint is a decision, not a default.
    (Emulated environments, `local` or one with an `endpoint:`, serve unset auth openly.)"""
    if project.is_emulated(env):
        return []
    problems = []
    for name, agent in sorted(project.agents.items()):
        if (agents is None or name in agents) and agent.expose != "none" and agent.auth is None:
            where = project.agent_marks.get(name) or str(project.agent_files.get(name, project.source))
            problems.append(
                StrandsDeployError(
                    f"agent {name!r} has an endpoint (expose: {agent.expose}) on environment {env!r} "
                    "without `auth:`: say who may call it",
                    where,
                    AUTH_FIX,
                )
            )
    return problems


def synth_agent(ctx: SynthContext, name: str, agent: AgentConfig) -> None:
    a = _spec(ctx, name, agent)
    logs = _log_group(ctx, a)
    role_address = _role(ctx, a)
    statements = [*_base_statements(ctx, a, logs), *_link_statements(ctx, a)]
    statements += [*_sessions_statements(ctx, a), *trigger_statements(ctx, agent), *_tracing_statements(a)]
    statements += guardrail_statements(agent.guardrail, ctx.region, ctx.account)
    statements.extend(agent.permissions)
    policy = _policy(ctx, a, role_address, statements)
    layers = _layers(ctx, a)
    function = _function(ctx, a, role_address, logs, policy, layers, _environment(ctx, a))
    alias = _alias(ctx, a, function)
    _provisioned(ctx, a, function, alias)
    _endpoint(ctx, a, function, alias)
    synth_triggers(ctx, a.name, agent, alias, a.tags)
    _alarms(ctx, a)


def _spec(ctx: SynthContext, name: str, agent: AgentConfig) -> AgentSpec:
    cfg = ctx.project.config
    d = cfg.defaults
    auth = agent.auth or "none"
    return AgentSpec(
        name=name,
        config=agent,
        fn_name=physical_name(cfg.project, ctx.env, name, "function"),
        runtime=agent.runtime or d.runtime,
        architecture=agent.architecture or d.architecture,
        timeout=agent.timeout or d.timeout,
        folder=ctx.project.root / agent.path,
        tags=ctx.tags(agent=name),
        auth=auth,
        public=agent.expose != "none" and auth == "none" and not ctx.project.is_emulated(ctx.env),
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
    """The address of the agent's execution role: its own (the default), or the project's shared
    one (``role: shared``: every agent on it can use every link of the others). Roles depend on
    nothing, so the engine creates all of them at once."""
    policy_name = _policy_name(ctx, a)
    if a.config.role == "shared":
        shared = ctx.shared_role()
        # the shared role declares every inline policy put on it: any other is drift
        ctx.graph.resources[shared].props["inline_policies"].append(policy_name)
        return shared
    props = build(
        RoleProps,
        name=physical_name(ctx.project.config.project, ctx.env, a.name, "role"),
        trust_service="lambda.amazonaws.com",
        managed_policies=[],
        inline_policies=[policy_name],
        description=f"strands-deploy execution role of agent {a.name}",
        tags=a.tags,
    )
    return _add(ctx, a, "role", "aws.iam.role", props).address


# --- policy statements ----------------------------------------------------------------------------


def _base_statements(ctx: SynthContext, a: AgentSpec, logs: Resource) -> list[dict[str, Any]]:
    """Writing its own logs and invoking its own models: what every agent needs."""
    return [
        {
            "Sid": "Logs",
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": [Ref(logs.address, "arn"), Join((Ref(logs.address, "arn"), ":*"))],
        },
        models_statement(a.config.models, ctx.region, ctx.account),
    ]


def _known_links(ctx: SynthContext, a: AgentSpec) -> list[tuple[str, str, dict[str, str]]]:
    """(link name, resource type, outputs known from the deterministic name) of each link."""
    cfg = ctx.project.config
    region = ctx.region
    out: list[tuple[str, str, dict[str, str]]] = []
    for link in a.config.link:
        rtype = cfg.resources[link].type
        name = ctx.graph.resources[resource_address(link, rtype)].props["name"]
        out.append((str(link), rtype, known_outputs(rtype, name, region, ctx.account)))
    return out


def _link_statements(ctx: SynthContext, a: AgentSpec) -> list[dict[str, Any]]:
    """Each link's statements, at its access level (`read`, `write`, `readwrite`)."""
    access = {str(link): link.access for link in a.config.link}
    return [
        statement
        for link, rtype, known in _known_links(ctx, a)
        for statement in link_statements(link, rtype, known, access[link])
    ]


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


def _tracing_statements(a: AgentSpec) -> list[dict[str, Any]]:
    if not a.config.tracing:
        return []
    actions = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
    return [{"Sid": "Tracing", "Effect": "Allow", "Action": actions, "Resource": ["*"]}]


def _policy_name(ctx: SynthContext, a: AgentSpec) -> str:
    return physical_name(ctx.project.config.project, ctx.env, a.name, "policy")


def _policy(ctx: SynthContext, a: AgentSpec, role_address: str, statements: list[dict[str, Any]]) -> Resource:
    props = build(
        RolePolicyProps,
        role_name=Ref(role_address, "name"),
        policy_name=_policy_name(ctx, a),
        document={"Version": "2012-10-17", "Statement": statements},
    )
    return _add(ctx, a, "policy", "aws.iam.role_policy", props)


# --- code, function, alias ------------------------------------------------------------------------


def _layers(ctx: SynthContext, a: AgentSpec) -> list[Any]:
    """The dependency layer (shared by agents with identical requirements), as a list of ARNs."""
    return layers_for(ctx, a.name)


def _environment(ctx: SynthContext, a: AgentSpec) -> dict[str, Any]:
    """The function's variables: the agent's own, the runtime's, one or two per link, sessions."""
    env: dict[str, Any] = {
        **resolve_environment(ctx, a.name, a.config.environment),
        "STRANDS_ENTRY": a.config.entry,
        "STRANDS_AGENT_NAME": a.name,
        # the first declared model (the one the policy was written for), for the runtime
        "STRANDS_MODEL_ID": (a.config.models or [DEFAULT_MODEL_ID])[0],
        **guardrail_env(a.config.guardrail),  # the runtime applies it to the model
    }
    for link, rtype, known in _known_links(ctx, a):
        env.update(link_env(link, rtype, known))
    if a.config.sessions:
        env["STRANDS_SESSIONS_BUCKET"] = Ref(ctx.sessions_bucket(), "name")
        env["STRANDS_SESSIONS_PREFIX"] = f"{a.name}/"
    env.update(triggers_env(ctx, a.name, a.config))  # the runtime's map from an event to its prompt
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
        reserved_concurrency=_reserved_concurrency(ctx, a),
        tracing="Active" if agent.tracing else "PassThrough",
        dead_letter_arn=None,
        logging_group=Ref(logs.address, "name"),
        description=agent.description or f"strands agent {a.name}",
        tags=a.tags,
        exclusive_access=True,
        **code_artifacts(ctx, a.folder),
    )
    return _add(ctx, a, "function", "aws.lambda.function", props, depends_on={policy.address})


def _reserved_concurrency(ctx: SynthContext, a: AgentSpec) -> int | None:
    """The agent's own setting; a public endpoint on AWS is capped (``defaults.public_concurrency``)
    when it sets none, so that anyone calling it cannot spend without bound."""
    if a.config.reserved_concurrency is not None or not a.public:
        return a.config.reserved_concurrency
    return ctx.project.config.defaults.public_concurrency


def _alias(ctx: SynthContext, a: AgentSpec, function: Resource) -> Resource:
    from strands_deploy.config.rollout_schema import effective_rollout

    # a progressive rollout moves the traffic itself (strands_deploy.rollout): the alias holds it
    held = effective_rollout(ctx.project.config, ctx.env, a.config).strategy != "all-at-once"
    props = build(
        AliasProps,
        function_name=Ref(function.address, "name"),
        name="live",
        revision=Ref(function.address, "revision"),
        **({"traffic": "hold"} if held else {}),
    )
    # the version that serves traffic is published only once its linked data exists
    linked = {resource_address(link, rtype) for link, rtype, _ in _known_links(ctx, a)}
    return _add(ctx, a, "alias", "aws.lambda.alias", props, depends_on=linked)


def _provisioned(ctx: SynthContext, a: AgentSpec, function: Resource, alias: Resource) -> None:
    """``provisioned_concurrency: N`` on the ``live`` alias; left out of emulated environments
    (moto has no provisioned concurrency, and there is no cold start worth paying for there)."""
    count = a.config.provisioned_concurrency
    if not count or ctx.project.is_emulated(ctx.env):
        return
    props = build(
        ProvisionedProps,
        function_name=Ref(function.address, "name"),
        qualifier=Ref(alias.address, "name"),
        count=count,
    )
    _add(ctx, a, "provisioned", "aws.lambda.provisioned_concurrency", props)


# --- endpoint, alarms ---------------------------------------------------------------------------


def _endpoint(ctx: SynthContext, a: AgentSpec, function: Resource, alias: Resource) -> None:
    """A function URL on the alias (``expose: url``) or a route of the shared HTTP API (``http``),
    with the agent's `auth` (validation refused the combinations an exposure cannot honour)."""
    agent = a.config
    if agent.expose != "none" and a.public:
        ctx.graph.warnings.append(
            StrandsDeployError(
                f"anyone can invoke agent {a.name!r} and spend your model budget (auth: none on "
                f"{ctx.env!r}); reserved concurrency {_reserved_concurrency(ctx, a)} caps it",
                ctx.project.agent_marks.get(a.name) or a.prefix,
                "use `auth: iam` or `auth: jwt` unless the agent is meant to be public",
            )
        )
    if agent.expose == "url":
        props = build(
            FunctionUrlProps,
            function_name=Ref(function.address, "name"),
            qualifier="live",
            auth=URL_AUTH[a.auth],
            cors=agent.cors.model_dump() if agent.cors else None,
        )
        _add(ctx, a, "url", "aws.lambda.url", props, depends_on={alias.address})
    elif agent.expose == "http":
        api = ctx.http_api()
        extra: dict[str, Any] = {}
        if a.auth == "jwt" and agent.jwt is not None:
            authorizer = build(
                JwtAuthorizerProps,
                api_id=Ref(api, "api_id"),
                name=physical_name(ctx.project.config.project, ctx.env, f"{a.name}-jwt", "authorizer"),
                issuer=agent.jwt.issuer,
                audience=list(agent.jwt.audience),
            )
            address = _add(ctx, a, "authorizer", "aws.apigw.jwt_authorizer", authorizer).address
            extra["authorizer_id"] = Ref(address, "authorizer_id")
        route_key = f"POST /agents/{a.name}"
        # with `stages:`, each stage's variable picks the qualifier (synth/stages.py)
        target = route_target(a.name, function) if agent.stages else Ref(alias.address, "arn")
        props = build(
            LambdaRouteProps,
            api_id=Ref(api, "api_id"),
            route_key=route_key,
            function_arn=target,
            function_name=Ref(function.address, "name"),
            qualifier="live",
            authorization=ROUTE_AUTH[a.auth],
            **extra,
        )
        _add(ctx, a, "route", "aws.apigw.lambda_route", props, depends_on={alias.address})
        if agent.stages:
            synth_stages(ctx, a.name, agent.stages, function, alias, api, route_key)


def _alarms(ctx: SynthContext, a: AgentSpec) -> None:
    """Errors, throttles and near-timeout duration alarms on the function (unless ``alarms: false``)."""
    if not alarms_enabled(ctx, a.config):
        return
    actions = alarm_actions(ctx, a.config)
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
            alarm_actions=actions,
            ok_actions=actions,
            tags=a.tags,
        )
        # no dependency on the function: an alarm needs only its name, and PutMetricAlarm's
        # 3 calls/s make alarms the long pole of a many-agent deploy when they start late
        _add(ctx, a, f"alarm-{key}", "aws.cloudwatch.alarm", props)
