"""The monthly forecast: the graph (what would be deployed) priced under usage assumptions.

Every line is ``quantity × unit price`` in natural units (requests, tokens, GB-seconds, GB,
GB-months), so a forecast can be checked by hand; docs/cost.md states each formula. A month is
:data:`~strands_deploy.cost.usage.DAYS_PER_MONTH` days. Lines belong to an *owner*: the agent
(``agent.support``) whose traffic causes them, or the resource (``resource.tickets``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from strands_deploy.config.loader import Project
from strands_deploy.cost.agent_lines import agent_lines
from strands_deploy.cost.lines import ForecastLine
from strands_deploy.cost.prices import PriceTable
from strands_deploy.cost.resource_lines import resource_lines
from strands_deploy.cost.usage import AgentAssumptions, agent_assumptions
from strands_deploy.synth.budget import BUDGET
from strands_deploy.synth.graph import Graph, Resource
from strands_deploy.synth.models import DEFAULT_MODEL_ID


@dataclass
class Forecast:
    environment: str
    region: str
    prices: PriceTable
    lines: list[ForecastLine] = field(default_factory=list)
    assumptions: dict[str, AgentAssumptions] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    free_tier: bool = False

    @property
    def total(self) -> float:
        return sum(line.monthly_usd for line in self.lines)

    def by_owner(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for line in self.lines:
            out[line.owner] = out.get(line.owner, 0.0) + line.monthly_usd
        return dict(sorted(out.items()))

    def by_address(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for line in self.lines:
            out[line.address] = out.get(line.address, 0.0) + line.monthly_usd
        return dict(sorted(out.items()))

    def owner_total(self, owner: str) -> float:
        return sum(line.monthly_usd for line in self.lines if line.owner == owner)

    def to_json(self) -> dict[str, Any]:
        return {
            "environment": self.environment,
            "region": self.region,
            "currency": "USD",
            "period": "month",
            "prices": self.prices.to_json(),
            "free_tier": self.free_tier,
            "total_monthly_usd": round(self.total, 2),
            "owners": {k: round(v, 4) for k, v in self.by_owner().items()},
            "assumptions": {k: v.to_json() for k, v in sorted(self.assumptions.items())},
            "lines": [line.to_json() for line in self.lines],
            "warnings": list(self.warnings),
        }


def forecast(
    graph: Graph,
    project: Project,
    env: str,
    prices: PriceTable,
    *,
    free_tier: bool = False,
    measured: Mapping[str, AgentAssumptions] | None = None,
) -> Forecast:
    """The monthly cost of ``graph`` under the usage assumptions of ``project`` (as configured for
    ``env``; ``measured`` replaces an agent's assumptions with figures measured from its logs)."""
    fc = Forecast(env, prices.region, prices, free_tier=free_tier)
    if not prices.regional:
        fc.warnings.append(f"the price table has no prices for {prices.region}: us-east-1 prices are used")
    for fn in sorted(_functions(graph), key=lambda r: r.address):
        name = str(fn.agent)
        cfg = project.agents.get(name)
        a = (measured or {}).get(name) or agent_assumptions(cfg.usage if cfg else None)
        fc.assumptions[name] = a
        fc.lines += agent_lines(graph, fn, cfg, a, prices, fc.warnings, _model_of(fn, a))
    fc.lines += resource_lines(graph, project, fc.assumptions, prices)
    if BUDGET in graph:  # cost budgets without actions are free
        usd = prices.price("budgets", "budget_month")
        fc.lines.append(ForecastLine("shared", BUDGET, "budgets", "budget", 1, "budget-months", usd))
    if free_tier:
        apply_free_tier(fc.lines, prices.free_tier)
    return fc


def _functions(graph: Graph) -> list[Resource]:
    return [
        r
        for r in graph
        if r.type == "aws.lambda.function" and r.agent and r.address == f"agent.{r.agent}.function"
    ]


def _model_of(fn: Resource, a: AgentAssumptions) -> str:
    env = fn.props.get("environment") or {}
    model = a.model or (env.get("STRANDS_MODEL_ID") if isinstance(env, dict) else None)
    return str(model) if isinstance(model, str) and model else DEFAULT_MODEL_ID


def apply_free_tier(lines: list[ForecastLine], allowances: Mapping[str, float]) -> None:
    """Spend each monthly allowance on the lines that draw on it, in order (first agent first)."""
    left = dict(allowances)
    for line in lines:
        if line.free_key and left.get(line.free_key, 0.0) > 0:
            used = min(line.quantity, left[line.free_key])
            line.free_quantity = used
            left[line.free_key] -= used
