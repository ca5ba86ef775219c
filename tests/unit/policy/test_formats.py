"""Each output format of a review; SARIF validated against the official SARIF 2.1.0 schema."""

from __future__ import annotations

import json
from pathlib import Path
from xml.etree import ElementTree as ET

import jsonschema
import pytest

from strands_deploy.policy.evaluate import PolicyReview
from strands_deploy.policy.formats import render
from strands_deploy.policy.report import compliance_extra
from tests.unit.policy.helpers import run, write

SCHEMA = json.loads((Path(__file__).resolve().parents[2] / "fixtures" / "sarif-2.1.0.json").read_text())
OVER = {
    "agents": {"bot": {"auth": "none", "tracing": False}},
    "environments": {
        "prod": {"suppress": [{"rule": "SEC-003", "resource": "agent.bot", "reason": "public <FAQ> bot"}]}
    },
}
RECORDS = [
    {
        "at": "2026-11-20T10:00:00Z",
        "command": "strands-deploy approve plan.json",
        "who": "arn:aws:iam::1:user/alice",
        "plan_digest": "sha256:ab",
        "detail": "approved plan made by bob",
        "result": "ok",
    },
    {
        "at": "2026-11-20T11:00:00Z",
        "command": "strands-deploy deploy --plan plan.json",
        "who": "arn:aws:iam::1:user/ci",
        "plan_digest": "sha256:ab",
        "result": "ok",
    },
    {"at": "2025-01-01T00:00:00Z", "command": "strands-deploy deploy", "who": "old", "result": "ok"},
]


@pytest.fixture
def review(tmp_path: Path) -> PolicyReview:
    return run(write(tmp_path, OVER), "prod")


def test_sarif_is_valid_sarif_2_1_0(review: PolicyReview) -> None:
    doc = json.loads(render("sarif", review))
    jsonschema.Draft4Validator(SCHEMA).validate(doc)
    run_ = doc["runs"][0]
    ids = [r["id"] for r in run_["tool"]["driver"]["rules"]]
    assert len(ids) == len(set(ids)) and "SEC-001" in ids
    results = {r["ruleId"]: r for r in run_["results"]}
    assert results["SEC-010"]["level"] == "warning"
    assert results["SEC-003"]["suppressions"][0]["justification"] == "public <FAQ> bot"
    for r in run_["results"]:
        assert ids[r["ruleIndex"]] == r["ruleId"]


def test_an_invalid_document_fails_the_schema() -> None:
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft4Validator(SCHEMA).validate({"version": "2.1.0", "runs": [{"tool": {}}]})


def test_junit(review: PolicyReview) -> None:
    root = ET.fromstring(render("junit", review))
    suites = {s.get("name"): s for s in root.iter("testsuite")}
    assert {"security", "reliability", "agent", "cost", "governance"} <= set(suites)
    skipped = [c for c in root.iter("testcase") if c.find("skipped") is not None]
    assert [c.get("name") for c in skipped] == ["SEC-003 agent.bot"]
    assert int(suites["security"].get("failures")) == 0  # warnings and notes are not failures


def test_json_has_counts_findings_and_suppressions(review: PolicyReview) -> None:
    doc = json.loads(render("json", review))
    assert doc["ok"] is True and doc["counts"]["suppressed"] == 1
    assert all(f["status"] != "pass" for f in doc["findings"])


def test_markdown_and_html_compliance_reports(review: PolicyReview) -> None:
    import datetime as dt

    extra = compliance_extra(RECORDS, days=90, now=dt.datetime(2026, 11, 29, tzinfo=dt.UTC))
    assert [a["approver"] for a in extra["approvals"]] == ["arn:aws:iam::1:user/alice"]
    assert [h["who"] for h in extra["history"]] == ["arn:aws:iam::1:user/ci"]  # 2025 is out of the period
    md = render("md", review, extra)
    assert "| pass | error | SEC-001 |" in md and "public <FAQ> bot" in md
    assert "alice approved sha256:ab (made by bob)" in md and "deploy --plan plan.json" in md
    html = render("html", review, extra)
    body = html.split("<body>", 1)[1]
    assert body.index("<svg") < body.index("<table")  # the report opens with the summary chart
    assert "public &lt;FAQ&gt; bot" in html and "<FAQ>" not in html
    assert "NIST" in html and "AC-6" in html
    doc = json.loads(render("json", review, extra))
    assert any(f["status"] == "pass" for f in doc["findings"]) and doc["approvals"]
