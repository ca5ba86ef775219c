from __future__ import annotations

import sys
import time

import click

from strands_deploy.cli.common import (
    env_option,
    lock_timeout_option,
    open_for_change,
    print_json,
    print_notes,
)


@click.command("destroy")
@env_option
@lock_timeout_option
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation (needed without a terminal).")
@click.option(
    "--plan",
    "plan_file",
    type=click.Path(dir_okay=False),
    help="Run this saved destroy plan (from `plan --destroy --out`).",
)
@click.option(
    "--delete-data",
    is_flag=True,
    help="Also delete retained tables and buckets that hold data, with their data.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document instead of live progress.")
@click.pass_context
def command(
    ctx: click.Context,
    env_name: str,
    lock_timeout: float,
    yes: bool,
    plan_file: str | None,
    delete_data: bool,
    as_json: bool,
) -> None:
    """Delete every resource of the environment, in reverse dependency order.

    Shows what will be deleted and asks first: type `yes` (the environment's name for protected
    environments). Without a terminal, pass --yes. Retained tables and buckets (`retain: true`,
    the default) that hold data stop the destroy before anything is deleted, listed with their
    item and object counts; --delete-data deletes them with their data."""
    from strands_deploy import services as svc
    from strands_deploy.cli.confirm import confirm_plan, graceful_interrupt
    from strands_deploy.cli.render import progress, render_plan, render_result

    saved = None
    if plan_file:
        from pathlib import Path

        from strands_deploy.planning.saved import load_plan

        saved = load_plan(Path(plan_file))
        if not saved.destroy:
            raise click.UsageError(f"{plan_file} is not a destroy plan: run it with `deploy --plan`")
        if ctx.get_parameter_source("env_name") == click.core.ParameterSource.DEFAULT:
            env_name = saved.environment
    services = open_for_change(ctx, env_name, lock_timeout)
    started = time.monotonic()

    def confirm(plan: object) -> bool:
        if yes:
            return True
        if not as_json:
            render_plan(plan)  # type: ignore[arg-type]
        if delete_data:
            click.echo(
                "--delete-data: retained tables and buckets are deleted with every item and object "
                "they hold; this cannot be undone.",
                err=True,
            )
        return confirm_plan(env_name, services.env.protect, yes, "destroy")

    with (
        graceful_interrupt(on_hard_exit=services.release_lock) as cancel,
        progress(not as_json, "destroy") as sink,
    ):
        outcome = svc.destroy(
            services, sink=sink, cancel=cancel, confirm=confirm, saved_plan=saved, delete_data=delete_data
        )
    if outcome is None:
        click.echo("Destroy cancelled; nothing changed.", err=True)
        sys.exit(1)
    plan, result = outcome
    print_notes(services.notes)
    if as_json:
        print_json({"plan": plan.to_json(), "result": result.to_json()})
    elif not plan.has_changes():
        click.echo(f"Nothing to destroy in environment {env_name}.", err=True)
    else:
        render_result(result, "destroy", started)
    if result.cancelled:
        sys.exit(130)
    if not result.ok:
        sys.exit(1)
