from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from strands_deploy.providers.base import Props, ProviderContext
from strands_deploy.providers.registry import get_provider
from tests.integration.providers.helpers import TAGS, deploy_function_and_alias, policy_statements

ADDR = "agent.support.route"


def make_api(ctx: ProviderContext) -> tuple[str, str]:
    api = get_provider("aws.apigw.http_api").create(
        ctx,
        "shared.http-api",
        {"name": "demo-test-api", "throttle_burst": 10, "throttle_rate": 5, "tags": TAGS},
    )
    return api.physical_id, str(api.outputs["endpoint"])


def props(api_id: str, name: str, alias_arn: str, **overrides: Any) -> Props:
    p: Props = {
        "api_id": api_id,
        "route_key": "POST /agents/support",
        "function_arn": alias_arn,
        "function_name": name,
        "qualifier": "live",
    }
    p.update(overrides)
    return p


def test_route_lifecycle(ctx: ProviderContext, raw: Callable[[str], Any], tmp_path: Path) -> None:
    name, alias_arn = deploy_function_and_alias(ctx, raw, tmp_path)
    api_id, endpoint = make_api(ctx)
    provider = get_provider("aws.apigw.lambda_route")
    apigw = raw("apigatewayv2")
    p = props(api_id, name, alias_arn)

    created = provider.create(ctx, ADDR, p)
    route_id = created.physical_id
    assert created.outputs["route_id"] == route_id
    assert created.outputs["url"] == f"{endpoint}/agents/support"
    route = apigw.get_route(ApiId=api_id, RouteId=route_id)
    assert route["RouteKey"] == "POST /agents/support"
    assert route["Target"] == f"integrations/{created.outputs['integration_id']}"
    integration = apigw.get_integration(ApiId=api_id, IntegrationId=created.outputs["integration_id"])
    assert integration["IntegrationType"] == "AWS_PROXY"
    assert integration["IntegrationUri"] == alias_arn
    assert integration["PayloadFormatVersion"] == "2.0"
    [statement] = policy_statements(raw, name, "live")
    assert statement["Principal"] == {"Service": "apigateway.amazonaws.com"}
    assert statement["Action"] == "lambda:InvokeFunction"
    assert statement["Condition"]["ArnLike"]["AWS:SourceArn"] == (
        f"arn:aws:execute-api:us-east-1:123456789012:{api_id}/*/POST/agents/support"
    )

    live = provider.read(ctx, ADDR, route_id, p)
    assert live is not None and provider.drift(p, live) == {}

    new = props(api_id, name, alias_arn, route_key="POST /agents/helpdesk")
    out = provider.update(ctx, ADDR, route_id, p, new, created.outputs)
    assert out["url"] == f"{endpoint}/agents/helpdesk"
    live = provider.read(ctx, ADDR, route_id, new)
    assert live is not None and live["observed"]["route_key"] == "POST /agents/helpdesk"
    [statement] = policy_statements(raw, name, "live")  # the old statement was replaced
    assert statement["Condition"]["ArnLike"]["AWS:SourceArn"].endswith("/*/POST/agents/helpdesk")

    provider.delete(ctx, ADDR, route_id, new, out)
    assert provider.read(ctx, ADDR, route_id, new) is None
    assert apigw.get_integrations(ApiId=api_id)["Items"] == []
    assert policy_statements(raw, name, "live") == []
    provider.delete(ctx, ADDR, route_id, new, out)


def test_route_deleted_behind_our_back(
    ctx: ProviderContext, raw: Callable[[str], Any], tmp_path: Path
) -> None:
    name, alias_arn = deploy_function_and_alias(ctx, raw, tmp_path)
    api_id, _ = make_api(ctx)
    provider = get_provider("aws.apigw.lambda_route")
    p = props(api_id, name, alias_arn)
    created = provider.create(ctx, ADDR, p)
    raw("apigatewayv2").delete_route(ApiId=api_id, RouteId=created.physical_id)
    assert provider.read(ctx, ADDR, created.physical_id, p) is None
    # the whole API gone too
    raw("apigatewayv2").delete_api(ApiId=api_id)
    assert provider.read(ctx, ADDR, created.physical_id, p) is None


def test_route_find(ctx: ProviderContext, raw: Callable[[str], Any], tmp_path: Path) -> None:
    name, alias_arn = deploy_function_and_alias(ctx, raw, tmp_path)
    api_id, _ = make_api(ctx)
    provider = get_provider("aws.apigw.lambda_route")
    p = props(api_id, name, alias_arn)
    assert provider.find(ctx, ADDR, p) is None
    created = provider.create(ctx, ADDR, p)
    found = provider.find(ctx, ADDR, p)
    assert found is not None and found.physical_id == created.physical_id
    assert len(policy_statements(raw, name, "live")) == 1
