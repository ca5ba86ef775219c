"""The floor of a scenario: the time no tool can beat under the latency model.

Two lower bounds, the floor is the larger (derivation in benchmarks/README.md):

- the critical chain: the longest sequence of calls and waits that must happen one after another
  (a call cannot start before the calls whose results it needs, nor before AWS is ready for it);
- the rate bound: for each token bucket, the calls of the scenario it meters, minus its burst,
  divided by its rate, after the earliest moment any of those calls can be useful, plus one call.

Only calls a correct deploy *needs* count: no read-backs, no refresh (the state is trusted), one
readiness poll per wait (sent the instant the wait ends; GetFunction, which has its own quota).
All figures are medians from :mod:`benchmarks.awsproxy.model`, multiplied by ``scale``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from benchmarks.awsproxy.model import RATE_LIMITS, RateLimit, Waits, latency_of


@dataclass
class Step:
    what: str
    seconds: float


@dataclass
class Floor:
    scenario: str
    chain: list[Step] = field(default_factory=list)
    rate_terms: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def chain_seconds(self) -> float:
        return sum(s.seconds for s in self.chain)

    @property
    def rate_seconds(self) -> float:
        return max((t["seconds"] for t in self.rate_terms), default=0.0)

    @property
    def seconds(self) -> float:
        return max(self.chain_seconds, self.rate_seconds)

    @property
    def bound_by(self) -> str:
        if self.rate_seconds > self.chain_seconds:
            top = max(self.rate_terms, key=lambda t: t["seconds"])
            return f"rate limit: {top['limit']}"
        return "critical chain"

    def to_json(self) -> dict[str, Any]:
        return {
            "seconds": round(self.seconds, 3),
            "bound_by": self.bound_by,
            "chain_seconds": round(self.chain_seconds, 3),
            "chain": [{"what": s.what, "seconds": round(s.seconds, 3)} for s in self.chain],
            "rate_seconds": round(self.rate_seconds, 3),
            "rate_terms": self.rate_terms,
            "notes": self.notes,
        }


def _call(service: str, op: str, scale: float, times: int = 1) -> Step:
    what = f"{service}:{op}" + (f" x{times} (one after another)" if times > 1 else "")
    return Step(what, latency_of(service, op) * times * scale)


def _limit(name: str) -> RateLimit:
    return next(r for r in RATE_LIMITS if r.name == name)


def _rate_term(limit_name: str, calls: int, start: float, last_call: float, scale: float) -> dict[str, Any]:
    limit = _limit(limit_name)
    seconds = start + max(0.0, calls - limit.burst) / (limit.rate / scale) + last_call
    return {
        "limit": f"{limit.name} ({limit.rate:g}/s, burst {limit.burst:g})",
        "calls": calls,
        "starts_at": round(start, 3),
        "seconds": round(seconds, 3),
    }


# Per agent (expose: url, sessions, alarms on), the calls a first deploy needs.
LAMBDA_CALLS_PER_NEW_AGENT = (
    6  # CreateFunction, PublishVersion, CreateAlias, CreateFunctionUrlConfig, AddPermission x2
)
ALARMS_PER_AGENT = 3


PER_AGENT_ROLES_NOTE = (
    "per-agent roles: {n} CreateRole + {n} PutRolePolicy. IAM has no published rate limit and the "
    "model meters none, so every role can be created at t = 0 and all propagate together: the "
    "chain (one role's CreateRole + propagation) and the Lambda quota term (which starts when the "
    "roles are usable) are the same as with one shared role. The roles add {calls} IAM writes "
    "off the critical path; on real AWS, IAM's unpublished throttling could make them matter at "
    "hundreds of agents."
)


def first_deploy(
    agents: int,
    *,
    new_role: bool = True,
    per_agent_roles: bool = True,
    scale: float = 1.0,
    waits: Waits | None = None,
) -> Floor:
    """Scenarios 1, 4 and 8: ``agents`` agents (URL, sessions, 3 alarms, a linked table), first deploy,
    each agent with its own role (the default since the security issue) unless ``per_agent_roles``
    is false."""
    w = waits or Waits()
    f = Floor(f"first deploy, {agents} agent(s)")
    if new_role and per_agent_roles:
        f.notes.append(PER_AGENT_ROLES_NOTE.format(n=agents, calls=2 * agents))
    if new_role:
        f.chain += [
            _call("iam", "CreateRole", scale),
            Step("IAM propagation before Lambda accepts the role", w.iam_propagation * scale),
        ]
    f.chain += [
        _call("lambda", "CreateFunction", scale),
        Step("function Pending", w.function_pending * scale),
        _call("lambda", "GetFunction", scale),  # the poll that sees Active
        _call("lambda", "PublishVersion", scale),
        _call("lambda", "CreateAlias", scale),
        # then, at once: CreateFunctionUrlConfig (0.3 s) and the two AddPermission calls, which
        # change the same resource policy and so go one after the other (0.6 s).
        _call("lambda", "AddPermission", scale, times=2),
    ]
    prop_end = (latency_of("iam", "CreateRole") + w.iam_propagation) * scale if new_role else 0.0
    f.rate_terms.append(
        _rate_term(
            "lambda control plane",
            LAMBDA_CALLS_PER_NEW_AGENT * agents,
            prop_end,  # no Lambda call of the deploy can succeed before the role is usable
            latency_of("lambda", "AddPermission") * scale,
            scale,
        )
    )
    f.rate_terms.append(
        _rate_term(
            "cloudwatch PutMetricAlarm",
            ALARMS_PER_AGENT * agents,
            0.0,  # an alarm needs nothing: the metric's dimensions are known names
            latency_of("cloudwatch", "PutMetricAlarm") * scale,
            scale,
        )
    )
    return f


def code_change(agents_changed: int = 1, *, scale: float = 1.0, waits: Waits | None = None) -> Floor:
    """Scenarios 2 and 5: new code for ``agents_changed`` agent(s); the state is trusted (no refresh)."""
    w = waits or Waits()
    f = Floor(f"code change, {agents_changed} agent(s)")
    f.chain = [
        _call("lambda", "UpdateFunctionCode", scale),
        Step("LastUpdateStatus InProgress", w.function_update * scale),
        _call("lambda", "GetFunction", scale),
        _call("lambda", "PublishVersion", scale),
        _call("lambda", "UpdateAlias", scale),
    ]
    f.rate_terms.append(
        _rate_term(
            "lambda control plane",
            3 * agents_changed,
            0.0,
            latency_of("lambda", "UpdateAlias") * scale,
            scale,
        )
    )
    return f


def no_change(*, scale: float = 1.0) -> Floor:
    """Scenario 3: nothing changed. Without refresh no call is needed at all; the floor counts one
    round of parallel reads (the slowest single read), as refresh is on by default."""
    f = Floor("no change")
    f.chain = [_call("lambda", "GetFunction", scale)]
    return f


def refresh_reads(agents: int, *, scale: float = 1.0) -> Floor:
    """A full refresh of ``agents`` agents: one read per resource, all at once, under the quotas.

    Lambda aliases and URLs are read with GetAlias / GetFunctionUrlConfig (control-plane quota,
    15/s); functions with GetFunction (100/s); alarms with DescribeAlarms, 100 names a call (9/s).
    """
    f = Floor(f"refresh, {agents} agent(s)")
    f.chain = [_call("lambda", "GetFunction", scale)]
    f.rate_terms.append(
        _rate_term("lambda control plane", 2 * agents, 0.0, latency_of("lambda", "GetAlias") * scale, scale)
    )
    f.rate_terms.append(
        _rate_term("lambda GetFunction", agents, 0.0, latency_of("lambda", "GetFunction") * scale, scale)
    )
    return f


def plain_first_deploy(agents: int, *, scale: float = 1.0, waits: Waits | None = None) -> Floor:
    """S9: ``agents`` plain agents (own role, no URL, no alarms, no table), first deploy:
    CreateRole, propagation, CreateFunction, Pending, the poll that sees Active, PublishVersion,
    CreateAlias; three Lambda control-plane calls per agent."""
    w = waits or Waits()
    f = Floor(f"first deploy, {agents} plain agent(s)")
    f.notes.append(PER_AGENT_ROLES_NOTE.format(n=agents, calls=2 * agents))
    f.chain = [
        _call("iam", "CreateRole", scale),
        Step("IAM propagation before Lambda accepts the role", w.iam_propagation * scale),
        _call("lambda", "CreateFunction", scale),
        Step("function Pending", w.function_pending * scale),
        _call("lambda", "GetFunction", scale),
        _call("lambda", "PublishVersion", scale),
        _call("lambda", "CreateAlias", scale),
    ]
    prop_end = (latency_of("iam", "CreateRole") + w.iam_propagation) * scale
    f.rate_terms.append(
        _rate_term(
            "lambda control plane", 3 * agents, prop_end, latency_of("lambda", "CreateAlias") * scale, scale
        )
    )
    return f
