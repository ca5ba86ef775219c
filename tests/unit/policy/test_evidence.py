"""The evidence of passes: every finding of a compliance report, passes included, shows the
property values its rule looked at; secret values never appear; the recording views never change
a verdict."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema

from strands_deploy.policy.formats import render
from strands_deploy.policy.model import AgentSubject, Finding, ResourceSubject, Rule
from strands_deploy.policy.registry import ATTR, rule
from strands_deploy.policy.report import compliance_extra
from tests.unit.policy.helpers import run, write

SCHEMA = json.loads((Path(__file__).resolve().parents[2] / "fixtures" / "sarif-2.1.0.json").read_text())
CANARY = "canarycanary"  # low entropy: SEC-007 passes, and its value must not be shown


def one(findings: list[Finding], rule_id: str, address: str) -> Finding:
    [found] = [f for f in findings if f.rule.id == rule_id and f.address == address]
    return found


def rule_of(fn: Any) -> Rule:
    found: Rule = getattr(fn, ATTR)
    return found


def test_passes_carry_the_values_their_rule_looked_at(tmp_path: Path) -> None:
    result = run(write(tmp_path / "p"), "prod")
    table = one(result.findings, "REL-001", "resource.tickets.table")
    assert table.status == "pass" and table.evidence == "pitr: true; deletion_protection: true"
    assert one(result.findings, "SEC-008", "agent.bot.function").evidence == 'runtime: "python3.12"'
    assert one(result.findings, "SEC-010", "agent.bot").evidence == "production: true; tracing: true"
    assert one(result.findings, "REL-004", "agent.bot").evidence == 'function.timeout: 120; expose: "url"'
    # a setting read whole shows its value; a model read field by field shows the fields only
    assert one(result.findings, "AGT-001", "agent.bot").evidence == 'sessions: {"ttl_days": 30}'
    assert one(result.findings, "SEC-011", "agent.bot").evidence == 'code: "agents/bot"'


def test_a_failure_keeps_its_own_evidence(tmp_path: Path) -> None:
    result = run(write(tmp_path / "p", {"resources": {"jobs": {"dlq": False}}}), "prod")
    failed = one(result.findings, "REL-002", "resource.jobs.queue")
    assert (failed.status, failed.evidence) == ("fail", "dlq: false")


def test_environment_values_never_appear_only_their_names(tmp_path: Path) -> None:
    over = {"agents": {"bot": {"environment": {"MODE": CANARY}}}}
    result = run(write(tmp_path / "p", over), "prod")
    evidence = one(result.findings, "SEC-007", "agent.bot")
    assert evidence.status == "pass" and "MODE" in evidence.evidence
    for fmt in ("json", "md", "html", "sarif"):
        assert CANARY not in render(fmt, result, compliance_extra([])), fmt


def test_custom_rules_get_evidence_from_typed_props_and_config(tmp_path: Path) -> None:
    @rule("TEAM-101", "warning", "functions run on arm64", types=["aws.lambda.function"])
    def on_arm(resource: ResourceSubject) -> bool:
        return bool(resource.typed.architecture == "arm64")

    @rule("TEAM-102", "warning", "agents are described")
    def described(agent: AgentSubject) -> bool:
        return isinstance(agent.config.description, str) or agent.config.memory is None

    result = run(
        write(tmp_path / "p", {"agents": {"bot": {"description": "bot"}}}),
        rules=[rule_of(on_arm), rule_of(described)],
    )
    assert one(result.findings, "TEAM-101", "agent.bot.function").evidence == 'architecture: "arm64"'
    assert one(result.findings, "TEAM-102", "agent.bot").evidence == 'description: "bot"'


def test_the_recording_views_never_decide_a_verdict(tmp_path: Path) -> None:
    @rule("TEAM-103", "error", "strict about types", types=["aws.sqs.queue"])
    def strict(resource: ResourceSubject) -> bool:
        if type(resource.props) is not dict:  # true only of the recording view
            raise TypeError("not a plain dict")
        return True

    @rule("TEAM-104", "error", "isinstance sees the model")
    def typed(agent: AgentSubject) -> bool:
        from strands_deploy.config.schema import AgentConfig

        return isinstance(agent.config, AgentConfig)

    result = run(write(tmp_path / "p"), rules=[rule_of(strict), rule_of(typed)])
    assert [f.status for f in result.findings] == ["pass", "pass"]
    assert (
        one(result.findings, "TEAM-103", "resource.jobs.queue").evidence == ""
    )  # judged on the plain subject


def test_compliance_sarif_lists_passes_with_kind_pass(tmp_path: Path) -> None:
    result = run(write(tmp_path / "p"), "prod")
    doc = json.loads(render("sarif", result, compliance_extra([])))
    jsonschema.Draft4Validator(SCHEMA).validate(doc)
    passes = [r for r in doc["runs"][0]["results"] if r.get("kind") == "pass"]
    assert passes and all(r["level"] == "none" for r in passes)
    table = next(r for r in passes if r["ruleId"] == "REL-001")
    assert "pitr: true" in table["message"]["text"]
    # `check --format sarif` (no compliance extra) still lists only what needs attention
    plain = json.loads(render("sarif", result))
    assert all(r.get("kind") != "pass" for r in plain["runs"][0]["results"])


def test_compliance_json_has_every_finding_with_evidence(tmp_path: Path) -> None:
    result = run(write(tmp_path / "p"), "prod")
    doc = json.loads(render("json", result, compliance_extra([])))
    passes = [f for f in doc["findings"] if f["status"] == "pass"]
    assert len(passes) == result.counts()["pass"]
    assert {
        "rule": "REL-001",
        "resource": "resource.tickets.table",
        "evidence": "pitr: true; deletion_protection: true",
    }.items() <= next(f for f in passes if f["rule"] == "REL-001").items()
