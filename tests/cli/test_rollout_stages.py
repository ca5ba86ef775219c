"""HTTP API stages through the installed console script against moto: `stages: [v1, v2]` deploys
two stages following `live`; pinning `v1` to version 1 (after version 2 shipped) makes a
`stage-v1` alias on version 1, the stage's variable names it, and API Gateway may invoke it from
that stage only; a second plan has nothing to do; `stages:` without `expose: http` is refused."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3

from tests.helpers import AGENT_NO_LAYER, write_project

PROJECT = """\
project: st
region: us-east-1
agents:
  support:
    path: agents/support
    expose: http
    stages: {stages}
environments:
  local:
    endpoint: "{endpoint}"
"""
FUNCTION = "st-local-support"


def _client(endpoint: str, service: str) -> Any:
    return boto3.client(service, endpoint_url=endpoint, region_name="us-east-1")  # type: ignore[call-overload]


def _write(root: Path, endpoint: str, stages: str) -> None:
    (root / "strands.yaml").write_text(PROJECT.format(endpoint=endpoint, stages=stages))


def _stages(endpoint: str) -> dict[str, dict[str, str]]:
    apigw = _client(endpoint, "apigatewayv2")
    (api,) = apigw.get_apis()["Items"]
    return {
        s["StageName"]: s.get("StageVariables") or {} for s in apigw.get_stages(ApiId=api["ApiId"])["Items"]
    }


def test_stages_pin_a_version(tmp_path: Path, moto: str, cli_factory: Any) -> None:
    root = write_project(
        tmp_path / "p",
        PROJECT.format(endpoint=moto, stages="[v1, v2]"),
        agents={"support": AGENT_NO_LAYER},
        requirements="",
    )
    cli = cli_factory(root)
    first = cli("deploy", "--json")
    assert first.returncode == 0, first.stderr + first.stdout
    assert _stages(moto) == {
        "$default": {"alias_support": "live"},
        "v1": {"alias_support": "live"},
        "v2": {"alias_support": "live"},
    }
    apigw = _client(moto, "apigatewayv2")
    (api,) = apigw.get_apis()["Items"]
    (integration,) = apigw.get_integrations(ApiId=api["ApiId"])["Items"]
    assert integration["IntegrationUri"].endswith(f":function:{FUNCTION}:${{stageVariables.alias_support}}")

    # a second version ships on `live`; v1 is pinned to the first
    (root / "agents" / "support" / "agent.py").write_text(AGENT_NO_LAYER + "\nREVISION = 2\n")
    assert cli("deploy", "--json").returncode == 0
    lam = _client(moto, "lambda")
    assert lam.get_alias(FunctionName=FUNCTION, Name="live")["FunctionVersion"] == "2"
    _write(root, moto, "{v1: {alias: 1}, v2: {alias: live, tier: gold}}")
    pinned = cli("deploy", "--json")
    assert pinned.returncode == 0, pinned.stderr + pinned.stdout
    assert _stages(moto) == {
        "$default": {"alias_support": "live"},
        "v1": {"alias_support": "stage-v1"},
        "v2": {"alias_support": "live", "tier": "gold"},
    }
    assert lam.get_alias(FunctionName=FUNCTION, Name="stage-v1")["FunctionVersion"] == "1"
    assert lam.get_alias(FunctionName=FUNCTION, Name="live")["FunctionVersion"] == "2"
    policy = json.loads(lam.get_policy(FunctionName=FUNCTION, Qualifier="stage-v1")["Policy"])
    # (moto keeps one policy per function: the statement on the pin is told by its Resource)
    (statement,) = [s for s in policy["Statement"] if s["Resource"].endswith(":stage-v1")]
    assert statement["Principal"] == {"Service": "apigateway.amazonaws.com"}
    source = statement["Condition"]["ArnLike"]["AWS:SourceArn"]
    assert source.endswith(f":{api['ApiId']}/v1/POST/agents/support")

    again = cli("plan", "--detailed-exitcode")
    assert again.returncode == 0, again.stdout + again.stderr  # nothing left to change

    # unpinned again: the pin alias and its permission go, the stage follows `live`
    _write(root, moto, "[v1]")
    assert cli("deploy", "--json").returncode == 0
    assert _stages(moto) == {"$default": {"alias_support": "live"}, "v1": {"alias_support": "live"}}
    aliases = [a["Name"] for a in lam.list_aliases(FunctionName=FUNCTION)["Aliases"]]
    assert aliases == ["live"]


def test_stages_need_an_http_api(tmp_path: Path, moto: str, cli_factory: Any) -> None:
    root = write_project(
        tmp_path / "p",
        PROJECT.format(endpoint=moto, stages="[v1]").replace("expose: http", "expose: url"),
        agents={"support": AGENT_NO_LAYER},
        requirements="",
    )
    refused = cli_factory(root)("plan")
    assert refused.returncode != 0
    assert "stages of the HTTP API" in refused.stderr and "expose: http" in refused.stderr
    assert "Traceback" not in refused.stderr
