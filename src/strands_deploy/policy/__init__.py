"""Policy as code (docs/policy.md): rule packs over the synthesized resources and the plan.

Custom rules::

    from strands_deploy.policy import rule

    @rule(id="TEAM-001", severity="error", message="agents state a description")
    def described(agent: AgentSubject) -> bool:
        return bool(agent.config.description)

Kept light: ``review`` and the rest load on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from strands_deploy.policy.model import (
    AgentSubject,
    ChangeSubject,
    Context,
    ProjectSubject,
    ResourceSubject,
    Violation,
)
from strands_deploy.policy.registry import rule

if TYPE_CHECKING:
    from strands_deploy.policy.evaluate import PolicyReview, review

__all__ = [
    "AgentSubject",
    "ChangeSubject",
    "Context",
    "PolicyReview",
    "ProjectSubject",
    "ResourceSubject",
    "Violation",
    "review",
    "rule",
]


def __getattr__(name: str) -> Any:
    if name in ("review", "PolicyReview"):
        from strands_deploy.policy import evaluate as module

        return getattr(module, name)
    raise AttributeError(name)
