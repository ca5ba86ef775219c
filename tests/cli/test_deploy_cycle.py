"""issue 2's 'done when', end to end through the installed console script against moto."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3

from tests.helpers import AGENT_NO_LAYER, write_project

PROJECT = """\
project: cyc
region: us-east-1
agents:
  support:
    path: agents/support
    expose: url
    sessions: true
    link: [tickets]
  other:
    path: agents/other
    expose: http
resources:
  tickets: {{type: table, key: id}}
environments:
  local: {{endpoint: "{endpoint}"}}
"""

AGENT = AGENT_NO_LAYER


def client(service: str, endpoint: str) -> Any:
    return boto3.client(service, endpoint_url=endpoint, region_name="us-east-1")


def test_deploy_plan_edit_destroy(tmp_path: Path, moto: str, cli_factory: Any) -> None:
    root = write_project(
        tmp_path / "p",
        PROJECT.format(endpoint=moto),
        agents={"support": AGENT, "other": AGENT},
        requirements="",
    )
    cli = cli_factory(root)

    first = cli("deploy", "--json")
    assert first.returncode == 0, first.stderr + first.stdout
    result = json.loads(first.stdout)
    assert result["result"]["ok"] and not result["result"]["failed"]
    lam = client("lambda", moto)
    names = {f["FunctionName"] for f in lam.list_functions()["Functions"]}
    assert names == {"cyc-local-support", "cyc-local-other"}
    assert lam.get_alias(FunctionName="cyc-local-support", Name="live")["FunctionVersion"] != "$LATEST"
    env = lam.get_function_configuration(FunctionName="cyc-local-support")["Environment"]["Variables"]
    assert env["STRANDS_LINK_TICKETS_TABLE"] == "cyc-local-tickets"

    # nothing changed: plan shows no changes (exit code 0 with --detailed-exitcode)
    again = cli("plan", "--detailed-exitcode")
    assert again.returncode == 0, again.stdout + again.stderr
    assert "No changes" in again.stdout
    state_before = json.loads((root / ".strands/state/local.json").read_text())
    noop = cli("deploy", "--json")
    assert noop.returncode == 0 and json.loads(noop.stdout)["result"]["applied"] == []
    assert json.loads((root / ".strands/state/local.json").read_text())["serial"] == state_before["serial"]

    # one agent's code changes: exactly that function (and its alias) are updated
    (root / "agents/support/agent.py").write_text(AGENT + "# changed\n")
    plan = cli("plan", "--detailed-exitcode", "--json")
    assert plan.returncode == 2
    changed = {c["address"]: c["action"] for c in json.loads(plan.stdout)["changes"]}
    assert changed == {"agent.support.function": "update", "agent.support.alias": "update"}
    update = json.loads(cli("deploy", "--json").stdout)
    assert sorted(update["result"]["applied"]) == ["agent.support.alias", "agent.support.function"]
    versions = lam.list_versions_by_function(FunctionName="cyc-local-support")["Versions"]
    assert len([v for v in versions if v["Version"] != "$LATEST"]) == 2

    # destroy shows its plan and needs a confirmation: without a terminal, --yes
    preview = cli("plan", "--destroy", "--json")
    assert preview.returncode == 0 and {c["action"] for c in json.loads(preview.stdout)["changes"]} == {
        "delete"
    }
    refused = cli("destroy")
    assert refused.returncode == 1 and "--yes" in refused.stderr and "Traceback" not in refused.stderr
    assert lam.list_functions()["Functions"] != []
    # destroy leaves nothing of the project and an empty state
    gone = cli("destroy", "--json", "--yes")
    assert gone.returncode == 0, gone.stderr + gone.stdout
    assert lam.list_functions()["Functions"] == []
    assert [r for r in client("iam", moto).list_roles()["Roles"] if r["RoleName"].startswith("cyc-")] == []
    assert client("dynamodb", moto).list_tables()["TableNames"] == []
    assert client("s3", moto).list_buckets()["Buckets"] == []
    assert client("logs", moto).describe_log_groups()["logGroups"] == []
    assert client("cloudwatch", moto).describe_alarms()["MetricAlarms"] == []
    assert client("apigatewayv2", moto).get_apis()["Items"] == []
    state = json.loads((root / ".strands/state/local.json").read_text())
    assert state["resources"] == {} and state["pending"] == []


def test_invalid_config_exits_1_without_traceback(tmp_path: Path, cli_factory: Any) -> None:
    root = write_project(
        tmp_path / "p", "project: acme\nagents:\n  a: {path: agents/a, memroy: 1}\n", agents={"a": AGENT}
    )
    for args in (("validate",), ("plan",), ("deploy",)):
        proc = cli_factory(root)(*args)
        assert proc.returncode == 1
        assert "Traceback" not in proc.stderr
        assert "strands.yaml:3:23: unknown key 'memroy'" in proc.stderr
        assert "did you mean 'memory'?" in proc.stderr
    debug = cli_factory(root)("--debug", "validate")
    assert "Traceback" in debug.stderr


def test_protected_environment_needs_yes(tmp_path: Path, moto: str, cli_factory: Any) -> None:
    text = PROJECT.format(endpoint=moto) + f'  prod: {{endpoint: "{moto}", protect: true}}\n'
    root = write_project(tmp_path / "p", text, agents={"support": AGENT, "other": AGENT}, requirements="")
    proc = cli_factory(root)("deploy", "--env", "prod")
    assert proc.returncode == 1 and "protected" in proc.stderr and "--yes" in proc.stderr
    assert client("lambda", moto).list_functions()["Functions"] == []
