"""Triggers without AWS: config checks, synthesis (resources, statements, STRANDS_TRIGGERS) and the
local cloud's schedule arithmetic and scheduler (with an injected clock)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from strands_deploy.config.loader import load_project
from strands_deploy.errors import ConfigError
from strands_deploy.local.triggers import Cron, Scheduler, next_fire, rate_seconds
from strands_deploy.synth import synthesize
from strands_deploy.synth.graph import Graph
from tests.helpers import write_project

PROJECT = """\
project: acme
region: us-east-1
agents:
  bot:
    path: agents/bot
    trigger: jobs
    triggers:
      - {topic: news, prompt: "News: {{ sns.message }}"}
      - {bucket: docs, prefix: in/, suffix: .txt}
      - {bucket: docs, events: [removed]}
      - {schedule: "rate(1 hour)"}
      - {pattern: {source: [my.app]}}
      - {table: tickets}
  other:
    path: agents/other
    triggers: [{bucket: docs}]
resources:
  jobs: {type: queue}
  news: {type: topic}
  docs: {type: bucket}
  tickets: {type: table, key: id}
environments:
  dev: {account: "111122223333"}
"""


def graph(tmp_path: Path, text: str = PROJECT) -> Graph:
    root = write_project(
        tmp_path / "p", text, agents={"bot": "agent = 1\n", "other": "agent = 2\n"}, requirements=""
    )
    return synthesize(
        load_project(root),
        "dev",
        target="aws",
        account="111122223333",
        secret_value=lambda s: "",
        fingerprint_key=b"k" * 32,
    )


def test_each_trigger_kind_becomes_its_resources(tmp_path: Path) -> None:
    g = graph(tmp_path)
    types = {a: r.type for a, r in g.resources.items() if ".trigger-" in a or a.endswith(".notification")}
    assert types == {
        "agent.bot.trigger-jobs": "aws.lambda.event_source",
        "agent.bot.trigger-news-permission": "aws.lambda.permission",
        "agent.bot.trigger-news": "aws.sns.subscription",
        "agent.bot.trigger-docs-permission": "aws.lambda.permission",  # one for both bucket triggers
        "agent.bot.trigger-schedule-permission": "aws.lambda.permission",
        "agent.bot.trigger-schedule": "aws.events.rule",
        "agent.bot.trigger-pattern-permission": "aws.lambda.permission",
        "agent.bot.trigger-pattern": "aws.events.rule",
        "agent.bot.trigger-tickets": "aws.lambda.event_source",
        "agent.other.trigger-docs-permission": "aws.lambda.permission",
        "resource.docs.notification": "aws.s3.notification",
    }
    notification = g.resources["resource.docs.notification"]
    assert [f["id"] for f in notification.props["functions"]] == [
        "strands-bot-docs",
        "strands-bot-docs-2",
        "strands-other-docs",
    ]
    assert {
        "agent.bot.trigger-docs-permission",
        "agent.other.trigger-docs-permission",
    } <= notification.depends_on
    assert g.resources["resource.tickets.table"].props["stream"] is True
    assert g.resources["agent.bot.trigger-tickets"].props["starting_position"] == "LATEST"
    rule = g.resources["agent.bot.trigger-schedule"]
    assert (
        rule.props["schedule"] == "rate(1 hour)"
        and "agent.bot.trigger-schedule-permission" in rule.depends_on
    )
    s3 = g.resources["agent.bot.trigger-docs-permission"].props
    assert (s3["principal"], s3["source_account"]) == ("s3.amazonaws.com", "111122223333")


def test_role_statements_and_the_runtime_contract(tmp_path: Path) -> None:
    g = graph(tmp_path)
    statements = {s["Sid"]: s for s in g.resources["agent.bot.policy"].props["document"]["Statement"]}
    assert statements["Trigger"]["Resource"] == ["arn:aws:sqs:us-east-1:111122223333:acme-dev-jobs"]
    assert statements["TriggerStreams"]["Resource"] == [
        "arn:aws:dynamodb:us-east-1:111122223333:table/acme-dev-tickets/stream/*"
    ]
    assert "dynamodb:GetRecords" in statements["TriggerStreams"]["Action"]
    # pushing sources (SNS, S3, EventBridge) get no role statement
    assert set(statements) == {"Logs", "Models", "Trigger", "TriggerStreams"}
    env = g.resources["agent.bot.function"].props["environment"]
    triggers = json.loads(env["STRANDS_TRIGGERS"])
    assert triggers[:2] == [
        {"kind": "queue", "source": "acme-dev-jobs", "prompt": None},
        {"kind": "topic", "source": "acme-dev-news", "prompt": "News: {{ sns.message }}"},
    ]
    assert [t["source"] for t in triggers[2:]] == [
        "acme-dev-docs-111122223333",
        "acme-dev-docs-111122223333",
        "acme-dev-bot-schedule",
        "acme-dev-bot-pattern",
        "acme-dev-tickets",
    ]
    assert ", " not in env["STRANDS_TRIGGERS"] and ": " not in env["STRANDS_TRIGGERS"].replace("News: ", "")


def test_an_agent_without_triggers_has_no_variable(tmp_path: Path) -> None:
    text = "project: acme\nagents:\n  bot: {path: agents/bot}\nenvironments: {dev: {}}\n"
    g = graph(tmp_path, text)
    assert "STRANDS_TRIGGERS" not in g.resources["agent.bot.function"].props["environment"]


@pytest.mark.parametrize(
    ("triggers", "message"),
    [
        ("[{topic: nwes}]", "topic trigger 'nwes' is not a declared resource"),
        ("[{table: news}]", "table trigger 'news' is a topic, not a table"),
        ("[{bucket: tickets}]", "bucket trigger 'tickets' is a table, not a bucket"),
        ("[{pattern: {}}]", "needs a non-empty pattern"),
        ('[{schedule: "rate(1 minutes)"}]', "is not a valid rate"),
        ('[{schedule: "cron(0 9 * *)"}]', "needs six cron fields"),
        ("[{queue: jobs}, {queue: jobs}]", "triggered by queue 'jobs' twice"),
    ],
)
def test_bad_triggers_are_refused_with_their_place(tmp_path: Path, triggers: str, message: str) -> None:
    text = (
        "project: acme\nagents:\n  bot:\n    path: agents/bot\n"
        f"    triggers: {triggers}\n"
        "resources:\n  news: {type: topic}\n  tickets: {type: table, key: id}\n  jobs: {type: queue}\n"
    )
    root = write_project(tmp_path / "p", text, agents={"bot": "agent = 1\n"}, requirements="")
    with pytest.raises(ConfigError) as err:
        load_project(root)
    text_out = str(err.value)
    assert message in text_out and "strands.yaml:5" in text_out, text_out


def test_did_you_mean_for_a_misspelt_source(tmp_path: Path) -> None:
    text = "project: acme\nagents:\n  bot:\n    path: agents/bot\n    triggers: [{topic: nwes}]\nresources:\n  news: {type: topic}\n"
    root = write_project(tmp_path / "p", text, agents={"bot": "agent = 1\n"}, requirements="")
    with pytest.raises(ConfigError) as err:
        load_project(root)
    assert "did you mean 'news'?" in str(err.value)


# -- the local cloud's schedules ------------------------------------------------------------------
def ts(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


def test_rates_and_crons() -> None:
    assert rate_seconds("rate(1 minute)") == 60 and rate_seconds("rate(2 hours)") == 7200
    assert next_fire("rate(5 minutes)", 1000.0) == 1300.0
    assert next_fire("rate(1 minute)", 1000.0, speed=60) == 1001.0
    daily = Cron.parse("cron(0 9 * * ? *)")
    assert daily is not None and daily.next_after(ts("2025-03-01T08:59:59")) == ts("2025-03-01T09:00:00")
    assert daily.next_after(ts("2025-03-01T09:00:00")) == ts("2025-03-02T09:00:00")
    weekdays = Cron.parse("cron(0/15 18 ? * MON-FRI *)")
    assert weekdays is not None  # Saturday 2025-03-01 → Monday 18:00, then every 15 minutes
    assert weekdays.next_after(ts("2025-03-01T12:00:00")) == ts("2025-03-03T18:00:00")
    assert weekdays.next_after(ts("2025-03-03T18:00:00")) == ts("2025-03-03T18:15:00")
    assert Cron.parse("cron(0 10 L * ? *)") is None  # not supported locally: never fires
    assert next_fire("rate(often)", 0.0) is None


def test_scheduler_fires_on_the_injected_clock() -> None:
    now = [1000.0]
    rule = SimpleNamespace(
        arn="arn:rule/a", name="a", scheduled_expression="rate(1 minute)", account_id="1", region_name="r"
    )
    rules: list[Any] = [rule]
    fired: list[dict[str, Any]] = []
    scheduler = Scheduler(lambda r, e: fired.append(e), rules=lambda: iter(rules), clock=lambda: now[0])
    assert scheduler.run_due() == 0  # first seen: the first run is one period later
    now[0] = 1059.0
    assert scheduler.run_due() == 0
    now[0] = 1060.0
    assert scheduler.run_due() == 1
    assert fired[0]["detail-type"] == "Scheduled Event" and fired[0]["resources"] == ["arn:rule/a"]
    assert fired[0]["source"] == "aws.events" and fired[0]["detail"] == {}
    now[0] = 1061.0
    assert scheduler.run_due() == 0
    now[0] = 1120.0
    assert scheduler.run_due() == 1
    rules.clear()  # a deleted rule is forgotten
    now[0] = 2000.0
    assert scheduler.run_due() == 0 and scheduler._due == {}


def test_scheduler_thread_stops() -> None:
    scheduler = Scheduler(lambda r, e: None, rules=lambda: iter([]), tick=0.01)
    scheduler.start()
    scheduler.stop()
    assert scheduler._thread is not None and not scheduler._thread.is_alive()
