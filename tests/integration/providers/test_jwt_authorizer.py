from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import pytest

from strands_deploy.aws.session import AwsContext, AwsSettings
from strands_deploy.providers.base import Props, ProviderContext
from strands_deploy.providers.registry import get_provider
from tests.integration.providers.helpers import TAGS

ADDR = "shared.jwt-authorizer"
ISSUER = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_demo"


def make_api(ctx: ProviderContext) -> str:
    api = get_provider("aws.apigw.http_api").create(
        ctx, "shared.http-api", {"name": "demo-test-api", "tags": TAGS}
    )
    return api.physical_id


def props(api_id: str, **overrides: Any) -> Props:
    p: Props = {"api_id": api_id, "name": "demo-test-jwt", "issuer": ISSUER, "audience": ["client-1"]}
    p.update(overrides)
    return p


def test_authorizer_lifecycle(ctx: ProviderContext, raw: Callable[[str], Any]) -> None:
    api_id = make_api(ctx)
    provider = get_provider("aws.apigw.jwt_authorizer")
    apigw = raw("apigatewayv2")
    p = props(api_id)

    created = provider.create(ctx, ADDR, p)
    authorizer_id = created.physical_id
    assert created.outputs["authorizer_id"] == authorizer_id
    assert created.outputs["name"] == "demo-test-jwt"
    live = apigw.get_authorizer(ApiId=api_id, AuthorizerId=authorizer_id)
    assert live["AuthorizerType"] == "JWT"
    assert live["IdentitySource"] == ["$request.header.Authorization"]
    assert live["JwtConfiguration"] == {"Issuer": ISSUER, "Audience": ["client-1"]}
    assert "authorizer_id" in provider.stable_outputs

    read = provider.read(ctx, ADDR, authorizer_id, p)
    assert read is not None and provider.drift(p, read) == {}
    assert read["observed"]["issuer"] == ISSUER

    new = props(api_id, name="demo-test-jwt2", audience=["client-1", "client-2"])
    out = provider.update(ctx, ADDR, authorizer_id, p, new, created.outputs)
    assert out["authorizer_id"] == authorizer_id and out["name"] == "demo-test-jwt2"
    live = apigw.get_authorizer(ApiId=api_id, AuthorizerId=authorizer_id)
    assert live["JwtConfiguration"]["Audience"] == ["client-1", "client-2"]
    assert provider.drift(new, out) == {}
    # the audience is a set: another order is no drift, another issuer is
    assert provider.drift(props(api_id, name="demo-test-jwt2", audience=["client-2", "client-1"]), out) == {}
    assert provider.drift(
        props(api_id, name="demo-test-jwt2", audience=["client-1", "client-2"], issuer="https://x/"), out
    ) == {"issuer": (ISSUER, "https://x/")}

    provider.delete(ctx, ADDR, authorizer_id, new, out)
    assert provider.read(ctx, ADDR, authorizer_id, new) is None
    provider.delete(ctx, ADDR, authorizer_id, new, out)  # already gone: success


def test_authorizer_changed_by_hand_is_drift(ctx: ProviderContext, raw: Callable[[str], Any]) -> None:
    api_id = make_api(ctx)
    provider = get_provider("aws.apigw.jwt_authorizer")
    p = props(api_id)
    created = provider.create(ctx, ADDR, p)
    raw("apigatewayv2").update_authorizer(
        ApiId=api_id,
        AuthorizerId=created.physical_id,
        JwtConfiguration={"Issuer": "https://evil.example.com/", "Audience": ["anyone"]},
    )
    live = provider.read(ctx, ADDR, created.physical_id, p)
    assert live is not None
    assert provider.drift(p, live) == {
        "issuer": ("https://evil.example.com/", ISSUER),
        "audience": (["anyone"], ["client-1"]),
    }
    before = {**p, "issuer": "https://evil.example.com/", "audience": ["anyone"]}
    provider.update(ctx, ADDR, created.physical_id, before, p, created.outputs)
    again = provider.read(ctx, ADDR, created.physical_id, p)
    assert again is not None and provider.drift(p, again) == {}


def test_authorizer_gone_with_its_api(ctx: ProviderContext, raw: Callable[[str], Any]) -> None:
    api_id = make_api(ctx)
    provider = get_provider("aws.apigw.jwt_authorizer")
    p = props(api_id)
    created = provider.create(ctx, ADDR, p)
    raw("apigatewayv2").delete_api(ApiId=api_id)
    assert provider.read(ctx, ADDR, created.physical_id, p) is None
    provider.delete(ctx, ADDR, created.physical_id, p, created.outputs)


def test_authorizer_find(ctx: ProviderContext, raw: Callable[[str], Any]) -> None:
    """By (api_id, name). moto has no GetAuthorizers, so on the local cloud ``find`` sees the
    authorizers that the API's routes use."""
    api_id = make_api(ctx)
    provider = get_provider("aws.apigw.jwt_authorizer")
    p = props(api_id)
    assert provider.find(ctx, ADDR, p) is None
    created = provider.create(ctx, ADDR, p)
    other = provider.create(ctx, "shared.other", props(api_id, name="someone-else"))
    apigw = raw("apigatewayv2")
    for key, authorizer in (("POST /a", created.physical_id), ("POST /b", other.physical_id)):
        apigw.create_route(ApiId=api_id, RouteKey=key, AuthorizationType="JWT", AuthorizerId=authorizer)
    apigw.create_route(ApiId=api_id, RouteKey="POST /c")

    found = provider.find(ctx, ADDR, p)
    assert found is not None and found.physical_id == created.physical_id
    assert found.outputs["authorizer_id"] == created.physical_id
    assert provider.find(ctx, ADDR, props(api_id, name="nobody")) is None
    assert provider.find(ctx, ADDR, props("nosuchapi")) is None


def test_authorizer_find_on_aws_pages_through_get_authorizers(
    ctx: ProviderContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On AWS ``find`` lists the API's authorizers (GetAuthorizers, every page): answered here by
    botocore's Stubber, since moto does not implement GetAuthorizers."""
    from botocore.stub import Stubber

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    aws = AwsContext(AwsSettings(region="us-east-1", endpoint_url=ctx.aws.endpoint_url, pacing=False))
    on_aws = dataclasses.replace(ctx, aws=aws)
    client = aws.client("apigatewayv2")
    jwt = {"Issuer": ISSUER, "Audience": ["client-1"]}
    item = {"AuthorizerId": "a2", "Name": "demo-test-jwt", "AuthorizerType": "JWT", "JwtConfiguration": jwt}
    with Stubber(client) as stub:
        stub.add_response(
            "get_authorizers",
            {"Items": [{**item, "AuthorizerId": "a1", "Name": "other"}], "NextToken": "p2"},
            {"ApiId": "api1"},
        )
        stub.add_response("get_authorizers", {"Items": [item]}, {"ApiId": "api1", "NextToken": "p2"})
        stub.add_response("get_authorizer", item, {"ApiId": "api1", "AuthorizerId": "a2"})
        found = get_provider("aws.apigw.jwt_authorizer").find(on_aws, ADDR, props("api1"))
        stub.assert_no_pending_responses()
    assert found is not None and found.physical_id == "a2"
    assert found.outputs["observed"]["audience"] == ["client-1"]
