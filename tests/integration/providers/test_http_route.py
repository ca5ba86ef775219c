from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from strands_deploy.errors import StrandsDeployError
from strands_deploy.providers.base import Props, ProviderContext
from strands_deploy.providers.http_route import LambdaRouteProps
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


def make_authorizer(ctx: ProviderContext, api_id: str) -> str:
    created = get_provider("aws.apigw.jwt_authorizer").create(
        ctx,
        "shared.jwt-authorizer",
        {
            "api_id": api_id,
            "name": "demo-test-jwt",
            "issuer": "https://issuer.example.com/",
            "audience": ["agents"],
        },
    )
    return created.physical_id


def test_route_authorization_iam_then_jwt(
    ctx: ProviderContext, raw: Callable[[str], Any], tmp_path: Path
) -> None:
    name, alias_arn = deploy_function_and_alias(ctx, raw, tmp_path)
    api_id, _ = make_api(ctx)
    provider = get_provider("aws.apigw.lambda_route")
    apigw = raw("apigatewayv2")
    p = props(api_id, name, alias_arn, authorization="AWS_IAM")

    created = provider.create(ctx, ADDR, p)
    route = apigw.get_route(ApiId=api_id, RouteId=created.physical_id)
    assert route["AuthorizationType"] == "AWS_IAM"
    assert not route.get("AuthorizerId")
    assert created.outputs["observed"]["authorization"] == "AWS_IAM"
    assert created.outputs["observed"]["authorizer_id"] is None
    assert provider.drift(p, created.outputs) == {}

    authorizer_id = make_authorizer(ctx, api_id)
    new = props(api_id, name, alias_arn, authorization="JWT", authorizer_id=authorizer_id)
    out = provider.update(ctx, ADDR, created.physical_id, p, new, created.outputs)
    route = apigw.get_route(ApiId=api_id, RouteId=created.physical_id)
    assert (route["AuthorizationType"], route["AuthorizerId"]) == ("JWT", authorizer_id)
    assert out["observed"]["authorization"] == "JWT"
    assert out["observed"]["authorizer_id"] == authorizer_id
    assert provider.drift(new, out) == {}

    # back to public: the authorizer is detached, not left behind
    public = props(api_id, name, alias_arn)
    out = provider.update(ctx, ADDR, created.physical_id, new, public, out)
    route = apigw.get_route(ApiId=api_id, RouteId=created.physical_id)
    assert route["AuthorizationType"] == "NONE"
    assert not route.get("AuthorizerId")
    assert provider.drift(public, out) == {}


def test_route_opened_by_hand_is_drift_and_update_closes_it(
    ctx: ProviderContext, raw: Callable[[str], Any], tmp_path: Path
) -> None:
    name, alias_arn = deploy_function_and_alias(ctx, raw, tmp_path)
    api_id, _ = make_api(ctx)
    provider = get_provider("aws.apigw.lambda_route")
    authorizer_id = make_authorizer(ctx, api_id)
    p = props(api_id, name, alias_arn, authorization="JWT", authorizer_id=authorizer_id)
    created = provider.create(ctx, ADDR, p)

    raw("apigatewayv2").update_route(
        ApiId=api_id, RouteId=created.physical_id, AuthorizationType="NONE", AuthorizerId=""
    )
    live = provider.read(ctx, ADDR, created.physical_id, p)
    assert live is not None
    assert provider.drift(p, live) == {
        "authorization": ("NONE", "JWT"),
        "authorizer_id": (None, authorizer_id),
    }
    # what the planner then hands to update: "before" is what exists
    before = {**p, "authorization": "NONE", "authorizer_id": None}
    provider.update(ctx, ADDR, created.physical_id, before, p, created.outputs)
    route = raw("apigatewayv2").get_route(ApiId=api_id, RouteId=created.physical_id)
    assert (route["AuthorizationType"], route["AuthorizerId"]) == ("JWT", authorizer_id)


def test_route_drift_when_props_predate_authorization(
    ctx: ProviderContext, raw: Callable[[str], Any], tmp_path: Path
) -> None:
    """A record written before routes had ``authorization`` means NONE: a route closed or opened
    by hand is still drift."""
    name, alias_arn = deploy_function_and_alias(ctx, raw, tmp_path)
    api_id, _ = make_api(ctx)
    provider = get_provider("aws.apigw.lambda_route")
    p = props(api_id, name, alias_arn)
    created = provider.create(ctx, ADDR, p)
    assert "authorization" not in p
    raw("apigatewayv2").update_route(ApiId=api_id, RouteId=created.physical_id, AuthorizationType="AWS_IAM")
    live = provider.read(ctx, ADDR, created.physical_id, p)
    assert live is not None and provider.drift(p, live) == {"authorization": ("AWS_IAM", "NONE")}


@pytest.mark.parametrize(
    "bad", [{"authorization": "JWT"}, {"authorization": "AWS_IAM", "authorizer_id": "a1"}]
)
def test_route_jwt_needs_an_authorizer_and_only_jwt_takes_one(bad: dict[str, str]) -> None:
    base = props("abc", "fn", "arn:aws:lambda:us-east-1:123456789012:function:fn:live")
    with pytest.raises(StrandsDeployError, match="authorizer_id"):
        LambdaRouteProps.parse({**base, **bad}, ADDR)
    assert LambdaRouteProps.parse(base).authorization == "NONE"
