"""`check`, `report compliance` and `approve` end to end through the console script."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema

from strands_deploy.planning.plan import Action, Change, Plan
from strands_deploy.planning.saved import save_plan
from tests.unit.policy.helpers import write

SCHEMA = json.loads((Path(__file__).resolve().parents[1] / "fixtures" / "sarif-2.1.0.json").read_text())
DANGEROUS = "from strands import Agent\nfrom strands_tools import shell\n\nagent = Agent(tools=[shell])\n"


def test_check_exits_1_on_an_error_and_0_when_clean(tmp_path: Path, cli_factory: Any) -> None:
    bad = write(tmp_path / "bad", {"agents": {"bot": {"auth": "none"}}}, code=DANGEROUS)
    proc = cli_factory(bad)("check", "--env", "dev")
    assert proc.returncode == 1, proc.stderr
    assert "AGT-004" in proc.stdout and "policy: blocked" in proc.stdout and "Traceback" not in proc.stderr
    assert "known-vulnerability check skipped offline" in proc.stdout
    good = write(tmp_path / "good")
    proc = cli_factory(good)("check", "--env", "dev", "--format", "json")
    assert proc.returncode == 0, proc.stderr + proc.stdout
    doc = json.loads(proc.stdout)
    assert doc["ok"] is True and doc["counts"]["error"] == 0 and doc["counts"]["pass"] > 20


def test_check_sarif_file_and_sbom(tmp_path: Path, cli_factory: Any) -> None:
    root = write(tmp_path / "p", {"agents": {"bot": {"tracing": False}}})
    (root / "agents" / "bot" / "requirements.txt").write_text("strands-agents==1.2.0\nboto3\n")
    out = tmp_path / "out.sarif"
    proc = cli_factory(root)(
        "check", "--env", "prod", "--format", "sarif", "-o", str(out), "--sbom", str(tmp_path / "sbom")
    )
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(out.read_text())
    jsonschema.Draft4Validator(SCHEMA).validate(doc)
    assert "SEC-010" in {r["ruleId"] for r in doc["runs"][0]["results"]}
    bom = json.loads((tmp_path / "sbom" / "bot.cdx.json").read_text())
    assert bom["bomFormat"] == "CycloneDX"
    assert {(c["name"], c.get("version")) for c in bom["components"]} == {
        ("strands-agents", "1.2.0"),
        ("boto3", None),
    }


def test_a_governance_limit_refuses_with_a_clear_message(tmp_path: Path, cli_factory: Any) -> None:
    over = {
        "agents": {"bot": {"memory": 4096, "memory_reason": "big index"}},
        "environments": {"dev": {"governance": {"max": {"memory": 2048}}}},
    }
    proc = cli_factory(write(tmp_path, over))("check", "--env", "dev")
    assert proc.returncode == 1
    assert "GOV-005 agent.bot.function: memory 4096 is over the limit of 2048" in proc.stdout


def test_approve_and_the_compliance_report(tmp_path: Path, cli_factory: Any) -> None:
    root = write(tmp_path / "p", {"environments": {"local": {"require_approval": True}}})
    cli = cli_factory(root)
    plan = Plan(
        "local", [Change("resource.tickets.table", "aws.dynamodb.table", Action.CREATE, props={"name": "t"})]
    )
    path = root / "plan.json"
    save_plan(plan, path, made_by="bob")
    proc = cli("approve", str(path))
    assert proc.returncode == 1 and "--as" in proc.stderr
    proc = cli("approve", str(path), "--as", "bob")
    assert proc.returncode == 1 and "bob made this plan and cannot approve it" in proc.stderr
    proc = cli("approve", str(path), "--as", "alice")
    assert proc.returncode == 0, proc.stderr
    assert "Approved" in proc.stderr and "made by bob" in proc.stderr
    report = tmp_path / "report.html"
    proc = cli("report", "compliance", "--format", "html", "-o", str(report))
    assert proc.returncode == 0, proc.stderr
    html = report.read_text()
    assert "<svg" in html and "Approvals" in html
    proc = cli("report", "compliance", "--format", "md")
    assert proc.returncode == 0, proc.stderr
    approvals = proc.stdout.split("## Approvals", 1)[1].split("##", 1)[0]
    assert "approved sha256:" in approvals and "(made by bob)" in approvals
