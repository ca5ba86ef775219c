"""`strands-deploy state ...`: inspect, edit and repair an environment's state (docs/state.md).

This module holds the group and the commands that read or edit the current state; history,
rollback, migration and bootstrap are in ``state_history_cmd``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from strands_deploy.cli.common import (
    completer,
    console,
    env_option,
    json_option,
    lock_timeout_option,
    open_for_change,
    print_json,
    print_notes,
    project_dir,
    summary,
)

if TYPE_CHECKING:
    from strands_deploy.services import Services


@click.group("state")
def command() -> None:
    """Inspect, edit and move the state: show, list, history, rollback, pull, push, rm, mv,
    migrate, bootstrap, unlock."""


def _services(ctx: click.Context, env_name: str) -> Services:
    from strands_deploy.services import open_services

    return open_services(project_dir(ctx), env_name, start_local=False)


@command.command("show")
@env_option
@click.option("--serial", type=int, help="Show this earlier version (see `state history`).")
@json_option("Print JSON (the state is always printed as JSON; accepted everywhere for scripts).")
@click.pass_context
def show(ctx: click.Context, env_name: str, serial: int | None, as_json: bool) -> None:
    """Print the state document (no secret is ever in it)."""
    from strands_deploy import state_services as ss

    print_json(ss.show(_services(ctx, env_name), serial).to_dict())


@command.command("list")
@env_option
@json_option()
@click.pass_context
def list_(ctx: click.Context, env_name: str, as_json: bool) -> None:
    """List the addresses in the state, with type and physical id."""
    from strands_deploy import state_services as ss

    state = ss.show(_services(ctx, env_name))
    rows = [(a, r.type, r.physical_id) for a, r in sorted(state.resources.items())]
    if as_json:
        print_json([{"address": a, "type": t, "physical_id": p} for a, t, p in rows])
        return
    for a, t, p in rows:
        console().print(f"{a}  [dim]{t}[/dim]  {p}", soft_wrap=True)
    if not rows:
        summary(f"The state of environment {env_name} records no resources.")


@command.command("rm")
@env_option
@lock_timeout_option
@click.argument("addresses", nargs=-1, required=True, shell_complete=completer("addresses"))
@json_option('Print {"removed": [...]}.')
@click.pass_context
def rm(
    ctx: click.Context, env_name: str, lock_timeout: float, addresses: tuple[str, ...], as_json: bool
) -> None:
    """Forget resources without deleting them (they keep running in AWS, unmanaged)."""
    from strands_deploy import state_services as ss

    services = open_for_change(ctx, env_name, lock_timeout, start_local=False)
    removed = ss.remove(services, list(addresses))
    print_notes(services.notes)
    if as_json:
        print_json({"environment": env_name, "removed": list(removed)})
        return
    summary(
        f"Removed {len(removed)} address(es) from the state of [bold]{env_name}[/bold]; the resources "
        "were not deleted. Deploying again adopts them back (they carry this project's tags)."
    )


@command.command("mv")
@env_option
@lock_timeout_option
@click.argument("old", shell_complete=completer("addresses"))
@click.argument("new")
@json_option('Print {"moved": {"from": OLD, "to": NEW}}.')
@click.pass_context
def mv(ctx: click.Context, env_name: str, lock_timeout: float, old: str, new: str, as_json: bool) -> None:
    """Rename an address in the state without recreating the resource."""
    from strands_deploy import state_services as ss

    services = open_for_change(ctx, env_name, lock_timeout, start_local=False)
    ss.move(services, old, new)
    print_notes(services.notes)
    if as_json:
        print_json({"environment": env_name, "moved": {"from": old, "to": new}})
        return
    summary(f"Moved [bold]{old}[/bold] to [bold]{new}[/bold].")


@command.command("pull")
@env_option
@click.option("--out", "-o", type=click.Path(dir_okay=False), help="Write to this file instead of stdout.")
@click.pass_context
def pull(ctx: click.Context, env_name: str, out: str | None) -> None:
    """Print (or save) the current state document, decrypted."""
    import json

    from strands_deploy import state_services as ss

    doc = ss.pull(_services(ctx, env_name))
    text = json.dumps(doc, indent=2) + "\n"
    if out is None:
        sys.stdout.write(text)
        return
    from strands_deploy.state.backend import atomic_write

    try:
        atomic_write(Path(out), text.encode())
    except OSError as e:
        from strands_deploy.errors import StrandsDeployError

        raise StrandsDeployError(f"cannot write {out}: {e.strerror}", out, "choose a writable path") from None
    summary(f"Saved the state of {env_name} (serial {doc['serial']}) to {out}.")


@command.command("push")
@env_option
@lock_timeout_option
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--force", is_flag=True, help="Replace even a newer state or one of another lineage.")
@json_option('Print {"serial": N}.')
@click.pass_context
def push(
    ctx: click.Context, env_name: str, lock_timeout: float, file: str, force: bool, as_json: bool
) -> None:
    """Replace the stored state with FILE (from `state pull`); the old one stays in the history."""
    from strands_deploy import state_services as ss
    from strands_deploy.errors import StrandsDeployError

    try:
        text = Path(file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise StrandsDeployError(
            f"cannot read {file}: {e}", file, "push a file written by `state pull`"
        ) from None
    incoming = ss.load_pushed(text, file, env_name)
    services = open_for_change(ctx, env_name, lock_timeout, start_local=False)
    pushed = ss.push(services, incoming, force, file)
    print_notes(services.notes)
    if as_json:
        print_json({"environment": env_name, "serial": pushed.serial})
        return
    summary(f"Pushed {file} as serial {pushed.serial} of environment [bold]{env_name}[/bold].")


@command.command("unlock")
@env_option
@click.argument("lock_id", required=False)
@click.option("--force", is_flag=True, help="Release the lock LOCK_ID even if its holder may be alive.")
@json_option('Print {"released": the holder of the lock released, or null}.')
@click.pass_context
def unlock(ctx: click.Context, env_name: str, lock_id: str | None, force: bool, as_json: bool) -> None:
    """Release a lock left by a process that died (or a damaged lock). A lock whose holder may
    still run is released only with --force and its LOCK_ID (shown in the error)."""
    from strands_deploy import state_services as ss

    holder = ss.unlock(_services(ctx, env_name), lock_id, force)
    if as_json:
        print_json({"environment": env_name, "released": holder.describe() if holder is not None else None})
        return
    if holder is None:
        summary(f"Environment [bold]{env_name}[/bold] is not locked.")
        return
    summary(f"Released the lock of environment [bold]{env_name}[/bold] (was {holder.describe()}).")


def _register() -> None:
    from strands_deploy.cli import state_history_cmd

    for sub in state_history_cmd.COMMANDS:
        command.add_command(sub)


_register()
