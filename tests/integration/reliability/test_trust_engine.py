"""Issue 10 against a real moto server: a lost state adopts instead of replacing, another
project's resources are never touched, untracked resources are reported, saved plans run exactly
and refuse when stale, and read-only commands work while an agent has a syntax error."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import boto3
import pytest

from strands_deploy import services as svc
from strands_deploy.errors import StrandsDeployError
from tests.helpers import write_project

PROJECT = """\
project: {project}
agents:
  support: {{path: agents/support, alarms: false, expose: http, link: [tickets, docs, token]}}
resources:
  tickets: {{type: table, key: id}}
  docs: {{type: bucket}}
  token: {{type: secret, from_env: TRUST_TOKEN}}
environments:
  local: {{endpoint: "{endpoint}"}}
"""

AGENT = "agent = None\n"
SECRET = "s3cr3t-Value-for-trust-tests"


def client(service: str, endpoint: str) -> Any:
    return boto3.client(service, endpoint_url=endpoint, region_name="us-east-1")


@pytest.fixture
def project(tmp_path: Path, moto: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("TRUST_TOKEN", SECRET)
    return write_project(
        tmp_path / "p",
        PROJECT.format(project="trust", endpoint=moto),
        agents={"support": AGENT},
        requirements="",
    )


def deploy(root: Path) -> Any:
    outcome = svc.deploy(svc.open_services(root, "local"))
    assert outcome is not None
    return outcome


def test_lost_state_adopts_everything_and_loses_no_data(project: Path, moto: str) -> None:
    assert deploy(project).result.ok
    ddb = client("dynamodb", moto)
    ddb.put_item(TableName="trust-local-tickets", Item={"id": {"S": "t-1"}})
    state_dir = project / ".strands" / "state"
    moved = project.parent / "moved"
    moved.mkdir()
    for f in state_dir.glob("local.json*"):
        shutil.move(str(f), moved / f.name)

    plan = svc.make_plan(svc.open_services(project, "local")).plan
    actions = {c.address: c.action.value for c in plan.actionable}
    assert actions["resource.tickets.table"] == "adopt" and actions["shared.http-api"] == "adopt"
    assert "replace" not in actions.values()

    for _ in range(2):
        outcome = deploy(project)
        assert outcome.result.ok, outcome.result.to_json()
    assert ddb.get_item(TableName="trust-local-tickets", Key={"id": {"S": "t-1"}}).get("Item")  # data kept
    assert len(client("apigatewayv2", moto).get_apis()["Items"]) == 1  # no second HTTP API
    state = json.loads((state_dir / "local.json").read_text())
    assert all(r["status"] == "ok" for r in state["resources"].values())
    assert not svc.make_plan(svc.open_services(project, "local")).plan.has_changes()


def test_a_copied_project_never_touches_the_original(project: Path, moto: str) -> None:
    assert deploy(project).result.ok
    copy = project.parent / "copy"
    shutil.copytree(project, copy)
    text = (copy / "strands.yaml").read_text().replace("project: trust", "project: trust2")
    (copy / "strands.yaml").write_text(text)
    with pytest.raises(StrandsDeployError) as info:
        deploy(copy)
    assert "belongs to project 'trust'" in info.value.what and info.value.fix
    # an old state file without the binding: the live tags still protect the original's resources
    path = copy / ".strands/state/local.json"
    data = json.loads(path.read_text())
    for key in ("project", "account", "region"):
        data.pop(key, None)
    path.write_text(json.dumps(data))
    outcome = deploy(copy)
    refused = {a: e.what for a, e in outcome.result.failed.items()}
    assert "resource.tickets.table" in refused and "trust/local" in refused["resource.tickets.table"]
    assert "trust-local-tickets" in client("dynamodb", moto).list_tables()["TableNames"]


def test_plan_reports_untracked_resources(project: Path, moto: str) -> None:
    assert deploy(project).result.ok
    path = project / ".strands/state/local.json"
    data = json.loads(path.read_text())
    del data["resources"]["resource.docs.bucket"]  # a resource the state lost track of
    path.write_text(json.dumps(data))
    text = (project / "strands.yaml").read_text().replace("  docs: {type: bucket}\n", "")
    (project / "strands.yaml").write_text(
        text.replace("link: [tickets, docs, token]", "link: [tickets, token]")
    )
    plan = svc.make_plan(svc.open_services(project, "local")).plan
    names = [u["name"] for u in plan.untracked]
    assert any(n.startswith("trust-local-docs") for n in names), plan.untracked


def test_saved_plan_runs_exactly_and_refuses_when_stale(project: Path, moto: str, cli_factory: Any) -> None:
    cli = cli_factory(project, env={"TRUST_TOKEN": SECRET})
    out = project / "plan.json"
    made = cli("plan", "--out", str(out))
    assert made.returncode == 0, made.stderr
    text = out.read_text()
    assert SECRET not in text and "TRUST_TOKEN" in text  # the source, never the value
    applied = cli("deploy", "--plan", str(out), "--json")
    assert applied.returncode == 0, applied.stderr + applied.stdout
    assert json.loads(applied.stdout)["result"]["ok"]

    # the same plan again: the state moved (serial), refused
    again = cli("deploy", "--plan", str(out))
    assert again.returncode == 1 and "stale" in again.stderr and "serial" in again.stderr

    # code changed after the plan: refused
    (project / "agents/support/agent.py").write_text(AGENT + "# v2\n")
    assert cli("plan", "--out", str(out)).returncode == 0
    (project / "agents/support/agent.py").write_text(AGENT + "# v3\n")
    stale = cli("deploy", "--plan", str(out))
    assert stale.returncode == 1 and "code or requirements changed" in stale.stderr

    # a plan for another project
    doc = json.loads(out.read_text())
    doc["project"] = "someone-else"
    out.write_text(json.dumps(doc))
    other = cli("deploy", "--plan", str(out))
    assert (
        other.returncode == 1 and "project 'someone-else'" in other.stderr and "Traceback" not in other.stderr
    )


def test_read_commands_work_while_an_agent_has_a_syntax_error(
    project: Path, moto: str, cli_factory: Any
) -> None:
    assert deploy(project).result.ok
    (project / "agents/support/agent.py").write_text("def broken(:\n")
    cli = cli_factory(project, env={"TRUST_TOKEN": SECRET})
    for args in (
        ("list",),
        ("outputs",),
        ("state", "show"),
        ("graph",),
        ("describe", "resource.tickets.table"),
    ):
        proc = cli(*args)
        assert proc.returncode == 0, (args, proc.stderr)
    plan = cli("plan")
    assert plan.returncode == 1 and "syntax error" in plan.stderr and "agent.py:1" in plan.stderr
    assert cli("destroy", "--yes").returncode in (
        0,
        1,
    )  # runs (a retained bucket may refuse), never blocked by code


def test_target_that_matches_nothing_is_an_error(project: Path, cli_factory: Any) -> None:
    proc = cli_factory(project, env={"TRUST_TOKEN": SECRET})("plan", "--target", "agent.suport")
    assert proc.returncode == 1 and "matches no resource" in proc.stderr and "agent.support" in proc.stderr


def test_state_of_another_account_or_region_is_refused(project: Path, moto: str) -> None:
    assert deploy(project).result.ok
    path = project / ".strands/state/local.json"
    data = json.loads(path.read_text())
    assert data["project"] == "trust" and data["account"] and data["region"] == "us-east-1"
    for key, value in (("account", "999999999999"), ("region", "eu-west-1")):
        changed = {**data, key: value}
        path.write_text(json.dumps(changed))
        with pytest.raises(StrandsDeployError) as info:
            deploy(project)
        assert f"{key} {value}" in info.value.what
    path.write_text(json.dumps(data))
    assert deploy(project).result.ok
