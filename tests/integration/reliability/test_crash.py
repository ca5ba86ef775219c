"""issue 7.1: SIGKILL at every point of a multi-resource deploy, then a rerun finishes the job
with no duplicate resource, no orphan and a parseable state."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import boto3
import pytest

from tests.helpers import write_project

DRIVER = Path(__file__).with_name("crash_driver.py")
PROJECT = """\
project: crash
agents:
  bot:
    path: agents/bot
    expose: http
    alarms: false
    link: [items]
resources:
  items: {{type: table, key: id}}
environments:
  local: {{endpoint: "{endpoint}"}}
"""
CREATES = 8  # logs, role, policy, function, alias, http api, route, table


def clients(endpoint: str) -> dict[str, Any]:
    return {
        s: boto3.client(s, endpoint_url=endpoint, region_name="us-east-1")
        for s in ("lambda", "apigatewayv2", "iam", "dynamodb", "logs")
    }


@pytest.mark.parametrize(
    "point", [f"create:{i}" for i in range(1, CREATES + 1)] + ["write:1", "write:4", "write:9"]
)
def test_sigkill_then_rerun_recovers(point: str, tmp_path: Path, moto: str, cli_factory: Any) -> None:
    root = write_project(
        tmp_path / "p", PROJECT.format(endpoint=moto), agents={"bot": "agent = None\n"}, requirements=""
    )
    crashed = subprocess.run(
        [sys.executable, str(DRIVER), str(root), point], capture_output=True, text=True, timeout=120
    )
    assert crashed.returncode == -9, crashed.stderr  # killed at the chosen point
    state_file = root / ".strands/state/local.json"
    if state_file.exists():
        json.loads(state_file.read_text())  # never truncated or unparseable
    lock = root / ".strands/state/local.lock"
    if lock.exists():  # the killed process held the lock: it is reported stale and released
        cli = cli_factory(root)
        blocked = cli("deploy")
        assert blocked.returncode == 1 and "no longer running" in blocked.stderr
        assert cli("state", "unlock").returncode == 0

    rerun = cli_factory(root)("deploy", "--json")
    assert rerun.returncode == 0, rerun.stderr + rerun.stdout
    c = clients(moto)
    assert [f["FunctionName"] for f in c["lambda"].list_functions()["Functions"]] == ["crash-local-bot"]
    assert len(c["apigatewayv2"].get_apis()["Items"]) == 1  # random id: adopted, not created twice
    api_id = c["apigatewayv2"].get_apis()["Items"][0]["ApiId"]
    assert len(c["apigatewayv2"].get_routes(ApiId=api_id)["Items"]) == 1
    assert len(c["apigatewayv2"].get_integrations(ApiId=api_id)["Items"]) == 1
    assert c["dynamodb"].list_tables()["TableNames"] == ["crash-local-items"]
    assert len(c["logs"].describe_log_groups()["logGroups"]) == 1
    state = json.loads(state_file.read_text())
    assert state["pending"] == []
    assert len(state["resources"]) == CREATES
    assert state["resources"]["shared.http-api"]["physical_id"] == api_id
    plan = cli_factory(root)("plan", "--detailed-exitcode")
    assert plan.returncode == 0, plan.stdout + plan.stderr
