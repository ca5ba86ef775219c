from __future__ import annotations

from collections.abc import Callable
from typing import Any

from strands_deploy.providers.base import Props, ProviderContext
from strands_deploy.providers.registry import get_provider
from tests.integration.providers.helpers import TAGS

ADDR = "agent.support.alarm-errors"
NAME = "demo-test-support-errors"


def props(**overrides: Any) -> Props:
    p: Props = {
        "name": NAME,
        "namespace": "AWS/Lambda",
        "metric_name": "Errors",
        "dimensions": {"FunctionName": "demo-test-support"},
        "statistic": "Sum",
        "period": 300,
        "evaluation_periods": 1,
        "threshold": 1,
        "comparison": "GreaterThanOrEqualToThreshold",
        "treat_missing_data": "notBreaching",
        "tags": dict(TAGS),
    }
    p.update(overrides)
    return p


def test_alarm_lifecycle(ctx: ProviderContext, raw: Callable[[str], Any]) -> None:
    provider = get_provider("aws.cloudwatch.alarm")
    cw = raw("cloudwatch")

    created = provider.create(ctx, ADDR, props())
    assert created.physical_id == NAME
    assert created.outputs["arn"] == f"arn:aws:cloudwatch:us-east-1:123456789012:alarm:{NAME}"
    [alarm] = cw.describe_alarms(AlarmNames=[NAME])["MetricAlarms"]
    assert alarm["MetricName"] == "Errors" and alarm["Threshold"] == 1.0
    assert alarm["Dimensions"] == [{"Name": "FunctionName", "Value": "demo-test-support"}]
    assert alarm["TreatMissingData"] == "notBreaching"
    tags = {t["Key"]: t["Value"] for t in cw.list_tags_for_resource(ResourceARN=alarm["AlarmArn"])["Tags"]}
    assert tags["strands:environment"] == "test"

    live = provider.read(ctx, ADDR, NAME, props())
    assert live is not None and provider.drift(props(), live) == {}

    new = props(threshold=5, evaluation_periods=3, tags={**TAGS, "team": "core"})
    provider.update(ctx, ADDR, NAME, props(), new, created.outputs)
    live = provider.read(ctx, ADDR, NAME, new)
    assert live is not None
    assert live["observed"]["threshold"] == 5.0
    assert live["observed"]["evaluation_periods"] == 3
    assert live["observed"]["tags"]["team"] == "core"
    assert provider.drift(new, live) == {}

    provider.delete(ctx, ADDR, NAME, new, created.outputs)
    assert provider.read(ctx, ADDR, NAME, new) is None
    provider.delete(ctx, ADDR, NAME, new, created.outputs)


def test_alarm_deleted_behind_our_back(ctx: ProviderContext, raw: Callable[[str], Any]) -> None:
    provider = get_provider("aws.cloudwatch.alarm")
    created = provider.create(ctx, ADDR, props())
    raw("cloudwatch").delete_alarms(AlarmNames=[NAME])
    assert provider.read(ctx, ADDR, created.physical_id, props()) is None
    assert provider.find(ctx, ADDR, props()) is None


def test_read_many_describes_alarms_in_one_call(ctx: ProviderContext, raw: Callable[[str], Any]) -> None:
    provider = get_provider("aws.cloudwatch.alarm")
    items = []
    for i in range(3):
        p = props(name=f"{NAME}-{i}", threshold=i + 1)
        provider.create(ctx, f"{ADDR}-{i}", p)
        items.append((f"{ADDR}-{i}", f"{NAME}-{i}", p))
    raw("cloudwatch").delete_alarms(AlarmNames=[f"{NAME}-1"])  # gone behind the tool's back
    live = provider.read_many(ctx, items)
    assert live[f"{ADDR}-1"] is None
    first, last = live[f"{ADDR}-0"], live[f"{ADDR}-2"]
    assert first is not None and last is not None
    assert first["observed"]["threshold"] == 1.0 and last["observed"]["threshold"] == 3.0
    assert provider.drift(items[2][2], last) == {}
    changed = props(name=f"{NAME}-2", threshold=9)
    assert provider.drift(changed, last) == {"threshold": (3.0, 9.0)}
