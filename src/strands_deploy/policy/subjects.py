"""The subjects rules look at, built from the context: agents, resources (typed props), changes."""

from __future__ import annotations

from typing import Any

from strands_deploy.policy.model import AgentSubject, ChangeSubject, Context, ResourceSubject
from strands_deploy.synth.graph import to_jsonable


def agent_subjects(ctx: Context) -> list[AgentSubject]:
    """Each agent synthesized in the graph (an agent left out by ``--agent`` is not checked)."""
    out = []
    for name, cfg in sorted(ctx.project.agents.items()):
        prefix = f"agent.{name}."
        resources = {r.address.removeprefix(prefix): r for r in ctx.graph if r.address.startswith(prefix)}
        if not resources:
            continue
        public = cfg.expose != "none" and (cfg.auth or "none") == "none" and not ctx.emulated
        out.append(AgentSubject(name, cfg, resources, public, ctx.project.root / cfg.path))
    return out


def typed_props(rtype: str, props: dict[str, Any]) -> Any:
    """``props`` as the provider's typed model, or None (an unknown type, or unresolved values)."""
    from pydantic import ValidationError

    from strands_deploy.errors import StrandsDeployError
    from strands_deploy.providers.registry import get_provider

    try:
        model = get_provider(rtype).props_model
    except (StrandsDeployError, AttributeError):
        return None
    try:
        return model.model_validate(props)
    except ValidationError:
        return None


def resource_subjects(ctx: Context) -> list[ResourceSubject]:
    out = []
    for res in sorted(ctx.graph, key=lambda r: r.address):
        props = to_jsonable(res.props)
        live = (ctx.live or {}).get(res.address)
        out.append(
            ResourceSubject(res.address, res.type, props, typed_props(res.type, props), res.agent, live)
        )
    return out


def change_subjects(ctx: Context) -> list[ChangeSubject]:
    return [ChangeSubject(c) for c in ctx.plan.actionable] if ctx.plan is not None else []
