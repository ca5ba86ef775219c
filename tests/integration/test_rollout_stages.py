"""HTTP API stages and version pins against the moto server: the stage provider's lifecycle
(create, read, drift, update, find, delete), an alias pinned to a published version, and
blue-green's green Function URL (made on AWS, skipped on an emulator, removed on promote/abort)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest

from strands_deploy.aws.session import AwsContext, AwsSettings
from strands_deploy.config.rollout_schema import RolloutConfig
from strands_deploy.errors import StrandsDeployError
from strands_deploy.providers.base import ProviderContext
from strands_deploy.providers.registry import get_provider
from strands_deploy.rollout import control
from strands_deploy.rollout.notify import Notifier
from strands_deploy.rollout.runner import Rollout, RolloutDeps
from strands_deploy.state.backend import LocalFileBackend
from strands_deploy.state.model import ResourceState, State
from strands_deploy.state.store import StateStore
from tests.integration.local.conftest import make_zip

TAGS = {"strands:project": "p", "strands:environment": "test", "strands:managed-by": "strands-deploy"}
TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ],
}


def provider_ctx(moto: str, tmp_path: Path, local: bool = True) -> ProviderContext:
    aws = AwsContext(AwsSettings(region="us-east-1", endpoint_url=moto, local=local, max_attempts=2))
    return ProviderContext(
        aws=aws,
        project="p",
        environment="test",
        project_dir=tmp_path,
        cache_dir=tmp_path / ".cache",
        target="local",
        sleep=lambda s: None,
    )


def raw(moto: str, service: str) -> Any:
    return boto3.client(service, endpoint_url=moto, region_name="us-east-1")  # type: ignore[call-overload]


def function_with_versions(moto: str, count: int) -> str:
    """A function with versions 1..count published, ``live`` on the newest."""
    lam, iam = raw(moto, "lambda"), raw(moto, "iam")
    name = f"fn-{uuid.uuid4().hex[:8]}"
    role = iam.create_role(RoleName=f"r-{name}", AssumeRolePolicyDocument=json.dumps(TRUST))["Role"]["Arn"]
    code = "def handler(event, context):\n    return {'v': %d}\n"
    lam.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=role,
        Handler="app.handler",
        Code={"ZipFile": make_zip({"app.py": code % 1})},
    )
    for n in range(1, count + 1):
        if n > 1:
            lam.update_function_code(FunctionName=name, ZipFile=make_zip({"app.py": code % n}))
        assert lam.publish_version(FunctionName=name)["Version"] == str(n)
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion=str(count))
    return name


def test_stage_lifecycle_with_variables(moto: str, tmp_path: Path) -> None:
    ctx = provider_ctx(moto, tmp_path)
    apigw = raw(moto, "apigatewayv2")
    api = get_provider("aws.apigw.http_api").create(
        ctx,
        "shared.http-api",
        {"name": "p-test-api", "tags": TAGS, "stage_variables": {"alias_support": "live"}},
    )
    assert apigw.get_stage(ApiId=api.physical_id, StageName="$default")["StageVariables"] == {
        "alias_support": "live"
    }
    provider = get_provider("aws.apigw.http_stage")
    props = {
        "api_id": api.physical_id,
        "name": "v1",
        "variables": {"alias_support": "stage-v1", "tier": "gold"},
        "throttle_burst": 50,
        "throttle_rate": 100,
        "tags": TAGS,
    }
    created = provider.create(ctx, "shared.http-api.stage.v1", props)
    assert created.physical_id == f"{api.physical_id}/v1"
    assert created.outputs["url"] == f"{api.outputs['endpoint']}/v1"
    live = apigw.get_stage(ApiId=api.physical_id, StageName="v1")
    assert live["StageVariables"] == {"alias_support": "stage-v1", "tier": "gold"}
    assert live["AutoDeploy"] is True
    assert live["DefaultRouteSettings"]["ThrottlingBurstLimit"] == 50
    assert provider.drift(props, created.outputs) == {}
    # found again by (api, name) after a lost response
    found = provider.find(ctx, "shared.http-api.stage.v1", props)
    assert found is not None and found.physical_id == created.physical_id

    # a variable changed by hand is drift; an update puts the declared ones back (one removed)
    apigw.delete_stage(ApiId=api.physical_id, StageName="v1")
    apigw.create_stage(
        ApiId=api.physical_id, StageName="v1", StageVariables={"alias_support": "live", "tier": "gold"}
    )
    seen = provider.read(ctx, "x", created.physical_id, props)
    assert seen is not None
    assert set(provider.drift(props, seen)) == {"variables", "throttle_burst", "throttle_rate"}
    new = {**props, "variables": {"alias_support": "stage-v1"}}
    updated = provider.update(ctx, "shared.http-api.stage.v1", created.physical_id, props, new, seen)
    assert updated["observed"]["variables"] == {"alias_support": "stage-v1"}
    assert provider.drift(new, updated) == {}

    provider.delete(ctx, "shared.http-api.stage.v1", created.physical_id, new, updated)
    assert provider.read(ctx, "x", created.physical_id, new) is None
    provider.delete(ctx, "shared.http-api.stage.v1", created.physical_id, new, updated)  # idempotent

    # the API's $default stage variables: drift when one is missing, fixed by an update
    api_provider = get_provider("aws.apigw.http_api")
    api_props = {"name": "p-test-api", "tags": TAGS, "stage_variables": {"alias_support": "live"}}
    more = {**api_props, "stage_variables": {"alias_support": "live", "alias_billing": "live"}}
    assert set(api_provider.drift(more, api.outputs)) == {"stage_variables"}
    after = api_provider.update(ctx, "shared.http-api", api.physical_id, api_props, more, api.outputs)
    assert after["observed"]["stage_variables"] == more["stage_variables"]
    assert api_provider.drift(more, after) == {}


def test_alias_pinned_to_a_version(moto: str, tmp_path: Path) -> None:
    ctx = provider_ctx(moto, tmp_path)
    name = function_with_versions(moto, 3)
    lam = raw(moto, "lambda")
    provider = get_provider("aws.lambda.alias")
    props = {"function_name": name, "name": "stage-v1", "version": "1"}
    created = provider.create(ctx, "agent.support.stage-v1.alias", props)
    assert created.outputs["version"] == "1"
    versions = [v["Version"] for v in lam.list_versions_by_function(FunctionName=name)["Versions"]]
    assert versions == ["$LATEST", "1", "2", "3"]  # a pin publishes nothing
    assert provider.drift(props, created.outputs) == {}
    moved = {**props, "version": "2"}
    assert provider.drift(moved, created.outputs) == {"version": ("1", "2")}
    outputs = provider.update(ctx, "a", created.physical_id, props, moved, created.outputs)
    assert outputs["version"] == "2"
    assert lam.get_alias(FunctionName=name, Name="stage-v1")["FunctionVersion"] == "2"
    with pytest.raises(StrandsDeployError, match="version 9 of .* does not exist"):
        provider.update(ctx, "a", created.physical_id, moved, {**props, "version": "9"}, outputs)
    with pytest.raises(StrandsDeployError, match="does not exist"):
        provider.create(ctx, "b", {"function_name": name, "name": "stage-v9", "version": "9"})


def _blue_green_state(tmp_path: Path, name: str, arn: str, auth: str) -> LocalFileBackend:
    backend = LocalFileBackend(tmp_path, "test")
    state = State(environment="test")
    state.resources["agent.support.alias"] = ResourceState(
        type="aws.lambda.alias",
        physical_id=arn,
        inputs={"function_name": name, "name": "live", "revision": "r2", "traffic": "hold"},
        outputs={"arn": arn, "name": "live", "version": "1", "candidate": "2"},
        agent="support",
    )
    state.resources["agent.support.url"] = ResourceState(
        type="aws.lambda.url",
        physical_id=f"{name}:live",
        inputs={"function_name": name, "qualifier": "live", "auth": auth, "cors": None},
        outputs={},
        agent="support",
    )
    control.record_versions(state, ["support"], "tester")
    StateStore(backend, state).flush()
    return backend


def _deps(ctx: ProviderContext, backend: LocalFileBackend, tmp_path: Path) -> RolloutDeps:
    def read() -> State:
        state = backend.read()
        assert state is not None
        return state

    def save(change: Callable[[State], Any]) -> State:
        store = StateStore(backend, read())
        store.mutate(change)
        return store.state

    return RolloutDeps(
        ctx=ctx, save=save, read=read, notifier=Notifier([], "test", str), root=tmp_path, environment="test"
    )


@pytest.mark.parametrize("decision", ["promote", "abort"])
def test_green_url_made_on_aws_and_removed(moto: str, tmp_path: Path, decision: str) -> None:
    """Against moto treated as AWS (``local=False``): moto keeps one URL per function, so the
    agent here has no live URL on the function, only its record, as the green URL's template."""
    name = function_with_versions(moto, 2)
    lam = raw(moto, "lambda")
    lam.update_alias(FunctionName=name, Name="live", FunctionVersion="1")
    arn = lam.get_alias(FunctionName=name, Name="live")["AliasArn"]
    backend = _blue_green_state(tmp_path, name, arn, "NONE")
    deps = _deps(provider_ctx(moto, tmp_path, local=False), backend, tmp_path)
    config = RolloutConfig.model_validate("blue-green")
    record = Rollout(deps, config).start("support", name, "live", "1", "2", "tester")
    assert record.status == "waiting" and record.green_alias == "live-green"
    url = lam.get_function_url_config(FunctionName=name, Qualifier="live-green")
    assert record.green_url == url["FunctionUrl"] and url["AuthType"] == "NONE"
    statements = json.loads(lam.get_policy(FunctionName=name, Qualifier="live-green")["Policy"])["Statement"]
    assert {s["Sid"] for s in statements} >= {"strands-url-public", "strands-url-public-invoke"}
    saved = control.status(deps.read(), "support")[0]
    assert saved.green_url == record.green_url and url["FunctionUrl"] in saved.history[-1]["detail"]

    if decision == "promote":
        control.promote(deps, deps.read(), "support", config)
        assert lam.get_alias(FunctionName=name, Name="live")["FunctionVersion"] == "2"
    else:
        control.abort(deps, deps.read(), "support", "tester")
        assert lam.get_alias(FunctionName=name, Name="live")["FunctionVersion"] == "1"
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.get_function_url_config(FunctionName=name, Qualifier="live-green")
    assert [a["Name"] for a in lam.list_aliases(FunctionName=name)["Aliases"]] == ["live"]


def test_no_green_url_on_an_emulator(moto: str, tmp_path: Path) -> None:
    """moto and the local cloud keep one URL per function: a green one would replace the agent's."""
    name = function_with_versions(moto, 2)
    lam = raw(moto, "lambda")
    lam.update_alias(FunctionName=name, Name="live", FunctionVersion="1")
    arn = lam.get_alias(FunctionName=name, Name="live")["AliasArn"]
    live_url = lam.create_function_url_config(FunctionName=name, Qualifier="live", AuthType="AWS_IAM")
    backend = _blue_green_state(tmp_path, name, arn, "AWS_IAM")
    deps = _deps(provider_ctx(moto, tmp_path, local=True), backend, tmp_path)
    record = Rollout(deps, RolloutConfig.model_validate("blue-green")).start(
        "support", name, "live", "1", "2", "tester"
    )
    assert record.green_url is None
    assert "no green URL on an emulator" in record.history[-1]["detail"]
    control.promote(deps, deps.read(), "support", RolloutConfig.model_validate("blue-green"))
    assert lam.get_function_url_config(FunctionName=name)["FunctionUrl"] == live_url["FunctionUrl"]
