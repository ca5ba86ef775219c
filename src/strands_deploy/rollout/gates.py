"""Gate verdicts on the new version: a list of breaches (empty: healthy).

Prices for ``cost_per_request_usd`` are a small table per model family (USD per million tokens);
``cost/`` may replace ``price_per_million`` with its own tables.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from strands_deploy.config.rollout_schema import Gates
from strands_deploy.rollout.metrics import VersionStats

# (input, output) USD per million tokens; the default is a mid-size Claude model on Bedrock
PRICES: dict[str, tuple[float, float]] = {
    "haiku": (0.8, 4.0),
    "sonnet": (3.0, 15.0),
    "opus": (15.0, 75.0),
    "nova-micro": (0.035, 0.14),
    "nova-lite": (0.06, 0.24),
    "nova-pro": (0.8, 3.2),
}
DEFAULT_PRICE = (3.0, 15.0)


def price_per_million(model_id: str | None) -> tuple[float, float]:
    text = (model_id or "").lower()
    for key, price in PRICES.items():
        if key in text:
            return price
    return DEFAULT_PRICE


def cost_per_request(stats: VersionStats, price: tuple[float, float]) -> float:
    if not stats.invocations:
        return 0.0
    usd = (stats.input_tokens * price[0] + stats.output_tokens * price[1]) / 1_000_000
    return usd / stats.invocations


@dataclass(frozen=True)
class Verdict:
    breaches: list[str]
    stats: VersionStats
    judged: bool  # enough invocations were seen for the metric gates to mean something

    @property
    def ok(self) -> bool:
        return not self.breaches


def judge(
    gates: Gates,
    stats: VersionStats,
    alarms_firing: list[str],
    price: tuple[float, float] = DEFAULT_PRICE,
) -> Verdict:
    breaches = [f"alarm {name} is in ALARM" for name in alarms_firing]
    judged = stats.invocations >= max(1, gates.min_invocations)
    if judged:
        if gates.error_rate is not None and stats.error_rate > gates.error_rate:
            breaches.append(
                f"error rate {stats.error_rate:.1%} on the new version (threshold {gates.error_rate:.1%}; "
                f"{stats.errors:.0f} of {stats.invocations:.0f} invocations failed or answered an error)"
            )
        if (
            gates.p95_latency_ms is not None
            and stats.p95_ms is not None
            and stats.p95_ms > gates.p95_latency_ms
        ):
            breaches.append(f"p95 latency {stats.p95_ms:.0f} ms (threshold {gates.p95_latency_ms:.0f} ms)")
        if gates.cost_per_request_usd is not None:
            cost = cost_per_request(stats, price)
            if cost > gates.cost_per_request_usd:
                breaches.append(f"cost per request ${cost:.4f} (threshold ${gates.cost_per_request_usd:.4f})")
    return Verdict(breaches, stats, judged)


GateCheck = Callable[[float], Verdict]  # (step start, epoch seconds) -> verdict
