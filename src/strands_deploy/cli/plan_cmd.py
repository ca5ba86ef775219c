from __future__ import annotations

import sys

import click

from strands_deploy.cli.common import (
    bool_option,
    env_option,
    print_json,
    project_dir,
    refresh_option,
    selection_options,
)


@click.command("plan")
@env_option
@selection_options
@click.option("--json", "as_json", is_flag=True, help="Print the plan as JSON.")
@click.option("--detailed-exitcode", is_flag=True, help="Exit 0 when no changes, 2 when changes, 1 on error.")
@refresh_option("Read the live resources first to detect changes made outside the tool (default on).")
@bool_option("--lock", False, "Take the state lock while planning (fails at once if it is held).", "-lock")
@click.pass_context
def command(
    ctx: click.Context,
    env_name: str,
    agents: tuple[str, ...],
    targets: tuple[str, ...],
    as_json: bool,
    detailed_exitcode: bool,
    refresh: bool,
    lock: bool,
) -> None:
    """Show what deploy would change. Reads AWS; never writes."""
    from strands_deploy import services as svc
    from strands_deploy.cli.render import render_plan

    services = svc.open_services(project_dir(ctx), env_name)
    with services.locked("plan", lock):
        outcome = svc.make_plan(
            services, agents=list(agents) or None, targets=list(targets) or None, refresh=refresh
        )
    plan = outcome.plan
    if as_json:
        print_json(plan.to_json())
    else:
        render_plan(plan)
        if outcome.recovered_pending:
            click.echo(
                f"note: {outcome.recovered_pending} operation(s) of an interrupted run are pending; "
                "deploy resolves them first.",
                err=True,
            )
    if detailed_exitcode and plan.has_changes():
        sys.exit(2)
