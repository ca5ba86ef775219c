"""`cost --from-usage 7d`: usage assumptions measured from what the agents actually did."""

from __future__ import annotations

from dataclasses import replace

from strands_deploy.cost.actual import ActualCost
from strands_deploy.cost.usage import AgentAssumptions


def measured_assumptions(
    actual: ActualCost, window_days: float, base: dict[str, AgentAssumptions]
) -> dict[str, AgentAssumptions]:
    """Per agent with requests in the window: its configured assumptions (``base``) with the
    measured rate, tokens per request, duration and turns per session replacing them."""
    out: dict[str, AgentAssumptions] = {}
    for agent in actual.by_agent():
        reqs = [r for r in actual.requests if r.agent == agent]
        n = len(reqs)
        sessions = {r.session_id for r in reqs if r.session_id}
        a = base.get(agent, AgentAssumptions())
        out[agent] = replace(
            a,
            requests_per_day=n / max(window_days, 1e-9),
            input_tokens=round(sum(r.tokens.get("input", 0) for r in reqs) / n),
            output_tokens=round(sum(r.tokens.get("output", 0) for r in reqs) / n),
            cache_read_tokens=round(sum(r.tokens.get("cache_read", 0) for r in reqs) / n),
            cache_write_tokens=round(sum(r.tokens.get("cache_write", 0) for r in reqs) / n),
            duration_ms=sum(r.duration_ms for r in reqs) / n,
            session_turns=max(n / len(sessions), 1.0) if sessions else a.session_turns,
            measured=True,
        )
    return out
