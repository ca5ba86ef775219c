"""The project as a graph for the Architecture view: agents, resources, links, triggers and
endpoints from the configuration, with each node's status in one environment from its state
(and, when a plan was made, from the plan)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from strands_deploy.config.loader import Project
    from strands_deploy.planning.plan import Plan
    from strands_deploy.state.model import State

RESOURCE_TRIGGERS = ("queue", "topic", "bucket", "table")
DRIFT_REASON = "changed outside"


def graph(project: Project) -> dict[str, Any]:
    """``{"nodes": [...], "edges": [...]}``: ids are ``agent:NAME``, ``resource:NAME``,
    ``endpoint:NAME`` and ``trigger:NAME:N``; each node names the state addresses it owns
    (``owner``, a prefix) so a status can be put on it."""
    nodes: list[dict[str, Any]] = []
    edges: list[dict[str, Any]] = []
    for name, res in sorted(project.config.resources.items()):
        nodes.append(
            {
                "id": f"resource:{name}",
                "kind": "resource",
                "label": name,
                "type": res.type,
                "owner": f"resource.{name}.",
            }
        )
    for name, agent in sorted(project.agents.items()):
        nodes.append(
            {
                "id": f"agent:{name}",
                "kind": "agent",
                "label": name,
                "type": "agent",
                "owner": f"agent.{name}.",
                "memory": agent.memory,
            }
        )
        for link in agent.link:
            edges.append(
                {
                    "id": f"link:{name}:{link}",
                    "kind": "link",
                    "source": f"agent:{name}",
                    "target": f"resource:{link}",
                    "label": link.access,
                }
            )
        if agent.expose != "none":
            nodes.append(
                {
                    "id": f"endpoint:{name}",
                    "kind": "endpoint",
                    "type": agent.expose,
                    "label": "URL" if agent.expose == "url" else "HTTP API",
                    "owner": f"agent.{name}.url" if agent.expose == "url" else f"agent.{name}.route",
                }
            )
            edges.append(
                {
                    "id": f"expose:{name}",
                    "kind": "endpoint",
                    "source": f"endpoint:{name}",
                    "target": f"agent:{name}",
                    "label": agent.auth or "",
                }
            )
        _triggers(name, agent, nodes, edges)
    return {"nodes": nodes, "edges": edges}


def _triggers(name: str, agent: Any, nodes: list[dict[str, Any]], edges: list[dict[str, Any]]) -> None:
    sources: list[tuple[str, str]] = []
    if agent.trigger:
        sources.append(("queue", agent.trigger))
    for i, t in enumerate(agent.triggers):
        kind = next((k for k in RESOURCE_TRIGGERS if getattr(t, k)), None)
        if kind is not None:
            sources.append((kind, getattr(t, kind)))
            continue
        label = t.schedule or "event pattern"
        tid = f"trigger:{name}:{i}"
        nodes.append(
            {
                "id": tid,
                "kind": "trigger",
                "type": "schedule" if t.schedule else "pattern",
                "label": label,
                "owner": f"agent.{name}.trigger",
            }
        )
        edges.append(
            {"id": f"fires:{tid}", "kind": "trigger", "source": tid, "target": f"agent:{name}", "label": ""}
        )
    for kind, resource in sources:
        edges.append(
            {
                "id": f"trigger:{name}:{kind}:{resource}",
                "kind": "trigger",
                "source": f"resource:{resource}",
                "target": f"agent:{name}",
                "label": kind,
            }
        )


def statuses(nodes: list[dict[str, Any]], state: State, plan: Plan | None = None) -> dict[str, str]:
    """Node id -> ``new`` (nothing recorded), ``deployed``, ``changed`` (the plan changes it),
    ``drifted`` (changed outside the tool) or ``failed`` (an interrupted operation, or a
    half-created resource)."""
    out: dict[str, str] = {}
    for node in nodes:
        owner = node.get("owner")
        if not owner:
            continue
        mine = [r for a, r in state.resources.items() if a.startswith(owner)]
        status = "deployed" if mine else "new"
        if plan is not None:
            changes = [c for c in plan.actionable if c.address.startswith(owner)]
            if any(DRIFT_REASON in (c.reason or "") for c in changes):
                status = "drifted"
            elif changes and mine:
                status = "changed"
        if any(a.startswith(owner) for a in state.pending) or any(r.status == "tainted" for r in mine):
            status = "failed"
        out[node["id"]] = status
    return out


def details(project: Project, node_id: str, state: State) -> dict[str, Any]:
    """One node: its configuration (as validated, defaults included), and the AWS resources
    recorded for it with their physical ids and outputs."""
    kind, _, rest = node_id.partition(":")
    name = rest.split(":")[0]
    config: Any = None
    if kind in ("agent", "endpoint", "trigger") and name in project.agents:
        config = project.agents[name].model_dump(mode="json", exclude_none=True)
    elif kind == "resource" and name in project.config.resources:
        config = project.config.resources[name].model_dump(mode="json", exclude_none=True)
    prefix = f"{'resource' if kind == 'resource' else 'agent'}.{name}."
    resources = [
        {"address": a, "type": r.type, "physical_id": r.physical_id, "outputs": r.outputs, "status": r.status}
        for a, r in sorted(state.resources.items())
        if a.startswith(prefix)
    ]
    return {"id": node_id, "name": name, "kind": kind, "config": config, "resources": resources}
