from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

from strands_deploy.aws.session import AwsContext, AwsSettings
from strands_deploy.providers.base import Created, Props, ProviderContext
from strands_deploy.providers.lambda_alias import KEEP_VERSIONS
from strands_deploy.providers.registry import get_provider
from tests.integration.providers.helpers import function_props, make_agent, make_role

ADDR = "agent.support.alias"
NAME = "demo-test-support"


def make_function(ctx: ProviderContext, raw: Callable[[str], Any], tmp_path: Path) -> tuple[Props, Created]:
    props = function_props(make_role(raw), make_agent(tmp_path))
    return props, get_provider("aws.lambda.function").create(ctx, "agent.support.function", props)


def bump(ctx: ProviderContext, fn_props: Props, fn: Created, memory: int) -> tuple[Props, dict[str, Any]]:
    new = {**fn_props, "memory": memory}
    out = get_provider("aws.lambda.function").update(
        ctx, "agent.support.function", NAME, fn_props, new, fn.outputs
    )
    return new, out


def test_alias_lifecycle(ctx: ProviderContext, raw: Callable[[str], Any], tmp_path: Path) -> None:
    fn_props, fn = make_function(ctx, raw, tmp_path)
    provider = get_provider("aws.lambda.alias")
    lam = raw("lambda")
    props: Props = {"function_name": NAME, "name": "live", "revision": fn.outputs["revision"]}

    created = provider.create(ctx, ADDR, props)
    assert created.physical_id == f"arn:aws:lambda:us-east-1:123456789012:function:{NAME}:live"
    assert created.outputs["arn"] == created.physical_id
    assert created.outputs["version"] == "1"
    assert lam.get_alias(FunctionName=NAME, Name="live")["FunctionVersion"] == "1"

    live = provider.read(ctx, ADDR, created.physical_id, props)
    assert live is not None and live["version"] == "1"
    assert provider.drift(props, live) == {}

    # the function changed: its revision changes, a version is published and the alias moves
    fn_props, fn_out = bump(ctx, fn_props, fn, 1024)
    new = {**props, "revision": fn_out["revision"]}
    out = provider.update(ctx, ADDR, created.physical_id, props, new, created.outputs)
    assert out["version"] == "2"
    assert lam.get_alias(FunctionName=NAME, Name="live")["FunctionVersion"] == "2"
    assert lam.get_function_configuration(FunctionName=NAME, Qualifier="live")["MemorySize"] == 1024

    provider.delete(ctx, ADDR, created.physical_id, new, out)
    assert provider.read(ctx, ADDR, created.physical_id, new) is None
    provider.delete(ctx, ADDR, created.physical_id, new, out)


def test_alias_prunes_old_versions(ctx: ProviderContext, raw: Callable[[str], Any], tmp_path: Path) -> None:
    fn_props, fn = make_function(ctx, raw, tmp_path)
    provider = get_provider("aws.lambda.alias")
    props: Props = {"function_name": NAME, "name": "live", "revision": fn.outputs["revision"]}
    alias = provider.create(ctx, ADDR, props)  # version 1
    fn_out: dict[str, Any] = fn.outputs
    for memory in (256, 384, 640):  # versions 2, 3, 4 published by hand, no alias on them
        fn_props, fn_out = bump(ctx, fn_props, Created(NAME, fn_out), memory)
        raw("lambda").publish_version(FunctionName=NAME)
    fn_props, fn_out = bump(ctx, fn_props, Created(NAME, fn_out), 768)
    new = {**props, "revision": fn_out["revision"]}
    # Pruning is for real AWS (the local emulator skips it): same moto endpoint, not "local".
    remote = dataclasses.replace(
        ctx,
        aws=AwsContext(AwsSettings(region="us-east-1", endpoint_url=ctx.aws.endpoint_url, max_attempts=3)),
    )
    outputs = provider.update(remote, ADDR, alias.physical_id, props, new, alias.outputs)
    assert outputs["version"] == "5"
    remote.join_background()  # pruning runs off the deploy's path
    versions = [v["Version"] for v in raw("lambda").list_versions_by_function(FunctionName=NAME)["Versions"]]
    assert sorted(int(v) for v in versions if v.isdigit()) == list(range(6 - KEEP_VERSIONS, 6))


def test_alias_keeps_versions_on_the_local_cloud(
    ctx: ProviderContext, raw: Callable[[str], Any], tmp_path: Path
) -> None:
    fn_props, fn = make_function(ctx, raw, tmp_path)
    provider = get_provider("aws.lambda.alias")
    props: Props = {"function_name": NAME, "name": "live", "revision": fn.outputs["revision"]}
    alias = provider.create(ctx, ADDR, props)
    outputs, fn_out = alias.outputs, fn.outputs
    for memory in (256, 384, 640, 768, 896):
        fn_props, fn_out = bump(ctx, fn_props, Created(NAME, fn_out), memory)
        new = {**props, "revision": fn_out["revision"]}
        outputs = provider.update(ctx, ADDR, alias.physical_id, props, new, outputs)
        props = new
    assert outputs["version"] == "6"
    assert raw("lambda").get_function_configuration(FunctionName=NAME, Qualifier="live")["MemorySize"] == 896


def test_alias_deleted_behind_our_back(
    ctx: ProviderContext, raw: Callable[[str], Any], tmp_path: Path
) -> None:
    _, fn = make_function(ctx, raw, tmp_path)
    provider = get_provider("aws.lambda.alias")
    props: Props = {"function_name": NAME, "name": "live", "revision": fn.outputs["revision"]}
    created = provider.create(ctx, ADDR, props)
    raw("lambda").delete_alias(FunctionName=NAME, Name="live")
    assert provider.read(ctx, ADDR, created.physical_id, props) is None
    assert provider.find(ctx, ADDR, props) is None
    # and when the function itself is gone
    raw("lambda").delete_function(FunctionName=NAME)
    assert provider.read(ctx, ADDR, created.physical_id, props) is None


def test_alias_find(ctx: ProviderContext, raw: Callable[[str], Any], tmp_path: Path) -> None:
    _, fn = make_function(ctx, raw, tmp_path)
    provider = get_provider("aws.lambda.alias")
    props: Props = {"function_name": NAME, "name": "live", "revision": fn.outputs["revision"]}
    assert provider.find(ctx, ADDR, props) is None
    version = raw("lambda").publish_version(FunctionName=NAME)["Version"]
    raw("lambda").create_alias(FunctionName=NAME, Name="live", FunctionVersion=version)
    found = provider.find(ctx, ADDR, props)
    assert found is not None and found.outputs["version"] == version
