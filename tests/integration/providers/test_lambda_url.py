from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from strands_deploy.providers.base import Props, ProviderContext
from strands_deploy.providers.registry import get_provider
from tests.integration.providers.helpers import deploy_function_and_alias, policy_statements

ADDR = "agent.support.url"
CORS = {
    "allow_origins": ["https://app.example.com"],
    "allow_methods": ["POST"],
    "allow_headers": ["content-type"],
    "max_age": 300,
}


def props(name: str, **overrides: Any) -> Props:
    p: Props = {"function_name": name, "qualifier": "live", "auth": "NONE", "cors": CORS}
    p.update(overrides)
    return p


def test_url_lifecycle(ctx: ProviderContext, raw: Callable[[str], Any], tmp_path: Path) -> None:
    name, alias_arn = deploy_function_and_alias(ctx, raw, tmp_path)
    provider = get_provider("aws.lambda.url")
    lam = raw("lambda")
    p = props(name)

    created = provider.create(ctx, ADDR, p)
    assert created.physical_id == f"{name}:live"
    assert (
        created.outputs["url"].startswith("https://")
        and ".lambda-url.us-east-1.on.aws" in created.outputs["url"]
    )
    # moto reports the unqualified function ARN; AWS the qualified one
    assert alias_arn.startswith(created.outputs["function_arn"])
    conf = lam.get_function_url_config(FunctionName=name, Qualifier="live")
    assert conf["AuthType"] == "NONE"
    assert conf["Cors"]["AllowOrigins"] == ["https://app.example.com"]
    assert conf["Cors"]["MaxAge"] == 300
    statements = policy_statements(raw, name, "live")
    actions = sorted(s["Action"] for s in statements)
    assert actions == ["lambda:InvokeFunction", "lambda:InvokeFunctionUrl"]
    url_stmt = next(s for s in statements if s["Action"] == "lambda:InvokeFunctionUrl")
    assert url_stmt["Principal"] == "*"
    # AWS renders the auth type as a condition; moto keeps the request field as it was sent
    auth_type = url_stmt.get("Condition", {}).get("StringEquals", {}).get("lambda:FunctionUrlAuthType")
    assert (auth_type or url_stmt.get("FunctionUrlAuthType")) == "NONE"
    invoke_stmt = next(s for s in statements if s["Action"] == "lambda:InvokeFunction")
    via_url = invoke_stmt.get("Condition", {}).get("Bool", {}).get("lambda:InvokedViaFunctionUrl")
    assert str(via_url or invoke_stmt.get("InvokedViaFunctionUrl")).lower() == "true"

    live = provider.read(ctx, ADDR, created.physical_id, p)
    assert live is not None and provider.drift(p, live) == {}

    new = props(name, auth="AWS_IAM", cors={**CORS, "allow_origins": ["*"]})
    provider.update(ctx, ADDR, created.physical_id, p, new, created.outputs)
    live = provider.read(ctx, ADDR, created.physical_id, new)
    assert live is not None
    assert live["observed"]["auth"] == "AWS_IAM"
    assert live["observed"]["cors"]["AllowOrigins"] == ["*"]
    assert policy_statements(raw, name, "live") == []  # no longer public

    provider.delete(ctx, ADDR, created.physical_id, new, created.outputs)
    assert provider.read(ctx, ADDR, created.physical_id, new) is None
    provider.delete(ctx, ADDR, created.physical_id, new, created.outputs)


def test_url_deleted_behind_our_back(ctx: ProviderContext, raw: Callable[[str], Any], tmp_path: Path) -> None:
    name, _ = deploy_function_and_alias(ctx, raw, tmp_path)
    provider = get_provider("aws.lambda.url")
    created = provider.create(ctx, ADDR, props(name, cors=None))
    raw("lambda").delete_function_url_config(FunctionName=name, Qualifier="live")
    assert provider.read(ctx, ADDR, created.physical_id, props(name)) is None


def test_url_find_restores_the_public_permission(
    ctx: ProviderContext, raw: Callable[[str], Any], tmp_path: Path
) -> None:
    name, _ = deploy_function_and_alias(ctx, raw, tmp_path)
    provider = get_provider("aws.lambda.url")
    assert provider.find(ctx, ADDR, props(name)) is None
    # an interrupted create: the URL exists but the permission was never added
    raw("lambda").create_function_url_config(FunctionName=name, Qualifier="live", AuthType="NONE")
    found = provider.find(ctx, ADDR, props(name))
    assert found is not None and found.physical_id == f"{name}:live"
    assert len(policy_statements(raw, name, "live")) == 2
