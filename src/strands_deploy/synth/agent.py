"""The Agent construct: one agent in strands.yaml becomes its log group, policy, layer, function,
alias, endpoint (URL or HTTP route), alarms and queue trigger."""

from __future__ import annotations

from typing import Any

from strands_deploy.config.schema import AgentConfig
from strands_deploy.packaging.build import read_requirements
from strands_deploy.packaging.hashing import code_hash, file_hash
from strands_deploy.synth.context import SynthContext
from strands_deploy.synth.graph import Join, Ref, Resource
from strands_deploy.synth.links import known_outputs, link_env, link_statement, resource_address
from strands_deploy.synth.naming import physical_name

HANDLER = "_strands_runtime.handler"
SHARED_ROLE = "shared.execution-role"
SESSIONS = "shared.sessions"
HTTP_API = "shared.http-api"

BEDROCK_ACTIONS = ["bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"]
BEDROCK_ARNS = ["arn:aws:bedrock:*::foundation-model/*", "arn:aws:bedrock:*:*:inference-profile/*"]


def synth_agent(ctx: SynthContext, name: str, agent: AgentConfig) -> None:
    cfg = ctx.project.config
    d = cfg.defaults
    prefix = f"agent.{name}"
    fn_name = physical_name(cfg.project, ctx.env, name, "function")
    runtime = agent.runtime or d.runtime
    arch = agent.architecture or d.architecture
    timeout = agent.timeout or d.timeout
    folder = ctx.project.root / agent.path
    tags = ctx.tags(agent=name)

    logs = ctx.graph.add(
        Resource(
            f"{prefix}.logs",
            "aws.logs.log_group",
            {"name": f"/aws/lambda/{fn_name}", "retention_days": d.log_retention, "tags": tags},
            agent=name,
        )
    )

    if agent.role == "own":
        role_address = f"{prefix}.role"
        ctx.graph.add(
            Resource(
                role_address,
                "aws.iam.role",
                {
                    "name": physical_name(cfg.project, ctx.env, name, "role"),
                    "trust_service": "lambda.amazonaws.com",
                    "managed_policies": [],
                    "description": f"strands-deploy execution role of agent {name}",
                    "tags": tags,
                },
                agent=name,
            )
        )
    else:
        role_address = ctx.shared_role()

    statements: list[dict[str, Any]] = [
        {
            "Sid": "Logs",
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": [Ref(logs.address, "arn"), Join((Ref(logs.address, "arn"), ":*"))],
        },
        {"Sid": "Models", "Effect": "Allow", "Action": BEDROCK_ACTIONS, "Resource": BEDROCK_ARNS},
    ]
    environment: dict[str, Any] = {
        **agent.environment,
        "STRANDS_ENTRY": agent.entry,
        "STRANDS_AGENT_NAME": name,
    }
    region = ctx.project.region(ctx.env)
    linked: set[str] = set()
    for link in agent.link:
        rtype = cfg.resources[link].type
        address = resource_address(link, rtype)
        linked.add(address)
        known = known_outputs(rtype, ctx.graph.resources[address].props["name"], region, ctx.account)
        statements.append(link_statement(link, rtype, known))
        environment.update(link_env(link, rtype, known))
    if agent.sessions:
        sessions = ctx.sessions_bucket()
        environment["STRANDS_SESSIONS_BUCKET"] = Ref(sessions, "name")
        environment["STRANDS_SESSIONS_PREFIX"] = f"{name}/"
        statements.append(
            {
                "Sid": "Sessions",
                "Effect": "Allow",
                "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
                "Resource": [Join((Ref(sessions, "arn"), f"/{name}/*"))],
            }
        )
        statements.append(
            {
                "Sid": "SessionsList",
                "Effect": "Allow",
                "Action": ["s3:ListBucket"],
                "Resource": [Ref(sessions, "arn")],
                "Condition": {"StringLike": {"s3:prefix": [f"{name}/*"]}},
            }
        )
    if agent.trigger:
        statements.append(
            {
                "Sid": "Trigger",
                "Effect": "Allow",
                "Action": [
                    "sqs:ReceiveMessage",
                    "sqs:DeleteMessage",
                    "sqs:GetQueueAttributes",
                    "sqs:ChangeMessageVisibility",
                ],
                "Resource": [Ref(f"resource.{agent.trigger}.queue", "arn")],
            }
        )
    if agent.tracing:
        statements.append(
            {
                "Sid": "Tracing",
                "Effect": "Allow",
                "Action": ["xray:PutTraceSegments", "xray:PutTelemetryRecords"],
                "Resource": ["*"],
            }
        )
    statements.extend(agent.permissions)

    policy = ctx.graph.add(
        Resource(
            f"{prefix}.policy",
            "aws.iam.role_policy",
            {
                "role_name": Ref(role_address, "name"),
                "policy_name": physical_name(cfg.project, ctx.env, name, "policy"),
                "document": {"Version": "2012-10-17", "Statement": statements},
            },
            agent=name,
        )
    )

    layers: list[Any] = []
    req_path = folder / agent.requirements
    if read_requirements(req_path):
        rel = req_path.relative_to(ctx.project.root).as_posix()
        deps = ctx.graph.add(
            Resource(
                f"{prefix}.deps",
                "aws.lambda.layer",
                {
                    "name": physical_name(cfg.project, ctx.env, f"{name}-deps", "layer"),
                    "requirements_file": rel,
                    "requirements_hash": file_hash(req_path, ctx.target, runtime, arch),
                    "runtime": runtime,
                    "architecture": arch,
                },
                agent=name,
            )
        )
        layers.append(Ref(deps.address, "arn"))

    function = ctx.graph.add(
        Resource(
            f"{prefix}.function",
            "aws.lambda.function",
            {
                "name": fn_name,
                "role_arn": Ref(role_address, "arn"),
                "runtime": runtime,
                "handler": HANDLER,
                "memory": agent.memory or d.memory,
                "timeout": timeout,
                "architecture": arch,
                "environment": environment,
                "layers": layers,
                "code": {"path": agent.path, "hash": code_hash(folder), "entry": agent.entry},
                "reserved_concurrency": agent.reserved_concurrency,
                "tracing": "Active" if agent.tracing else "PassThrough",
                "dead_letter_arn": None,
                "logging_group": Ref(logs.address, "name"),
                "description": agent.description or f"strands agent {name}",
                "tags": tags,
            },
            depends_on={policy.address},
            agent=name,
        )
    )

    alias = ctx.graph.add(
        Resource(
            f"{prefix}.alias",
            "aws.lambda.alias",
            {
                "function_name": Ref(function.address, "name"),
                "name": "live",
                "revision": Ref(function.address, "revision"),
            },
            # the version that serves traffic is published only once its linked data exists
            depends_on=linked,
            agent=name,
        )
    )

    if agent.expose == "url":
        cors = agent.cors.model_dump() if agent.cors else None
        ctx.graph.add(
            Resource(
                f"{prefix}.url",
                "aws.lambda.url",
                {
                    "function_name": Ref(function.address, "name"),
                    "qualifier": "live",
                    "auth": agent.auth,
                    "cors": cors,
                },
                depends_on={alias.address},
                agent=name,
            )
        )
    elif agent.expose == "http":
        api = ctx.http_api()
        ctx.graph.add(
            Resource(
                f"{prefix}.route",
                "aws.apigw.lambda_route",
                {
                    "api_id": Ref(api, "api_id"),
                    "route_key": f"POST /agents/{name}",
                    "function_arn": Ref(alias.address, "arn"),
                    "function_name": Ref(function.address, "name"),
                    "qualifier": "live",
                },
                agent=name,
            )
        )

    if agent.trigger:
        ctx.graph.add(
            Resource(
                f"{prefix}.trigger-{agent.trigger}",
                "aws.lambda.event_source",
                {
                    "function_name": Ref(alias.address, "arn"),
                    "source_arn": Ref(f"resource.{agent.trigger}.queue", "arn"),
                    "batch_size": 1,
                },
                agent=name,
            )
        )

    if agent.alarms if agent.alarms is not None else d.alarms:
        alarms = {
            "errors": ("Errors", "Sum", 1, "GreaterThanOrEqualToThreshold"),
            "throttles": ("Throttles", "Sum", 1, "GreaterThanOrEqualToThreshold"),
            "duration": ("Duration", "Maximum", int(timeout * 1000 * 0.9), "GreaterThanOrEqualToThreshold"),
        }
        for key, (metric, stat, threshold, comparison) in alarms.items():
            ctx.graph.add(
                Resource(
                    f"{prefix}.alarm-{key}",
                    "aws.cloudwatch.alarm",
                    {
                        "name": physical_name(cfg.project, ctx.env, f"{name}-{key}", "alarm"),
                        "namespace": "AWS/Lambda",
                        "metric_name": metric,
                        "dimensions": {"FunctionName": fn_name},
                        "statistic": stat,
                        "period": 300 if key != "duration" else 60,
                        "evaluation_periods": 1,
                        "threshold": threshold,
                        "comparison": comparison,
                        "treat_missing_data": "notBreaching",
                        "tags": tags,
                    },
                    # no dependency on the function: an alarm needs only its name, and
                    # PutMetricAlarm's 3 calls/s make alarms the long pole of a many-agent
                    # deploy when they start late
                    agent=name,
                )
            )
