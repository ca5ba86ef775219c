"""Memory right-sizing and provisioned concurrency from Lambda's REPORT lines (docs/cost.md,
"Recommendations").

The recommended memory is the largest Max Memory Used seen, plus :data:`HEADROOM`, rounded up to
a multiple of 64 MB (at least 128 MB). The saving assumes the duration stays the same: an agent
mostly waits for the model, so less memory (and the CPU that comes with it) changes its duration
little; a CPU-bound agent would run longer, and the saving would be smaller.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from strands_deploy.cost.actual import ActualCost, Report
from strands_deploy.cost.usage import DAYS_PER_MONTH

HEADROOM = 0.3
MIN_REPORTS = 5  # fewer invocations say too little about peak memory


@dataclass(frozen=True)
class MemoryAdvice:
    agent: str
    current_mb: int
    peak_used_mb: int
    recommended_mb: int
    invocations: int
    monthly_saving_usd: float

    def text(self) -> str:
        return (
            f"agent {self.agent}: memory {self.current_mb} MB → {self.recommended_mb} MB "
            f"(peak use {self.peak_used_mb} MB over {self.invocations} invocations) saves "
            f"${self.monthly_saving_usd:,.2f}/mo at the same traffic"
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "agent": self.agent,
            "kind": "memory",
            "current_mb": self.current_mb,
            "recommended_mb": self.recommended_mb,
            "peak_used_mb": self.peak_used_mb,
            "invocations": self.invocations,
            "monthly_saving_usd": round(self.monthly_saving_usd, 4),
        }


def recommended_memory(peak_used_mb: int) -> int:
    return max(128, math.ceil(peak_used_mb * (1 + HEADROOM) / 64) * 64)


def memory_advice(
    reports: Iterable[Report], gb_second_usd: dict[str, float], window_days: float
) -> list[MemoryAdvice]:
    """One advice per agent whose memory could be lower. ``gb_second_usd``: agent → its price."""
    by_agent: dict[str, list[Report]] = {}
    for r in reports:
        by_agent.setdefault(r.agent, []).append(r)
    out = []
    for agent, rs in sorted(by_agent.items()):
        used = [r.used_mb for r in rs if r.used_mb is not None]
        if len(used) < MIN_REPORTS:
            continue
        current = rs[-1].memory_mb
        target = recommended_memory(max(used))
        if target >= current:
            continue
        billed_s = sum(r.billed_ms for r in rs if r.memory_mb == current) / 1000
        saved = billed_s * (current - target) / 1024 * gb_second_usd[agent]
        monthly = saved * DAYS_PER_MONTH / max(window_days, 1e-9)
        out.append(MemoryAdvice(agent, current, max(used), target, len(rs), monthly))
    return out


# --- provisioned concurrency (docs/cost.md, "Recommendations") ----------------------------------

COLD_SHARE = 0.05  # cold starts in at least this share of invocations are worth a look
STEADY_SHARE = 0.5  # traffic in at least this share of the hours it spans: steady enough
HOUR_MS = 3_600_000


@dataclass(frozen=True)
class ProvisionedAdvice:
    agent: str
    invocations: int
    cold_starts: int
    mean_init_ms: float
    busy_hours: int
    hours: int
    recommended: int  # instances
    monthly_cost_usd: float  # what they add (their availability, less the cheaper duration)
    cold_starts_per_month: float  # what they would remove, at the same traffic

    def text(self) -> str:
        return (
            f"agent {self.agent}: provisioned_concurrency: {self.recommended} would remove about "
            f"{self.cold_starts_per_month:,.0f} cold starts a month ({self.cold_starts} of {self.invocations} "
            f"invocations here, {self.mean_init_ms:,.0f} ms of initialisation each; traffic in "
            f"{self.busy_hours} of {self.hours} hours) for ${self.monthly_cost_usd:,.2f}/mo"
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "agent": self.agent,
            "kind": "provisioned_concurrency",
            "recommended": self.recommended,
            "invocations": self.invocations,
            "cold_starts": self.cold_starts,
            "mean_init_ms": round(self.mean_init_ms, 2),
            "busy_hours": self.busy_hours,
            "hours": self.hours,
            "monthly_cost_usd": round(self.monthly_cost_usd, 4),
            "cold_starts_per_month": round(self.cold_starts_per_month, 1),
        }


def provisioned_advice(
    reports: Iterable[Report],
    lambda_prices: Mapping[str, float],
    architectures: Mapping[str, str],
    window_days: float,
) -> list[ProvisionedAdvice]:
    """One advice per agent whose cold starts (``Init Duration`` in its REPORT lines) are frequent
    while its traffic is steady: requests in most hours between its first and last invocation.
    Bursty traffic is left alone: instances kept all month would idle between bursts.

    The count is the 90th percentile of the busy hours' concurrency (billed seconds in the hour ÷
    3600), rounded up. The cost is the instances' monthly availability, less what the requests
    they serve save at the provisioned duration price (docs/cost.md)."""
    by_agent: dict[str, list[Report]] = {}
    for r in reports:
        by_agent.setdefault(r.agent, []).append(r)
    out = []
    for agent, rs in sorted(by_agent.items()):
        cold = [r for r in rs if r.init_ms is not None]
        if len(rs) < MIN_REPORTS or len(cold) / len(rs) < COLD_SHARE:
            continue
        per_hour: dict[int, float] = {}
        for r in rs:
            per_hour[r.timestamp // HOUR_MS] = per_hour.get(r.timestamp // HOUR_MS, 0.0) + r.billed_ms
        hours = max(per_hour) - min(per_hour) + 1
        if len(per_hour) / hours < STEADY_SHARE:
            continue
        load = sorted(ms / HOUR_MS for ms in per_hour.values())
        count = max(1, math.ceil(load[min(len(load) - 1, math.ceil(0.9 * len(load)) - 1)]))
        arch, memory = architectures.get(agent, "x86_64"), rs[-1].memory_mb
        scale = DAYS_PER_MONTH / max(window_days, 1e-9)
        kept = count * memory / 1024 * DAYS_PER_MONTH * 86400 * lambda_prices[f"provisioned_gb_second_{arch}"]
        served_gb_s = sum(r.billed_ms for r in rs) / 1000 * memory / 1024 * scale
        concurrency = sum(r.billed_ms for r in rs) / (hours * HOUR_MS)
        share = 1.0 if concurrency <= count else count / concurrency
        saving = (
            served_gb_s
            * share
            * (lambda_prices[f"gb_second_{arch}"] - lambda_prices[f"provisioned_duration_gb_second_{arch}"])
        )
        out.append(
            ProvisionedAdvice(
                agent, len(rs), len(cold), sum(r.init_ms or 0.0 for r in cold) / len(cold), len(per_hour),
                hours, count, kept - saving, len(cold) * scale,
            )
        )  # fmt: skip
    return out


# --- cheaper models (docs/cost.md, "Recommendations") -------------------------------------------

MODEL_CANDIDATES = 2  # per agent: the next cheaper models of the same provider


@dataclass(frozen=True)
class ModelAdvice:
    """A cheaper model of the same provider, priced for the agent's own tokens in the window.
    Not verified: whether the agent still answers well with it is for its eval suite to say."""

    agent: str
    current: str  # price table families
    candidate: str
    window_usd: float  # the agent's tokens in the window at the current model's prices
    candidate_usd: float  # the same tokens at the candidate's
    monthly_saving_usd: float
    verified: bool = False

    def text(self) -> str:
        return (
            f"agent {self.agent}: model {self.candidate} instead of {self.current} would save "
            f"${self.monthly_saving_usd:,.2f}/mo for the same tokens; not verified: run the agent's "
            "eval suite with it before switching"
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "agent": self.agent,
            "kind": "model",
            "current": self.current,
            "candidate": self.candidate,
            "window_usd": round(self.window_usd, 6),
            "candidate_usd": round(self.candidate_usd, 6),
            "monthly_saving_usd": round(self.monthly_saving_usd, 4),
            "verified": self.verified,
        }


def _token_usd(tokens: Mapping[str, int], price: Mapping[str, float]) -> float:
    return sum(n * float(price.get(kind, price["input"])) for kind, n in tokens.items()) / 1e6


def model_advice(result: ActualCost, window_days: float) -> list[ModelAdvice]:
    """Per agent with tokens in the window: up to :data:`MODEL_CANDIDATES` models of the same
    provider (``anthropic.``, ``amazon.``...) that cost less for its token mix, the closest in
    price first (the likeliest to answer as well)."""
    out: list[ModelAdvice] = []
    scale = DAYS_PER_MONTH / max(window_days, 1e-9)
    for agent, tokens in result.tokens().items():
        spec = result.specs.get(agent)
        current = result.prices.model_price(spec.model) if spec else None
        if current is None or not any(tokens.values()):
            continue
        now = _token_usd(tokens, result.prices.models[current.model])
        provider = current.model.split(".", 1)[0] + "."
        cheaper = sorted(
            (
                (_token_usd(tokens, price), family)
                for family, price in result.prices.models.items()
                if family.startswith(provider) and family != current.model
            ),
            reverse=True,
        )
        for usd, family in [c for c in cheaper if c[0] < now][:MODEL_CANDIDATES]:
            out.append(ModelAdvice(agent, current.model, family, now, usd, (now - usd) * scale))
    return out


def recommendations(
    result: ActualCost, window_days: float
) -> list[MemoryAdvice | ProvisionedAdvice | ModelAdvice]:
    """Every recommendation ``cost --actual --recommend`` shows: memory, provisioned concurrency,
    then cheaper models."""
    lam = result.prices.services["lambda"]
    arch = {a: s.architecture for a, s in result.specs.items()}
    out: list[MemoryAdvice | ProvisionedAdvice | ModelAdvice] = []
    out += memory_advice(result.reports, result.gb_second_prices(), window_days)
    out += provisioned_advice(result.reports, lam, arch, window_days)
    out += model_advice(result, window_days)
    return out
