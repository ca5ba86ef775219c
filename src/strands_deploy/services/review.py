"""The review a plan carries (``plan.review``): policy findings, the monthly cost change, and
what blocks a deploy. Computed here so plan, deploy and the console show the same data."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from strands_deploy.errors import StrandsDeployError
from strands_deploy.services import Services
from strands_deploy.services.cost import OFFLINE_ACCOUNT, cost_plan_delta
from strands_deploy.state.model import State

if TYPE_CHECKING:
    from strands_deploy.planning.plan import Plan
    from strands_deploy.synth.graph import Graph


def review_plan(
    services: Services, graph: Graph, state: State, plan: Plan, agents: list[str] | None = None
) -> dict[str, Any]:
    """What plan and deploy show beside the changes, as data kept in the plan (and in a saved
    plan, so ``deploy --plan`` is judged by what was reviewed): the policy review (docs/policy.md),
    the monthly cost change (docs/cost.md) and ``blocked``, what stops a deploy: policy errors and
    a forecast over the environment's budget (which ``--accept-cost`` lets through)."""
    from strands_deploy.policy import review as policy_review
    from strands_deploy.policy.scan import scan_notices

    policy = policy_review(
        services.project,
        services.env_name,
        graph,
        plan,
        account=services._account or services.env.account or OFFLINE_ACCOUNT,
        extra_notices=scan_notices(services.project, agents),
    )
    from strands_deploy.cost import budget_check

    delta = cost_plan_delta(services, graph, state)
    over = budget_check(delta.after, services.env)  # the delta's forecast of the graph, not another
    blocked: dict[str, Any] = {}
    if policy.errors:
        shown = "; ".join(f"{f.rule.id} {f.address}: {f.message}" for f in policy.errors[:3])
        more = f" (and {len(policy.errors) - 3} more)" if len(policy.errors) > 3 else ""
        blocked["policy"] = {
            "what": f"{len(policy.errors)} policy error(s) block the deploy; nothing was changed: {shown}{more}",
            "where": f"environment {services.env_name}",
            "fix": "fix them, or add a `suppress:` entry with a reason and an expiry "
            "(`strands-deploy check` shows each with its fix)",
        }
    if over is not None:
        blocked["budget"] = {"what": over.what, "where": over.where, "fix": over.fix}
    findings = [f.to_json() for f in policy.findings if f.status in ("fail", "suppressed")]
    return {
        "policy": {
            "ok": policy.ok,
            "counts": policy.counts(),
            "findings": findings,
            "notices": policy.notices,
        },
        "cost": delta.to_json(),
        "blocked": blocked,
    }


def review_blocker(plan: Plan, accept_cost: str | None) -> StrandsDeployError | None:
    """What in the plan's review stops the deploy (None: nothing): policy errors always; a
    forecast over budget unless ``accept_cost`` (a reason, recorded in the history) is given."""
    blocked = (plan.review or {}).get("blocked") or {}
    for kind in ("policy", "budget"):
        entry = blocked.get(kind)
        if entry is None or (kind == "budget" and accept_cost):
            continue
        return StrandsDeployError(entry["what"], entry["where"], entry["fix"])
    return None


def _actions(plan: Plan) -> list[tuple[str, str]]:
    return [(c.address, c.action.value) for c in plan.actionable]
