"""Policy wiring (the logic lives in ``strands_deploy.policy``): `check`, approvals, the
compliance report."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from strands_deploy.errors import StrandsDeployError
from strands_deploy.services import Services
from strands_deploy.services.cost import OFFLINE_ACCOUNT, offline_graph

if TYPE_CHECKING:
    from strands_deploy.planning.plan import Plan
    from strands_deploy.synth.graph import Graph


# --- policy (issue 18): thin wiring; the logic is in strands_deploy.policy ---


def policy_graph(services: Services, agents: list[str] | None = None) -> Graph:
    return offline_graph(services, agents)


def check_policy(
    services: Services, *, agents: list[str] | None = None, live: bool = False, plan: Plan | None = None
) -> Any:
    """`check`: the policy review of the environment's graph (and ``plan``); with ``live``, the
    outputs recorded in the state are checked too. Returns a :class:`policy.PolicyReview`."""
    from strands_deploy.policy import review
    from strands_deploy.policy.scan import scan_notices

    graph = policy_graph(services, agents)
    outputs = None
    if live:
        state = services.read_state()
        outputs = {address: dict(r.outputs) for address, r in state.resources.items()}
    account = services._account or services.env.account or OFFLINE_ACCOUNT
    return review(
        services.project,
        services.env_name,
        graph,
        plan,
        live=outputs,
        account=account,
        extra_notices=scan_notices(services.project, agents),
    )


def approve_plan(services: Services, plan_path: Path, approver: str | None) -> Any:
    """`approve`: record the approval next to the plan and in the environment's audit trail.
    The approver is ``approver`` (``--as``) or the caller's AWS identity."""
    from strands_deploy.policy.approvals import approve

    who = approver or services.identity()
    if not who:
        raise StrandsDeployError(
            "the approver's identity is not known on the local cloud",
            "approve",
            "pass --as NAME",
        )
    approval = approve(plan_path, who)
    from strands_deploy.policy.report import APPROVED
    from strands_deploy.stateops.audit import record

    services.backend.append_audit(
        record(
            environment=services.env_name,
            command=services.command_line or "approve",
            who=approval.approver,  # the approver: the caller's ARN, or --as
            result="ok",
            plan_digest=approval.digest,
            detail=f"{APPROVED}{approval.maker}",
        )
    )
    return approval


def compliance_data(services: Services, days: int = 90) -> dict[str, Any]:
    """What a compliance report adds to the review: the period, and the approvals and deploy
    history of the period, from the environment's audit trail."""
    from strands_deploy.policy.report import compliance_extra

    return compliance_extra(services.backend.audit(), days=days)
