"""The `cost` pack: spending decisions stated, not defaulted."""

from __future__ import annotations

from strands_deploy.policy.model import AgentSubject, Context, ProjectSubject, Violation
from strands_deploy.policy.packs._util import function_props
from strands_deploy.policy.registry import rule

PACK = "cost"
MEMORY_THRESHOLD = 3008  # MB: above it, say why (`memory_reason:`)


@rule(
    "CST-001",
    "warning",
    "Memory over the threshold without a reason",
    pack=PACK,
    subject="agent",
    rationale=f"Lambda bills memory × duration; an agent mostly waits on its model, so more than "
    f"{MEMORY_THRESHOLD} MB is rarely needed and should be a stated decision.",
    fix="Lower `memory:`, or say why with `memory_reason:`.",
)
def memory_reason(agent: AgentSubject) -> Violation | None:
    memory = function_props(agent).get("memory") or 0
    if memory <= MEMORY_THRESHOLD or (agent.config.memory_reason or "").strip():
        return None
    return Violation(f"agent {agent.name!r} has {memory} MB without `memory_reason:`", f"memory: {memory}")


@rule(
    "CST-002",
    "warning",
    "No budget on a production environment",
    pack=PACK,
    subject="project",
    rationale="Model spend grows with traffic and with every retry loop; a budget alerts before "
    "the invoice does.",
    fix="Add a `budget:` to the production environment (see docs/cost.md).",
)
def production_budget(_: ProjectSubject, ctx: Context) -> Violation | None:
    if not ctx.production or getattr(ctx.env, "budget", None):
        return None
    return Violation(f"production environment {ctx.env_name!r} has no budget", "budget: none")
