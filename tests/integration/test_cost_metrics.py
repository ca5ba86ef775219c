"""Daily AWS/Lambda metrics for `cost --actual`, read with GetMetricData from a real moto server."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import boto3

from strands_deploy.aws.session import AwsContext
from strands_deploy.cost.metrics import DayMetrics, daily_metrics

DAY1 = datetime(2026, 3, 1, tzinfo=UTC)


def put(
    cw: Any,
    namespace: str,
    name: str,
    function: str,
    value: float,
    when: datetime,
    version: str | None = None,
) -> None:
    dims = [{"Name": "FunctionName", "Value": function}]
    if version is not None:  # the runtime's token metrics are per version
        dims.append({"Name": "Version", "Value": version})
    cw.put_metric_data(
        Namespace=namespace,
        MetricData=[{"MetricName": name, "Value": value, "Timestamp": when, "Dimensions": dims}],
    )


def test_daily_sums_per_function(aws: AwsContext, moto: str) -> None:
    raw = boto3.client(
        "cloudwatch",
        endpoint_url=moto,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    at = DAY1.timestamp()
    for hour, duration in ((1, 100.0), (5, 300.0), (26, 50.0)):  # two on day 1, one on day 2
        when = datetime.fromtimestamp(at + hour * 3600, UTC)
        put(raw, "AWS/Lambda", "Invocations", "fn", 1.0, when)
        put(raw, "AWS/Lambda", "Duration", "fn", duration, when)
    # two versions' token series are added up; another function's are not
    put(raw, "Strands/Agent", "InputTokens", "fn", 500.0, datetime.fromtimestamp(at + 3600, UTC), "1")
    put(raw, "Strands/Agent", "InputTokens", "fn", 200.0, datetime.fromtimestamp(at + 5 * 3600, UTC), "2")
    put(raw, "Strands/Agent", "InputTokens", "other-fn", 99.0, datetime.fromtimestamp(at + 3600, UTC), "1")
    put(raw, "AWS/Lambda", "Invocations", "other-fn", 9.0, datetime.fromtimestamp(at + 3600, UTC))
    # the day before the window's first midnight is not read, even though the window starts in it
    put(raw, "AWS/Lambda", "Invocations", "fn", 5.0, datetime.fromtimestamp(at - 600, UTC))

    days = daily_metrics(aws.client("cloudwatch"), "agent.a.function", "fn", at - 3600, at + 3 * 86400)
    assert days == {
        "2026-03-01": DayMetrics(2.0, 400.0, 700.0, None),
        "2026-03-02": DayMetrics(1.0, 50.0, None, None),
    }
    # a window that starts partway through a day leaves that day to the logs
    assert list(daily_metrics(aws.client("cloudwatch"), "a", "fn", at + 60, at + 2 * 86400)) == ["2026-03-02"]
    assert daily_metrics(aws.client("cloudwatch"), "a", "fn", at + 60, at + 120) == {}
