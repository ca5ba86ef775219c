"""The new version's own numbers, read through CloudWatch ``GetMetricData``: the same call serves
AWS and the local cloud (which records Lambda's per-version metrics and extracts the runtime's
Embedded Metric Format lines as CloudWatch Logs does, see local/routing.py).

Lambda publishes ``Invocations``, ``Errors`` and ``Duration`` for a call through a weighted alias
with the dimensions ``FunctionName``, ``Resource`` (``name:alias``) and ``ExecutedVersion``: the
new version is judged on its own traffic, never diluted by the old version's.

The runtime publishes ``Strands/Agent`` metrics (docs/runtime.md) with the dimensions
``FunctionName`` and ``Version``: ``InputTokens``/``OutputTokens`` for the cost gate, and
``Errors``, the requests it *answered* with an error status (a 500 body is a successful invocation
for Lambda). The error gate counts both kinds of errors. These are per version, all callers of the
version included (an eval run in the same minute as the first check too).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from strands_deploy.aws.errors import call

TOKENS_NAMESPACE = "Strands/Agent"
PERIOD = 60


@dataclass(frozen=True)
class VersionStats:
    invocations: float = 0.0
    errors: float = 0.0
    p95_ms: float | None = None
    input_tokens: float = 0.0
    output_tokens: float = 0.0
    tool_calls: float = 0.0
    tool_errors: float = 0.0

    @property
    def error_rate(self) -> float:
        return min(1.0, self.errors / self.invocations) if self.invocations else 0.0


def _alias_dimensions(function: str, alias: str, version: str) -> list[dict[str, str]]:
    """Lambda's dimensions of the version's invocations through the alias."""
    return [
        {"Name": "FunctionName", "Value": function},
        {"Name": "Resource", "Value": f"{function}:{alias}"},
        {"Name": "ExecutedVersion", "Value": version},
    ]


def _agent_dimensions(function: str, alias: str, version: str) -> list[dict[str, str]]:
    """The runtime's dimensions (its EMF request line) of the version's requests."""
    return [{"Name": "FunctionName", "Value": function}, {"Name": "Version", "Value": version}]


_LAMBDA = ("AWS/Lambda", _alias_dimensions)
_AGENT = (TOKENS_NAMESPACE, _agent_dimensions)
# (query id, (namespace, dimensions), metric, statistic)
_QUERIES = (
    ("inv", _LAMBDA, "Invocations", "Sum"),
    ("err", _LAMBDA, "Errors", "Sum"),
    ("p95", _LAMBDA, "Duration", "p95"),
    ("aerr", _AGENT, "Errors", "Sum"),
    ("tin", _AGENT, "InputTokens", "Sum"),
    ("tout", _AGENT, "OutputTokens", "Sum"),
    ("tools", _AGENT, "ToolCalls", "Sum"),
    ("terr", _AGENT, "ToolErrors", "Sum"),
)


def version_stats(
    cloudwatch: Any, function: str, alias: str, version: str, start: float, end: float
) -> VersionStats:
    """The version's numbers between ``start`` and ``end`` (epoch seconds), one GetMetricData call."""
    queries = [
        {
            "Id": qid,
            "MetricStat": {
                "Metric": {
                    "Namespace": ns,
                    "MetricName": name,
                    "Dimensions": dims(function, alias, version),
                },
                "Period": PERIOD,
                "Stat": stat,
            },
            "ReturnData": True,
        }
        for qid, (ns, dims), name, stat in _QUERIES
    ]
    begin = datetime.fromtimestamp(int(start) - 1, UTC)
    finish = datetime.fromtimestamp(int(end) + 1, UTC)
    if finish - begin < timedelta(seconds=PERIOD):
        finish = begin + timedelta(seconds=PERIOD)
    resp = call(
        f"function {function}",
        cloudwatch,
        "get_metric_data",
        MetricDataQueries=queries,
        StartTime=begin,
        EndTime=finish,
    )
    values = {
        r["Id"]: [float(v) for v in r.get("Values") or [] if v is not None] for r in resp["MetricDataResults"]
    }
    p95 = values.get("p95") or []

    def total(qid: str) -> float:
        return sum(values.get(qid) or [])

    return VersionStats(
        invocations=total("inv"),
        # function errors (crashes, timeouts, failed trigger records) + errors the runtime answered:
        # the runtime counts a request in exactly one of them
        errors=total("err") + total("aerr"),
        p95_ms=max(p95) if p95 else None,  # the worst minute: conservative across periods
        input_tokens=total("tin"),
        output_tokens=total("tout"),
        tool_calls=total("tools"),
        tool_errors=total("terr"),
    )


def alarms_in_alarm(cloudwatch: Any, names: list[str]) -> list[str]:
    """Those of the named alarms whose state is ALARM (names not found are ignored)."""
    if not names:
        return []
    out: list[str] = []
    for i in range(0, len(names), 100):
        resp = call("rollout gates", cloudwatch, "describe_alarms", AlarmNames=names[i : i + 100])
        out += [a["AlarmName"] for a in resp.get("MetricAlarms", []) if a.get("StateValue") == "ALARM"]
    return out
