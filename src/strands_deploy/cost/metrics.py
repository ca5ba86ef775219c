"""Daily ``AWS/Lambda`` metrics of a function for ``cost --actual`` (``GetMetricData``).

Logs miss requests: a log group whose retention has expired, a deleted stream, a handler that
logs no request line. Lambda's own ``Invocations`` and ``Duration`` (dimension ``FunctionName``
alone: every version and alias together) count every request for as long as CloudWatch keeps
metrics (15 months at a daily period). Token counts come from ``Strands/Agent`` ``InputTokens``
and ``OutputTokens``, which the runtime's request line publishes in Embedded Metric Format per
``FunctionName, Version`` (extracted when the line is ingested, so they outlive the log); where
there are none, the caller estimates them (:func:`strands_deploy.cost.actual.merge_metrics`).

The same calls serve AWS and the local cloud, which records these metrics per invocation
(``local/routing.py``). Days are UTC calendar days: the query starts at a midnight and asks for
86,400-second periods, so each returned timestamp is the start of one day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from strands_deploy.aws.errors import call

DAY = 86400
TOKENS_NAMESPACE = "Strands/Agent"
MAX_QUERIES = 500  # per GetMetricData call


@dataclass(frozen=True)
class DayMetrics:
    """One function's figures for one UTC day. Token sums are None when nothing published them."""

    invocations: float = 0.0
    duration_ms: float = 0.0
    input_tokens: float | None = None
    output_tokens: float | None = None


def midnight(epoch_s: float) -> datetime:
    moment = datetime.fromtimestamp(epoch_s, UTC)
    return moment.replace(hour=0, minute=0, second=0, microsecond=0)


def daily_metrics(
    cloudwatch: Any, address: str, function: str, start_s: float, end_s: float
) -> dict[str, DayMetrics]:
    """``YYYY-MM-DD`` → the function's metrics that day, for the UTC days that start within
    [``start_s``, ``end_s``) (the last one up to ``end_s``); days without invocations are left out.
    A day the window starts partway through is left to the logs: its metrics would count
    requests from before the window."""
    begin = midnight(start_s)
    if begin.timestamp() < start_s:  # a day the window starts partway through: the logs alone
        begin += timedelta(seconds=DAY)
    if begin.timestamp() >= end_s:
        return {}
    finish = max(datetime.fromtimestamp(end_s + 1, UTC), begin + timedelta(seconds=DAY))
    lambda_dims = [{"Name": "FunctionName", "Value": function}]
    queries = [
        _query("inv", "AWS/Lambda", "Invocations", lambda_dims),
        _query("dur", "AWS/Lambda", "Duration", lambda_dims),
    ]
    for i, dims in enumerate(_token_dimensions(cloudwatch, address, function)):
        queries += [_query(f"tin{i}", TOKENS_NAMESPACE, "InputTokens", dims)]
        queries += [_query(f"tout{i}", TOKENS_NAMESPACE, "OutputTokens", dims)]
    series: dict[str, dict[str, float]] = {"inv": {}, "dur": {}, "tin": {}, "tout": {}}
    for i in range(0, len(queries), MAX_QUERIES):
        _read(cloudwatch, address, queries[i : i + MAX_QUERIES], begin, finish, series)
    out: dict[str, DayMetrics] = {}
    for day, invocations in sorted(series["inv"].items()):
        if invocations <= 0:
            continue
        out[day] = DayMetrics(
            invocations=invocations,
            duration_ms=series["dur"].get(day, 0.0),
            input_tokens=series["tin"].get(day),
            output_tokens=series["tout"].get(day),
        )
    return out


def _query(qid: str, namespace: str, name: str, dims: list[dict[str, str]]) -> dict[str, Any]:
    return {
        "Id": qid,
        "MetricStat": {
            "Metric": {"Namespace": namespace, "MetricName": name, "Dimensions": dims},
            "Period": DAY,
            "Stat": "Sum",
        },
        "ReturnData": True,
    }


def _token_dimensions(cloudwatch: Any, address: str, function: str) -> list[list[dict[str, str]]]:
    """The dimension sets of the function's token metrics: the runtime publishes them per
    ``FunctionName, Version`` (docs/runtime.md), so each version is one series to add up.
    ListMetrics knows the metrics of the last two weeks: older versions' tokens are estimated."""
    found: set[tuple[tuple[str, str], ...]] = set()
    kwargs: dict[str, Any] = {
        "Namespace": TOKENS_NAMESPACE,
        "MetricName": "InputTokens",
        "Dimensions": [{"Name": "FunctionName", "Value": function}],
    }
    while True:
        resp = call(address, cloudwatch, "list_metrics", **kwargs)
        for metric in resp.get("Metrics", []):
            found.add(tuple(sorted((d["Name"], d["Value"]) for d in metric.get("Dimensions", []))))
        if not resp.get("NextToken"):
            break
        kwargs["NextToken"] = resp["NextToken"]
    return [[{"Name": k, "Value": v} for k, v in dims] for dims in sorted(found)]


def _read(
    cloudwatch: Any,
    address: str,
    queries: list[dict[str, Any]],
    begin: datetime,
    finish: datetime,
    series: dict[str, dict[str, float]],
) -> None:
    """Add the daily sums of ``queries`` into ``series`` (token series of all versions together)."""
    token: str | None = None
    while True:
        kwargs: dict[str, Any] = {"MetricDataQueries": queries, "StartTime": begin, "EndTime": finish}
        if token:
            kwargs["NextToken"] = token
        resp = call(address, cloudwatch, "get_metric_data", **kwargs)
        for result in resp.get("MetricDataResults", []):
            values = series[str(result["Id"]).rstrip("0123456789")]
            for stamp, value in zip(result.get("Timestamps") or [], result.get("Values") or [], strict=False):
                day = _day(stamp)
                values[day] = values.get(day, 0.0) + float(value)
        token = resp.get("NextToken")
        if not token:
            break


def _day(stamp: Any) -> str:
    if isinstance(stamp, datetime):
        moment = stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)
    else:
        moment = datetime.fromtimestamp(float(stamp), UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%d")
