"""Builders shared by the provider tests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from strands_deploy.providers.base import Props

PROJECT = "demo"
ENVIRONMENT = "test"
TAGS = {
    "strands:project": PROJECT,
    "strands:environment": ENVIRONMENT,
    "strands:managed-by": "strands-deploy",
    "team": "agents",
}
TRUST = (
    '{"Version":"2012-10-17","Statement":[{"Effect":"Allow",'
    '"Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}'
)
AGENT_PY = "from strands import Agent\n\nagent = Agent()\n"


def make_role(raw: Callable[[str], Any], name: str = "demo-test-role") -> str:
    return str(raw("iam").create_role(RoleName=name, AssumeRolePolicyDocument=TRUST)["Role"]["Arn"])


def make_agent(project_dir: Path, folder: str = "agents/support", body: str = AGENT_PY) -> str:
    path = project_dir / folder
    path.mkdir(parents=True, exist_ok=True)
    (path / "agent.py").write_text(body)
    return folder


def function_props(role_arn: str, folder: str, **overrides: Any) -> Props:
    props: Props = {
        "name": "demo-test-support",
        "role_arn": role_arn,
        "runtime": "python3.12",
        "handler": "_strands_runtime.handler",
        "memory": 512,
        "timeout": 60,
        "architecture": "arm64",
        "environment": {"STRANDS_ENTRY": "agent.py:agent", "STRANDS_AGENT_NAME": "support"},
        "layers": [],
        "code": {"path": folder, "hash": "hash-1", "entry": "agent.py:agent"},
        "reserved_concurrency": None,
        "tracing": "PassThrough",
        "dead_letter_arn": None,
        "logging_group": "/aws/lambda/demo-test-support",
        "description": "strands agent support",
        "tags": dict(TAGS, **{"strands:agent": "support"}),
    }
    props.update(overrides)
    return props


def deploy_function_and_alias(ctx: Any, raw: Callable[[str], Any], project_dir: Path) -> tuple[str, str]:
    """A function with a ``live`` alias, made through the providers: (function name, alias ARN)."""
    from strands_deploy.providers.registry import get_provider

    props = function_props(make_role(raw), make_agent(project_dir))
    fn = get_provider("aws.lambda.function").create(ctx, "agent.support.function", props)
    alias = get_provider("aws.lambda.alias").create(
        ctx,
        "agent.support.alias",
        {"function_name": fn.outputs["name"], "name": "live", "revision": fn.outputs["revision"]},
    )
    return str(fn.outputs["name"]), str(alias.outputs["arn"])


def policy_statements(raw: Callable[[str], Any], function_name: str, qualifier: str) -> list[dict[str, Any]]:
    """The function (alias) resource policy's statements, [] when there is none."""
    import json

    lam = raw("lambda")
    try:
        policy = lam.get_policy(FunctionName=function_name, Qualifier=qualifier)["Policy"]
    except lam.exceptions.ResourceNotFoundException:
        return []
    return list(json.loads(policy)["Statement"])
