"""What each agent actually cost, from the runtime's per-request log lines (``msg: "request"``:
duration and the model's token usage) and Lambda's ``REPORT`` lines, completed by the
function's daily ``AWS/Lambda`` metrics for the requests the logs miss (:func:`merge_metrics`).

Pure: the caller (``services.actual_cost``) reads the log events and metrics and hands them in,
with each agent's model and function settings from the graph. Costs use the same price table as
forecasts.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from strands_deploy.cost.lines import MILLION
from strands_deploy.cost.metrics import DayMetrics
from strands_deploy.cost.prices import PriceTable

TOKEN_SOURCE_WORDS = {
    "metrics": "Strands/Agent metrics",
    "logged mean": "the mean of the logged requests",
    "assumed": "the usage assumptions",
}
REPORT_RE = re.compile(
    r"REPORT RequestId: (?P<id>\S+)\s+Duration: (?P<duration>[\d.]+) ms\s+Billed Duration: (?P<billed>\d+) ms"
    r"\s+Memory Size: (?P<size>\d+) MB(?:\s+Max Memory Used: (?P<used>\d+) MB)?"
    r"(?:\s+Init Duration: (?P<init>[\d.]+) ms)?"
)
# usage keys of the Strands SDK (accumulated_usage) → our token kinds
TOKEN_KEYS = {
    "inputTokens": "input",
    "outputTokens": "output",
    "cacheReadInputTokens": "cache_read",
    "cacheWriteInputTokens": "cache_write",
}


@dataclass(frozen=True)
class AgentSpec:
    """What pricing one agent's requests needs: its model, memory and architecture."""

    name: str
    model: str
    memory: int
    architecture: str
    # the `usage:` assumptions, for requests only metrics saw when no request was logged either
    assumed_tokens: Mapping[str, int] = field(default_factory=lambda: {"input": 1800, "output": 350})


@dataclass(frozen=True)
class RequestCost:
    agent: str
    day: str  # YYYY-MM-DD (UTC)
    session_id: str | None
    tokens: dict[str, int]
    duration_ms: float
    usd: float


@dataclass(frozen=True)
class Report:
    """One Lambda REPORT line."""

    agent: str
    duration_ms: float
    billed_ms: int
    memory_mb: int
    used_mb: int | None
    init_ms: float | None = None  # set on a cold start: the instance's initialisation
    timestamp: int = 0  # epoch ms of the line


@dataclass(frozen=True)
class MetricGap:
    """The requests of one agent on one day that ``AWS/Lambda`` Invocations counted and its logs
    did not: priced at the metrics' mean duration, with tokens from ``token_source``:
    ``metrics`` (Strands/Agent token sums minus the logged tokens), ``logged mean`` (the mean of
    the agent's logged requests in the window) or ``assumed`` (its `usage:` assumptions)."""

    agent: str
    day: str
    requests: int
    duration_ms: float
    tokens: dict[str, int]
    token_source: str
    usd: float

    def to_json(self) -> dict[str, Any]:
        return {
            "day": self.day,
            "requests": self.requests,
            "duration_ms": round(self.duration_ms, 3),
            "tokens": self.tokens,
            "token_source": self.token_source,
            "usd": round(self.usd, 6),
        }


@dataclass
class ActualCost:
    since: str
    prices: PriceTable
    requests: list[RequestCost] = field(default_factory=list)
    reports: list[Report] = field(default_factory=list)
    unpriced_models: set[str] = field(default_factory=set)
    specs: dict[str, AgentSpec] = field(default_factory=dict)
    gaps: list[MetricGap] = field(default_factory=list)  # requests only the metrics saw
    metrics_read: bool = False  # False: no metrics were handed in (logs only)

    def counts(self) -> dict[str, tuple[int, int]]:
        """agent → (requests from logs, requests from metrics only)."""
        out: dict[str, tuple[int, int]] = {}
        for r in self.requests:
            logged, gap = out.get(r.agent, (0, 0))
            out[r.agent] = (logged + 1, gap)
        for g in self.gaps:
            logged, gap = out.get(g.agent, (0, 0))
            out[g.agent] = (logged, gap + g.requests)
        return dict(sorted(out.items()))

    def sources(self, agent: str) -> str:
        """Where an agent's figures came from, in words (``cost --actual``'s text output)."""
        logged, gap = self.counts().get(agent, (0, 0))
        if not gap:
            return "from logs"
        kinds = sorted({g.token_source for g in self.gaps if g.agent == agent})
        return (
            f"{logged} from logs, {gap} from AWS/Lambda metrics only "
            f"(their tokens: {', '.join(TOKEN_SOURCE_WORDS[k] for k in kinds)})"
        )

    def gb_second_prices(self) -> dict[str, float]:
        """agent → the Lambda price of one GB-second for its architecture."""
        lam = self.prices.services["lambda"]
        return {a: lam[f"gb_second_{s.architecture}"] for a, s in self.specs.items()}

    def _items(self) -> list[RequestCost | MetricGap]:
        """Every priced figure: logged requests and the metrics' unlogged ones."""
        return [*self.requests, *self.gaps]

    @property
    def total(self) -> float:
        return sum(r.usd for r in self.requests) + sum(g.usd for g in self.gaps)

    def by_agent(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for item in self._items():
            out[item.agent] = out.get(item.agent, 0.0) + item.usd
        return dict(sorted(out.items()))

    def by_day(self) -> dict[str, dict[str, float]]:
        """agent → day → USD (days in order)."""
        out: dict[str, dict[str, float]] = {}
        for item in sorted(self._items(), key=lambda r: r.day):
            days = out.setdefault(item.agent, {})
            days[item.day] = days.get(item.day, 0.0) + item.usd
        return dict(sorted(out.items()))

    def by_session(self, top: int = 10) -> list[tuple[str, str, int, float]]:
        """(agent, session id, requests, USD), the most expensive first."""
        acc: dict[tuple[str, str], list[float]] = {}
        for r in self.requests:
            if r.session_id:
                acc.setdefault((r.agent, r.session_id), []).append(r.usd)
        rows = [(a, s, len(v), sum(v)) for (a, s), v in acc.items()]
        return sorted(rows, key=lambda row: (-row[3], row[0], row[1]))[:top]

    def per_request(self) -> dict[str, float]:
        counts = {a: logged + gap for a, (logged, gap) in self.counts().items()}
        return {a: usd / counts[a] for a, usd in self.by_agent().items() if counts.get(a)}

    def tokens(self) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {}
        for item in self._items():
            t = out.setdefault(item.agent, {})
            for k, v in item.tokens.items():
                t[k] = t.get(k, 0) + v
        return dict(sorted(out.items()))

    def to_json(self, top: int = 10) -> dict[str, Any]:
        from strands_deploy.cost.anomaly import anomalies

        return {
            "since": self.since,
            "currency": "USD",
            "prices": self.prices.to_json(),
            "total_usd": round(self.total, 6),
            "agents": {
                a: {
                    "usd": round(usd, 6),
                    "requests": sum(self.counts()[a]),
                    "usd_per_request": round(self.per_request().get(a, 0.0), 6),
                    "tokens": self.tokens().get(a, {}),
                    "days": {d: round(v, 6) for d, v in self.by_day().get(a, {}).items()},
                    "sources": {
                        "logs": {"requests": self.counts()[a][0]},
                        "metrics": {
                            "read": self.metrics_read,
                            "requests": self.counts()[a][1],
                            "days": [g.to_json() for g in self.gaps if g.agent == a],
                        },
                    },
                }
                for a, usd in self.by_agent().items()
            },
            "top_sessions": [
                {"agent": a, "session_id": s, "requests": n, "usd": round(usd, 6)}
                for a, s, n, usd in self.by_session(top)
            ],
            "anomalies": [x.to_json() for x in anomalies(self.by_day())],
            "unpriced_models": sorted(self.unpriced_models),
        }


def request_cost(
    spec: AgentSpec, tokens: Mapping[str, int], duration_ms: float, prices: PriceTable
) -> float | None:
    """USD of one request: its tokens, its Lambda request and compute. None: model not priced."""
    model = prices.model_price(spec.model)
    if model is None:
        return None
    token_usd = sum(tokens.get(kind, 0) * getattr(model, kind) for kind in TOKEN_KEYS.values()) / MILLION
    lam = prices.services["lambda"]
    compute = duration_ms / 1000 * spec.memory / 1024 * lam[f"gb_second_{spec.architecture}"]
    return token_usd + compute + lam["requests_per_million"] / MILLION


def parse_request(message: str) -> dict[str, Any] | None:
    """The runtime's per-request JSON line, or None for any other line."""
    text = message.strip()
    if not text.startswith("{"):
        return None
    try:
        data = json.loads(text)
    except ValueError:
        return None
    return data if isinstance(data, dict) and data.get("msg") == "request" else None


def day_of(timestamp_ms: int) -> str:
    return datetime.fromtimestamp(timestamp_ms / 1000, UTC).strftime("%Y-%m-%d")


def actual_cost(
    events: Mapping[str, Iterable[Mapping[str, Any]]],
    specs: Mapping[str, AgentSpec],
    prices: PriceTable,
    since: str,
    metrics: Mapping[str, Mapping[str, DayMetrics]] | None = None,
) -> ActualCost:
    """``events``: agent → its log events (``timestamp``, ``message``); ``metrics``: agent → day →
    its function's ``AWS/Lambda`` figures (None: not read, the logs alone count)."""
    out = _from_logs(events, specs, prices, since)
    if metrics is not None:
        merge_metrics(out, metrics)
    return out


def _from_logs(
    events: Mapping[str, Iterable[Mapping[str, Any]]],
    specs: Mapping[str, AgentSpec],
    prices: PriceTable,
    since: str,
) -> ActualCost:
    out = ActualCost(since, prices, specs=dict(specs))
    for agent, agent_events in sorted(events.items()):
        spec = specs[agent]
        for event in agent_events:
            message = str(event.get("message", ""))
            report = REPORT_RE.search(message)
            if report:
                out.reports.append(_report(agent, report, int(event.get("timestamp", 0))))
                continue
            line = parse_request(message)
            if line is None:
                continue
            usage = line.get("usage") or {}
            tokens = {kind: int(usage.get(key) or 0) for key, kind in TOKEN_KEYS.items()}
            duration = float(line.get("duration_ms") or 0.0)
            usd = request_cost(spec, tokens, duration, prices)
            if usd is None:
                out.unpriced_models.add(spec.model)
                usd = 0.0
            day = day_of(int(event.get("timestamp", 0)))
            out.requests.append(RequestCost(agent, day, line.get("session_id"), tokens, duration, usd))
    return out


def _report(agent: str, m: re.Match[str], timestamp: int) -> Report:
    used, init = m.group("used"), m.group("init")
    return Report(
        agent,
        float(m.group("duration")),
        int(m.group("billed")),
        int(m.group("size")),
        int(used) if used else None,
        float(init) if init else None,
        timestamp,
    )


def merge_metrics(out: ActualCost, metrics: Mapping[str, Mapping[str, DayMetrics]]) -> None:
    """Add, per agent and day, the requests ``AWS/Lambda`` Invocations counted beyond the logged
    ones (a :class:`MetricGap`). Their duration is the metrics' mean duration that day; their
    tokens are the ``Strands/Agent`` token sums beyond the logged tokens when published, else the
    mean of the agent's logged requests in the window, else its usage assumptions."""
    out.metrics_read = True
    for agent, days in sorted(metrics.items()):
        spec = out.specs[agent]
        logged = [r for r in out.requests if r.agent == agent]
        for day, m in sorted(days.items()):
            that_day = [r for r in logged if r.day == day]
            missing = int(round(m.invocations)) - len(that_day)
            if missing <= 0:
                continue
            tokens, source = _gap_tokens(spec, m, that_day, logged, missing)
            duration = m.duration_ms / m.invocations * missing
            usd = request_cost(spec, tokens, duration, out.prices)
            if usd is None:
                out.unpriced_models.add(spec.model)
                usd = 0.0
            else:  # request_cost counts one Lambda request: add the others
                usd += (missing - 1) * out.prices.services["lambda"]["requests_per_million"] / MILLION
            out.gaps.append(MetricGap(agent, day, missing, duration, tokens, source, usd))


def _gap_tokens(
    spec: AgentSpec, m: DayMetrics, that_day: list[RequestCost], logged: list[RequestCost], missing: int
) -> tuple[dict[str, int], str]:
    """The tokens of ``missing`` unlogged requests, and where the figure came from."""
    if m.input_tokens is not None or m.output_tokens is not None:
        seen = {k: sum(r.tokens.get(k, 0) for r in that_day) for k in ("input", "output")}
        return {
            "input": max(int(m.input_tokens or 0) - seen["input"], 0),
            "output": max(int(m.output_tokens or 0) - seen["output"], 0),
        }, "metrics"
    if logged:
        kinds = TOKEN_KEYS.values()
        return {k: round(sum(r.tokens.get(k, 0) for r in logged) / len(logged) * missing) for k in kinds}, (
            "logged mean"
        )
    return {k: int(v) * missing for k, v in spec.assumed_tokens.items()}, "assumed"
