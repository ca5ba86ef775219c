"""`plan` and `deploy` carry a review (docs/policy.md, docs/cost.md): the monthly cost change and
the policy findings beside the changes; a policy error or a forecast over the budget stops a
deploy before any change (unless --accept-cost REASON, recorded in the history). Against the
moto server, through the console script."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3

from tests.helpers import AGENT_NO_LAYER, write_project

PROJECT = """\
project: rev
agents:
  bot: {{path: agents/bot, alarms: false, memory: 2048}}
environments:
  prod:
    endpoint: "{endpoint}"
    governance: {{max: {{memory: 1024}}}}
{extra}
"""


def functions(moto: str) -> list[str]:
    lam = boto3.client("lambda", endpoint_url=moto, region_name="us-east-1")
    return [
        f["FunctionName"] for f in lam.list_functions()["Functions"] if f["FunctionName"].startswith("rev-")
    ]


def test_a_policy_error_blocks_the_deploy_until_suppressed(
    tmp_path: Path, moto: str, cli_factory: Any
) -> None:
    root = write_project(
        tmp_path / "p",
        PROJECT.format(endpoint=moto, extra=""),
        agents={"bot": AGENT_NO_LAYER},
        requirements="",
    )
    cli = cli_factory(root)
    plan = cli("plan", "--env", "prod", "--json")
    assert plan.returncode == 0, plan.stderr
    review = json.loads(plan.stdout)["review"]
    assert "policy" in review["blocked"] and review["cost"]["delta_monthly_usd"] > 0
    assert any(f["rule"] == "GOV-005" for f in review["policy"]["findings"])
    md = cli("plan", "--env", "prod", "--format", "markdown")
    assert "| error | GOV-005 |" in md.stdout and "Blocks the deploy" in md.stdout

    refused = cli("deploy", "--env", "prod")
    assert refused.returncode == 1
    assert (
        "policy error(s) block the deploy; nothing was changed: GOV-005 agent.bot.function" in refused.stderr
    )
    assert functions(moto) == []

    suppressed = PROJECT.format(
        endpoint=moto,
        extra="    suppress: [{rule: GOV-005, resource: agent.bot, reason: load test, until: 2099-01-01}]",
    )
    (root / "strands.yaml").write_text(suppressed)
    ok = cli("deploy", "--env", "prod")
    assert ok.returncode == 0, ok.stderr
    assert functions(moto) == ["rev-prod-bot"]


def test_a_forecast_over_budget_needs_accept_cost_and_the_reason_is_recorded(
    tmp_path: Path, moto: str, cli_factory: Any
) -> None:
    yaml = (
        PROJECT.format(endpoint=moto, extra="    budget: {monthly_usd: 1}")
        .replace("project: rev", "project: revb")
        .replace("governance: {max: {memory: 1024}}", "governance: {max: {memory: 4096}}")
    )
    root = write_project(tmp_path / "p", yaml, agents={"bot": AGENT_NO_LAYER}, requirements="")
    cli = cli_factory(root)
    refused = cli("deploy", "--env", "prod")
    assert refused.returncode == 1 and "--accept-cost" in refused.stderr, refused.stderr
    accepted = cli("deploy", "--env", "prod", "--accept-cost", "launch week traffic")
    assert accepted.returncode == 0, accepted.stderr
    history = cli("history", "--env", "prod", "--json")
    entries = json.loads(history.stdout)
    entries = entries if isinstance(entries, list) else entries.get("entries", entries.get("records", []))
    assert any("launch week traffic" in json.dumps(e) for e in entries), history.stdout
