"""`state history`, `state rollback`, `state migrate`, `state bootstrap` (part of the `state` group)."""

from __future__ import annotations

import sys
from typing import Any

import click

from strands_deploy.cli.common import (
    console,
    env_option,
    json_option,
    lock_timeout_option,
    open_for_change,
    print_json,
    print_notes,
    summary,
)


@click.command("history")
@env_option
@click.option("--limit", "-n", default=20, show_default=True, help="How many versions to show.")
@json_option()
@click.pass_context
def history(ctx: click.Context, env_name: str, limit: int, as_json: bool) -> None:
    """List the stored versions of the state: serial, time, who, command, what changed."""
    from strands_deploy import state_services as ss

    services = open_for_change(ctx, env_name, start_local=False)
    entries, notes = ss.history(services, max(1, limit))
    if as_json:
        print_json([e.to_json() for e in entries])
        return
    print_notes(notes)
    if not entries:
        click.echo(f"Environment {env_name} has no stored state yet.", err=True)
        return
    from rich.table import Table

    table = Table(box=None, pad_edge=False)
    for col in ("serial", "time", "who", "command", "changes"):
        table.add_column(col, overflow="fold")
    for e in entries:
        table.add_row(
            "-" if e.serial is None else str(e.serial),
            e.at,
            e.by or "",
            e.command or "",
            e.error or e.summary,
        )
    console().print(table)


@click.command("rollback")
@env_option
@lock_timeout_option
@click.argument("serial", type=int)
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@json_option('Print {"restored": SERIAL, "serial": the new serial, "previous": the old one}.')
@click.pass_context
def rollback(
    ctx: click.Context, env_name: str, lock_timeout: float, serial: int, yes: bool, as_json: bool
) -> None:
    """Restore the state as it was at SERIAL (written as a new serial; nothing in AWS changes).

    Run `plan` next: it shows what differs between the restored state and what is deployed."""
    from strands_deploy import state_services as ss
    from strands_deploy.cli.confirm import confirm_plan

    services = open_for_change(ctx, env_name, lock_timeout, start_local=False)

    def confirm(current: Any, old: Any) -> bool:
        if yes:
            return True
        from strands_deploy.stateops.history import changes_between

        click.echo(
            f"Roll the state of {env_name} back from serial {current.serial} to serial {old.serial}: "
            f"{changes_between(current, old)}",
            err=True,
        )
        return confirm_plan(env_name, services.env.protect, yes, "state rollback")

    done = ss.rollback(services, serial, confirm)
    if done is None:
        click.echo("Rollback cancelled; nothing changed.", err=True)
        sys.exit(1)
    print_notes(services.notes)
    previous, restored = done
    if as_json:
        print_json({"restored": serial, "serial": restored.serial, "previous": previous.serial})
        return
    summary(
        f"Restored serial {serial} of [bold]{env_name}[/bold] as serial {restored.serial} "
        f"(was {previous.serial}). Run `strands-deploy plan --env {env_name}` to see how AWS differs."
    )


@click.command("migrate")
@env_option
@click.option(
    "--to", "to", type=click.Choice(["s3", "local"]), required=True, help="Where to move the state."
)
@json_option("Print what was moved as JSON.")
@click.pass_context
def migrate(ctx: click.Context, env_name: str, to: str, as_json: bool) -> None:
    """Move the environment's state to S3 (from .strands/state) or back, holding both locks,
    and verify the copy before the source is moved away."""
    from strands_deploy import state_services as ss

    services = open_for_change(ctx, env_name, start_local=False)
    moved = ss.migrate(services, to)
    print_notes(services.notes)
    if as_json:
        print_json(
            {
                "serial": moved.serial,
                "resources": moved.resources,
                "source": str(moved.source),
                "target": str(moved.target),
                "retired": str(moved.retired),
            }
        )
        return
    summary(
        f"Migrated the state of [bold]{env_name}[/bold] (serial {moved.serial}, {moved.resources} "
        f"resources) from {moved.source} to {moved.target}; verified. The source: {moved.retired}."
    )
    if services.env.state.backend != to:
        summary(
            f"[yellow]Now set[/yellow] `state: {{backend: {to}}}` for environment {env_name} in strands.yaml."
        )


@click.command("bootstrap")
@env_option
@click.option("--lock-table", help="Also create this DynamoDB lock table (default: the configured one).")
@click.option("--history-days", type=int, help="Days previous state versions are kept (default 90).")
@json_option('Print {"bucket": ..., "created": [...]}.')
@click.pass_context
def bootstrap(
    ctx: click.Context, env_name: str, lock_table: str | None, history_days: int | None, as_json: bool
) -> None:
    """Create the state bucket (versioned, encrypted, private, TLS-only, old versions expiring)
    and the lock table when configured. Running it again changes nothing."""
    from strands_deploy import state_services as ss

    services = open_for_change(ctx, env_name, start_local=False)
    changes = ss.bootstrap(services, lock_table, history_days)
    print_notes(services.notes)
    bucket = services.env.state.bucket
    if as_json:
        print_json({"bucket": bucket, "created": [str(c) for c in changes]})
        return
    for change in changes:
        summary(f"  [green]+[/green] {change}")
    summary(
        f"State storage s3://{bucket} is ready."
        if changes
        else f"State storage s3://{bucket} was already ready."
    )


COMMANDS = [history, rollback, migrate, bootstrap]
