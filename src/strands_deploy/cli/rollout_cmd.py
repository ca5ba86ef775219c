"""`strands-deploy rollout status|resume|abort` (docs/rollouts.md), and what the other rollout
commands (promote, abort, rollback, versions, eval, deploy) share for rendering."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import click

from strands_deploy.cli.common import (
    agent_argument,
    env_option,
    json_option,
    print_json,
    project_dir,
    summary,
)

if TYPE_CHECKING:
    from strands_deploy.services import Services

EXIT_ROLLED_BACK = 3  # the deploy applied, but a rollout rolled back, failed or was aborted


def open_rollout(ctx: click.Context, env_name: str) -> Services:
    from strands_deploy.services import open_services

    return open_services(project_dir(ctx), env_name)


def render_event(record: Any, event: dict[str, Any]) -> None:
    from rich.markup import escape

    detail = f": {event['detail']}" if event.get("detail") else ""
    line = f"  rollout {record.agent} [{event['event']}] {event.get('weight', 0):.0%} new{detail}"
    summary(escape(line))


def render_record(record: Any) -> None:
    weight = f"{record.weight:.0%}"
    line = (
        f"{record.agent}: {record.strategy} {record.status}, version {record.old_version} -> "
        f"{record.new_version} ({weight} of the traffic on version {record.new_version})"
    )
    click.echo(line)
    if record.reason:
        click.echo(f"  why: {record.reason}")
    for h in record.history[-10:]:
        click.echo(f"  {h['at']}  {h['event']:<12} {h.get('detail', '')}")


def finish(records: list[Any], as_json: bool, show: bool = True) -> None:
    """Print the records (unless ``show`` is false); exit 3 when any ended badly."""
    if show and as_json:
        print_json([r.to_dict() for r in records])
    elif show:
        for r in records:
            render_record(r)
    if any(r.status in ("rolled-back", "failed", "aborted") for r in records):
        sys.exit(EXIT_ROLLED_BACK)


@click.group("rollout")
def command() -> None:
    """Progressive rollouts: status, resume, abort (from any shell: the progress is in the state)."""


@command.command("status")
@env_option
@json_option()
@click.argument("agent", required=False)
@click.pass_context
def status(ctx: click.Context, env_name: str, as_json: bool, agent: str | None) -> None:
    """The rollout in progress (or the last one) of each agent."""
    from strands_deploy.rollout import control

    services = open_rollout(ctx, env_name)
    records = control.status(services.read_state(), agent)
    if as_json:
        print_json([r.to_dict() for r in records])
        return
    if not records:
        summary("No rollouts recorded in this environment.")
    for r in records:
        render_record(r)


@command.command("resume")
@env_option
@json_option()
@agent_argument
@click.pass_context
def resume(ctx: click.Context, env_name: str, as_json: bool, agent: str) -> None:
    """Continue a rollout left running (its current step is held again)."""
    from strands_deploy import services as svc
    from strands_deploy.rollout import control

    services = open_rollout(ctx, env_name)
    deps = svc.rollout_deps(services, on_event=None if as_json else render_event)
    config = svc.rollout_config(services, agent)
    deps.notifier.targets = config.notify
    finish([control.resume(deps, services.read_state(), agent, config)], as_json)


@command.command("abort")
@env_option
@json_option()
@agent_argument
@click.pass_context
def abort(ctx: click.Context, env_name: str, as_json: bool, agent: str) -> None:
    """Move all traffic back to the previous version and stop the rollout."""
    run_abort(ctx, env_name, as_json, agent)


def run_abort(ctx: click.Context, env_name: str, as_json: bool, agent: str) -> None:
    from strands_deploy import services as svc
    from strands_deploy.rollout import control

    services = open_rollout(ctx, env_name)
    deps = svc.rollout_deps(services)
    deps.notifier.targets = svc.rollout_config(services, agent).notify
    record = control.abort(deps, services.read_state(), agent, svc.rollout_who(services))
    if as_json:
        print_json(record.to_dict())
    else:
        render_record(record)


def run_deploy_rollouts(services: Services, as_json: bool) -> list[Any]:
    """After a deploy's apply: run the held agents' rollouts with live progress. Ctrl-C asks
    whether to leave the rollout running (resume it later), abort it, or roll it back."""
    import signal
    import threading

    from strands_deploy import services as svc
    from strands_deploy.rollout import control

    cancel = threading.Event()
    previous = signal.signal(signal.SIGINT, lambda signum, frame: cancel.set())
    try:
        records = svc.run_rollouts(services, on_event=None if as_json else render_event, cancel=cancel)
    finally:
        signal.signal(signal.SIGINT, previous)
    out = []
    for record in records:
        if cancel.is_set() and record.status == "running" and not as_json:
            choice = click.prompt(
                f"rollout of {record.agent} interrupted: [l]eave running, [a]bort, [r]oll back",
                type=click.Choice(["l", "a", "r"]),
                default="l",
            )
            deps = svc.rollout_deps(services)
            deps.notifier.targets = svc.rollout_config(services, record.agent).notify
            who = svc.rollout_who(services)
            if choice == "a":
                record = control.abort(deps, services.read_state(), record.agent, who)
            elif choice == "r":
                record = control.rollback(deps, services.read_state(), record.agent, None, who)
            else:
                summary(
                    f"left running: `strands-deploy rollout resume {record.agent} -e {services.env_name}`"
                )
        out.append(record)
    return out
