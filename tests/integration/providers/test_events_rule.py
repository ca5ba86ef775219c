"""aws.events.rule against moto: schedule and pattern rules on the default bus targeting an alias,
updated in place, hand-added targets removed, adopted by name and tags, deleted with targets."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from strands_deploy.providers.base import ProviderContext
from strands_deploy.providers.registry import get_provider
from tests.integration.providers.helpers import TAGS

ADDR = "agent.support.trigger-schedule"
ALIAS = "arn:aws:lambda:us-east-1:123456789012:function:demo-test-support:live"


def props(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "name": "demo-test-support-schedule",
        "schedule": "rate(5 minutes)",
        "pattern": None,
        "target_arn": ALIAS,
        "description": "strands-deploy: schedule of agent support",
        "tags": dict(TAGS, **{"strands:agent": "support"}),
    }
    return {**base, **overrides}


def test_schedule_rule_lifecycle(ctx: ProviderContext, raw: Callable[[str], Any]) -> None:
    provider = get_provider("aws.events.rule")
    events = raw("events")
    p = props()
    created = provider.create(ctx, ADDR, p)
    assert created.physical_id == p["name"]
    assert created.outputs["arn"].endswith(f":rule/{p['name']}")
    rule = events.describe_rule(Name=p["name"])
    assert rule["ScheduleExpression"] == "rate(5 minutes)" and rule["State"] == "ENABLED"
    targets = events.list_targets_by_rule(Rule=p["name"])["Targets"]
    assert [(t["Id"], t["Arn"]) for t in targets] == [("agent", ALIAS)]
    live = provider.read(ctx, ADDR, p["name"], p)
    assert live is not None and provider.drift(p, live) == {}

    # a target added by hand is drift, and the update removes it
    events.put_targets(Rule=p["name"], Targets=[{"Id": "extra", "Arn": ALIAS + "x"}])
    live = provider.read(ctx, ADDR, p["name"], p)
    assert live is not None and "target_arn" in provider.drift(p, live)

    new = props(schedule="cron(0 9 * * ? *)", tags={**p["tags"], "team": "b"})
    before = {**p, "target_arn": live["observed"]["targets"]}
    out = provider.update(ctx, ADDR, p["name"], before, new, created.outputs)
    assert out["observed"]["schedule"] == "cron(0 9 * * ? *)"
    assert out["observed"]["targets"] == {"agent": ALIAS}
    assert out["observed"]["tags"]["team"] == "b"
    assert provider.drift(new, out) == {}

    found = provider.find(ctx, ADDR, new)
    assert found is not None and found.physical_id == p["name"]
    provider.delete(ctx, ADDR, p["name"], new, out)
    assert provider.read(ctx, ADDR, p["name"], new) is None
    provider.delete(ctx, ADDR, p["name"], new, out)  # gone: no error


def test_pattern_rule_and_foreign_rules_are_not_adopted(
    ctx: ProviderContext, raw: Callable[[str], Any]
) -> None:
    provider = get_provider("aws.events.rule")
    pattern = {"source": ["my.app"], "detail-type": ["order"]}
    p = props(name="demo-test-support-pattern", schedule=None, pattern=pattern)
    provider.create(ctx, "agent.support.trigger-pattern", p)
    rule = raw("events").describe_rule(Name=p["name"])
    assert json.loads(rule["EventPattern"]) == pattern and "ScheduleExpression" not in rule
    live = provider.read(ctx, "agent.support.trigger-pattern", p["name"], p)
    assert live is not None and provider.drift(p, live) == {}

    raw("events").put_rule(Name="demo-test-foreign", ScheduleExpression="rate(1 hour)")
    assert provider.find(ctx, ADDR, props(name="demo-test-foreign")) is None
