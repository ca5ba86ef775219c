"""The change in monthly cost a plan makes: the forecast of what is recorded (the state, or a
graph) against the forecast of what the plan deploys, under the same usage assumptions and prices.

``plan`` and ``deploy`` show :meth:`CostDelta.summary` (``monthly cost $120.00 → $161.20
(+$41.20/mo)``) and :meth:`CostDelta.rows` next to the changes; ``--json`` carries ``to_json()``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from strands_deploy.config.loader import Project
from strands_deploy.cost.forecast import Forecast, forecast
from strands_deploy.cost.prices import PriceTable
from strands_deploy.state.model import State
from strands_deploy.synth.graph import Graph, Resource

EPSILON = 0.005  # below half a cent a month: no change


def money(usd: float) -> str:
    return f"${usd:,.2f}"


def signed(usd: float) -> str:
    """``+$41.20/mo``, ``-$3.05/mo``, ``±$0.00/mo``."""
    if abs(usd) < EPSILON:
        return "±$0.00/mo"
    return f"{'+' if usd > 0 else '-'}${abs(usd):,.2f}/mo"


@dataclass(frozen=True)
class DeltaItem:
    key: str  # an owner (agent.support, resource.tickets) or an address
    before: float
    after: float

    @property
    def change(self) -> float:
        return self.after - self.before

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "before_monthly_usd": round(self.before, 2),
            "after_monthly_usd": round(self.after, 2),
            "delta_monthly_usd": round(self.change, 2),
        }


@dataclass
class CostDelta:
    before: Forecast
    after: Forecast
    owners: list[DeltaItem] = field(default_factory=list)  # agents and resources whose cost changes
    addresses: list[DeltaItem] = field(default_factory=list)  # resources whose cost changes

    @property
    def change(self) -> float:
        return self.after.total - self.before.total

    def summary(self) -> str:
        return (
            f"monthly cost {money(self.before.total)} → {money(self.after.total)} ({signed(self.change)}; "
            f"{self.after.prices.describe()})"
        )

    def rows(self) -> list[tuple[str, str]]:
        """(owner, ``+$41.20/mo``) for each agent or resource whose monthly cost changes."""
        return [(item.key, signed(item.change)) for item in self.owners]

    def for_address(self, address: str) -> str | None:
        """The change of one resource's monthly cost, for a plan's line (None: no change)."""
        for item in self.addresses:
            if item.key == address:
                return signed(item.change)
        return None

    def to_json(self) -> dict[str, Any]:
        return {
            "currency": "USD",
            "before_monthly_usd": round(self.before.total, 2),
            "after_monthly_usd": round(self.after.total, 2),
            "delta_monthly_usd": round(self.change, 2),
            "delta": signed(self.change),
            "prices": self.after.prices.to_json(),
            "owners": [i.to_json() for i in self.owners],
            "addresses": [i.to_json() for i in self.addresses],
        }


def graph_of_state(state: State) -> Graph:
    """The recorded resources as a graph (their recorded inputs as properties) to price them."""
    graph = Graph()
    for address, rec in state.resources.items():
        graph.resources[address] = Resource(address, rec.type, dict(rec.inputs), agent=rec.agent)
    return graph


def plan_delta(
    before: State | Graph | None,
    graph: Graph,
    project: Project,
    env: str,
    prices: PriceTable,
    *,
    free_tier: bool = False,
) -> CostDelta:
    """The monthly change from ``before`` (the state, a graph, or None: nothing deployed) to ``graph``."""
    old_graph = graph_of_state(before) if isinstance(before, State) else (before or Graph())
    old = forecast(old_graph, project, env, prices, free_tier=free_tier)
    new = forecast(graph, project, env, prices, free_tier=free_tier)
    return CostDelta(
        old, new, _changes(old.by_owner(), new.by_owner()), _changes(old.by_address(), new.by_address())
    )


def _changes(old: dict[str, float], new: dict[str, float]) -> list[DeltaItem]:
    out = []
    for key in sorted(set(old) | set(new)):
        item = DeltaItem(key, old.get(key, 0.0), new.get(key, 0.0))
        if abs(item.change) >= EPSILON:
            out.append(item)
    return out
