from __future__ import annotations

from collections.abc import Callable
from typing import Any

from strands_deploy.providers.base import Props, ProviderContext
from strands_deploy.providers.registry import get_provider
from tests.integration.providers.helpers import TAGS

ADDR = "shared.http-api"


def props(**overrides: Any) -> Props:
    p: Props = {"name": "demo-test-api", "throttle_burst": 50, "throttle_rate": 25, "tags": dict(TAGS)}
    p.update(overrides)
    return p


def test_http_api_lifecycle(ctx: ProviderContext, raw: Callable[[str], Any]) -> None:
    provider = get_provider("aws.apigw.http_api")
    apigw = raw("apigatewayv2")

    created = provider.create(ctx, ADDR, props())
    api_id = created.physical_id
    assert created.outputs["api_id"] == api_id
    assert created.outputs["endpoint"] == f"https://{api_id}.execute-api.us-east-1.amazonaws.com"
    assert created.outputs["arn"] == f"arn:aws:apigateway:us-east-1::/apis/{api_id}"
    api = apigw.get_api(ApiId=api_id)
    assert api["ProtocolType"] == "HTTP" and api["Tags"]["strands:project"] == "demo"
    stage = apigw.get_stage(ApiId=api_id, StageName="$default")
    assert stage["AutoDeploy"] is True
    assert stage["DefaultRouteSettings"]["ThrottlingBurstLimit"] == 50
    assert stage["DefaultRouteSettings"]["ThrottlingRateLimit"] == 25.0

    live = provider.read(ctx, ADDR, api_id, props())
    assert live is not None and provider.drift(props(), live) == {}

    new = props(throttle_burst=100, tags={**TAGS, "team": "core"})
    out = provider.update(ctx, ADDR, api_id, props(), new, created.outputs)
    assert out["api_id"] == api_id
    live = provider.read(ctx, ADDR, api_id, new)
    assert live is not None
    assert live["observed"]["throttle_burst"] == 100
    assert live["observed"]["tags"]["team"] == "core"
    assert (
        apigw.get_stage(ApiId=api_id, StageName="$default")["DefaultRouteSettings"]["ThrottlingBurstLimit"]
        == 100
    )

    provider.delete(ctx, ADDR, api_id, new, out)
    assert provider.read(ctx, ADDR, api_id, new) is None
    provider.delete(ctx, ADDR, api_id, new, out)


def test_http_api_deleted_behind_our_back(ctx: ProviderContext, raw: Callable[[str], Any]) -> None:
    provider = get_provider("aws.apigw.http_api")
    created = provider.create(ctx, ADDR, props())
    raw("apigatewayv2").delete_api(ApiId=created.physical_id)
    assert provider.read(ctx, ADDR, created.physical_id, props()) is None


def test_http_api_find_by_name_and_tags(ctx: ProviderContext, raw: Callable[[str], Any]) -> None:
    provider = get_provider("aws.apigw.http_api")
    apigw = raw("apigatewayv2")
    assert provider.find(ctx, ADDR, props()) is None
    # same name, another environment: never adopted
    apigw.create_api(Name="demo-test-api", ProtocolType="HTTP", Tags={**TAGS, "strands:environment": "prod"})
    assert provider.find(ctx, ADDR, props()) is None
    # ours, interrupted before the stage was created: adopted and completed
    ours = apigw.create_api(Name="demo-test-api", ProtocolType="HTTP", Tags=dict(TAGS))["ApiId"]
    found = provider.find(ctx, ADDR, props())
    assert found is not None and found.physical_id == ours
    assert apigw.get_stage(ApiId=ours, StageName="$default")["AutoDeploy"] is True
