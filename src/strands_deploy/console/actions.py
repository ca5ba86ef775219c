"""What the console's API does, over the same use cases as the CLI (``services``,
``state_services``, ``operate``): each function opens the environment afresh, so an edit of
``strands.yaml`` is seen by the next request."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from strands_deploy.console import architecture
from strands_deploy.errors import StrandsDeployError

if TYPE_CHECKING:
    from strands_deploy.console.jobs import Job
    from strands_deploy.operate import Deployment
    from strands_deploy.services import Services


def open_env(root: Path, env: str, *, start_local: bool = False) -> Services:
    from strands_deploy.services import open_services

    return open_services(root, env, start_local=start_local)


def deployment(services: Services) -> Deployment:
    from strands_deploy.operate import Deployment

    return Deployment(
        project=services.project,
        env_name=services.env_name,
        read_state=services.read_state,
        aws=lambda: services.aws,
    )


def overview(root: Path, env: str) -> dict[str, Any]:
    """The graph with each node's status from the state (no AWS call)."""
    services = open_env(root, env)
    data = architecture.graph(services.project)
    state = services.read_state()
    data["status"] = architecture.statuses(data["nodes"], state)
    data["environments"] = services.project.environment_names()
    data["env"] = env
    data["project"] = services.project.name
    data["protected"] = services.env.protect
    data["notes"] = [n for n in [services.local_cloud_gone(state)] if n]
    return data


def node(root: Path, env: str, node_id: str) -> dict[str, Any]:
    services = open_env(root, env)
    return architecture.details(services.project, node_id, services.read_state())


def plan(root: Path, env: str) -> dict[str, Any]:
    """The plan (reads live resources, writes nothing) with per-property diffs, and each node's
    status from it (changed, drifted)."""
    from strands_deploy import services as svc

    services = open_env(root, env, start_local=True)
    outcome = svc.make_plan(services, review=True)
    nodes = architecture.graph(services.project)["nodes"]
    state = services.read_state()
    return {
        "plan": outcome.plan.to_json(),
        "summary": outcome.plan.summary(),
        "status": architecture.statuses(nodes, state, outcome.plan),
        "protected": services.env.protect,
        "warnings": outcome.plan.warnings,
    }


def deploy(root: Path, env: str, typed: str | None) -> Any:
    """The work of a deploy job: lock, plan, confirm (a protected environment needs its name
    typed, as in the CLI), apply; the engine's events go to the job."""

    def work(job: Job) -> dict[str, Any]:
        from strands_deploy import services as svc

        services = open_env(root, env, start_local=True)
        services.command_line = f"strands-deploy ui (deploy --env {env})"

        def confirm(plan: Any) -> bool:
            return not services.env.protect or (typed or "").strip() == env

        job.push({"type": "started", "env": env})
        outcome = svc.deploy(services, sink=job.sink, cancel=job.cancel, confirm=confirm)
        services.wait_background()
        if outcome is None:
            return {"type": "cancelled", "why": f"environment {env!r} is protected: type its name to deploy"}
        result = outcome.result
        state = services.store.state if services.store is not None else services.read_state()
        return {
            "type": "result",
            "ok": result.ok,
            "changes": outcome.plan.has_changes(),
            "summary": outcome.plan.summary(),
            "result": result.to_json(),
            "endpoints": endpoints(state),
            "notes": services.notes,
        }

    return work


def endpoints(state: Any) -> dict[str, str]:
    out = {}
    for address, record in sorted(state.resources.items()):
        parts = address.split(".")
        if (
            parts[0] == "agent"
            and len(parts) == 3
            and parts[2] in ("url", "route")
            and record.outputs.get("url")
        ):
            out[f"agent.{parts[1]}"] = str(record.outputs["url"])
    return out


def chat(root: Path, env: str, agent: str, prompt: str, session: str | None) -> dict[str, Any]:
    from strands_deploy.operate.invoke import invoke

    if not prompt.strip():
        raise StrandsDeployError("the message is empty", fix="type a message")
    services = open_env(root, env, start_local=True)
    return invoke(deployment(services), agent, prompt, session or None)


def logs(root: Path, env: str, agent: str, since_ms: int, filter_text: str | None) -> list[dict[str, Any]]:
    from strands_deploy.operate.logs import open_logs

    services = open_env(root, env, start_local=True)
    events: list[dict[str, Any]] = []
    reader = open_logs(deployment(services), agent, filter_text or None, events.append)
    reader.poll(since_ms)
    return [
        {
            "timestamp": e.get("timestamp", 0),
            "message": str(e.get("message", "")),
            "stream": e.get("logStreamName"),
        }
        for e in events
    ]


def history(root: Path, env: str, limit: int = 50) -> list[dict[str, Any]]:
    from strands_deploy import state_services

    return state_services.audit_trail(open_env(root, env), limit)
