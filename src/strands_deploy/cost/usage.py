"""Usage assumptions: the defaults, merged with `usage:` from strands.yaml (docs/cost.md)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any

from strands_deploy.config.cost_schema import AgentUsage, ResourceUsage

DAYS_PER_MONTH = 30  # a month is 30 days in every forecast (hand calculations stay simple)


@dataclass(frozen=True)
class AgentAssumptions:
    requests_per_day: float = 2000
    input_tokens: int = 1800
    output_tokens: int = 350
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    tool_calls: float = 2
    duration_ms: float = 4000
    session_turns: float = 4
    log_kb_per_request: float = 2.0
    model: str | None = None
    measured: bool = False  # True: figures measured from logs (`cost --from-usage`)

    @property
    def requests_per_month(self) -> float:
        return self.requests_per_day * DAYS_PER_MONTH

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ResourceAssumptions:
    reads_per_request: float | None = None  # None: the linked agents' tool calls, split over links
    writes_per_request: float = 0.0
    stored_gb: float = 1.0

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


AGENT_DEFAULTS = AgentAssumptions()
RESOURCE_DEFAULTS = ResourceAssumptions()


def agent_assumptions(usage: AgentUsage | None, base: AgentAssumptions = AGENT_DEFAULTS) -> AgentAssumptions:
    if usage is None:
        return base
    given = {k: v for k, v in usage.model_dump().items() if v is not None}
    return replace(base, **given)


def resource_assumptions(usage: ResourceUsage | None) -> ResourceAssumptions:
    if usage is None:
        return RESOURCE_DEFAULTS
    given = {k: v for k, v in usage.model_dump().items() if v is not None}
    return replace(RESOURCE_DEFAULTS, **given)
