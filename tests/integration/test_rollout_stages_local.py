"""HTTP API stages served by the local cloud: each stage's variable picks the version a request
reaches (`/v1/...` pinned to version 1, `/v2/...` and the stageless URL on `live`), the function
sees the stage's variables, and a stage that leaves the variable unset answers 500 as AWS does."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from strands_deploy.aws.session import AwsContext, AwsSettings
from strands_deploy.providers.base import ProviderContext
from strands_deploy.providers.registry import get_provider
from tests.conftest import stop_process
from tests.integration.local.conftest import Cloud, make_zip, start_server

CODE = (
    "def handler(event, context):\n"
    "    return {'version': %d, 'stage': event['requestContext']['stage'],"
    " 'variables': event.get('stageVariables')}\n"
)


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cloud]:
    root = tmp_path_factory.mktemp("stages-cloud")
    server = start_server(root / "state", root / "server.log")
    try:
        yield server
    finally:
        stop_process(server.proc)


def _post(url: str) -> tuple[int, Any]:
    req = urllib.request.Request(url, data=b"{}", method="POST", headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers)


def test_a_stage_pins_the_version_it_invokes(cloud: Cloud, tmp_path: Path) -> None:
    aws = AwsContext(AwsSettings(region="us-east-1", endpoint_url=cloud.endpoint, local=True, max_attempts=2))
    ctx = ProviderContext(
        aws=aws,
        project="p",
        environment="test",
        project_dir=tmp_path,
        cache_dir=tmp_path / "c",
        target="local",
    )
    lam, iam = cloud.client("lambda"), cloud.client("iam")
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
    role = iam.create_role(RoleName="stages-role", AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    fn = lam.create_function(
        FunctionName="p-test-support",
        Runtime="python3.12",
        Role=role,
        Handler="app.handler",
        Code={"ZipFile": make_zip({"app.py": CODE % 1})},
    )
    lam.publish_version(FunctionName="p-test-support")
    lam.update_function_code(FunctionName="p-test-support", ZipFile=make_zip({"app.py": CODE % 2}))
    lam.publish_version(FunctionName="p-test-support")
    lam.create_alias(FunctionName="p-test-support", Name="live", FunctionVersion="2")

    api = get_provider("aws.apigw.http_api").create(
        ctx, "shared.http-api", {"name": "p-test-api", "stage_variables": {"alias_support": "live"}}
    )
    pin = get_provider("aws.lambda.alias").create(
        ctx, "a", {"function_name": "p-test-support", "name": "stage-v1", "version": "1"}
    )
    assert pin.outputs["version"] == "1"
    get_provider("aws.apigw.lambda_route").create(
        ctx,
        "agent.support.route",
        {
            "api_id": api.physical_id,
            "route_key": "POST /agents/support",
            "function_arn": fn["FunctionArn"] + ":${stageVariables.alias_support}",
            "function_name": "p-test-support",
            "qualifier": "live",
        },
    )
    stage = get_provider("aws.apigw.http_stage")
    v1 = stage.create(
        ctx, "s1", {"api_id": api.physical_id, "name": "v1", "variables": {"alias_support": "stage-v1"}}
    )
    stage.create(
        ctx,
        "s2",
        {"api_id": api.physical_id, "name": "v2", "variables": {"alias_support": "live", "tier": "gold"}},
    )
    stage.create(ctx, "s3", {"api_id": api.physical_id, "name": "broken", "variables": {"other": "x"}})

    endpoint = str(api.outputs["endpoint"])
    assert v1.outputs["url"] == f"{endpoint}/v1"
    assert _post(f"{endpoint}/v1/agents/support") == (
        200,
        {"version": 1, "stage": "v1", "variables": {"alias_support": "stage-v1"}},
    )
    assert _post(f"{endpoint}/v2/agents/support") == (
        200,
        {"version": 2, "stage": "v2", "variables": {"alias_support": "live", "tier": "gold"}},
    )
    assert _post(f"{endpoint}/agents/support") == (
        200,
        {"version": 2, "stage": "$default", "variables": {"alias_support": "live"}},
    )
    status, headers = _post(f"{endpoint}/broken/agents/support")
    assert status == 500 and "alias_support" in headers["X-Strands-Local-Error"]
