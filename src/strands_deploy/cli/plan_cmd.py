from __future__ import annotations

import sys

import click

from strands_deploy.cli.common import (
    bool_option,
    env_option,
    lock_timeout_option,
    open_for_change,
    print_json,
    refresh_option,
    selection_options,
)


@click.command("plan")
@env_option
@lock_timeout_option
@selection_options
@click.option("--json", "as_json", is_flag=True, help="Print the plan as JSON.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "markdown"]),
    default="text",
    show_default=True,
    help="How to print the plan: markdown is for a pull-request comment (with cost and policy).",
)
@click.option("--detailed-exitcode", is_flag=True, help="Exit 0 when no changes, 2 when changes, 1 on error.")
@click.option(
    "--out",
    "out",
    type=click.Path(dir_okay=False),
    help="Save the plan to this file; `deploy --plan FILE` then runs exactly it.",
)
@click.option("--destroy", "destroy", is_flag=True, help="Show what `destroy` would delete.")
@refresh_option("Read the live resources first to detect changes made outside the tool (default on).")
@bool_option("--lock", False, "Take the state lock while planning (fails at once if it is held).", "-lock")
@click.pass_context
def command(
    ctx: click.Context,
    env_name: str,
    lock_timeout: float,
    agents: tuple[str, ...],
    targets: tuple[str, ...],
    as_json: bool,
    fmt: str,
    detailed_exitcode: bool,
    out: str | None,
    destroy: bool,
    refresh: bool,
    lock: bool,
) -> None:
    """Show what deploy would change. Reads AWS; never writes."""
    from pathlib import Path

    from strands_deploy import services as svc
    from strands_deploy.cli.render import render_plan

    services = open_for_change(ctx, env_name, lock_timeout)
    pending = 0
    with services.locked("plan", lock):
        if destroy:
            plan = svc.make_destroy_plan(services)
        else:
            outcome = svc.make_plan(
                services,
                agents=list(agents) or None,
                targets=list(targets) or None,
                refresh=refresh,
                review=True,
            )
            plan, pending = outcome.plan, outcome.recovered_pending
    if out:
        import getpass

        from strands_deploy.planning.saved import save_plan

        # who made it: an approval (require_approval) must come from someone else
        save_plan(plan, Path(out), made_by=services.identity() or getpass.getuser())
    if as_json or fmt == "json":
        print_json(plan.to_json())
    elif fmt == "markdown":
        from strands_deploy.cli.review_render import plan_markdown

        click.echo(plan_markdown(plan), nl=False)
    else:
        from strands_deploy.cli.review_render import render_review

        render_plan(plan)
        render_review(plan)
        if pending:
            click.echo(
                f"note: {pending} operation(s) of an interrupted run are pending; deploy resolves them first.",
                err=True,
            )
        if out:
            click.echo(
                f"Saved the plan to {out}: run it with `strands-deploy deploy --plan {out}`.", err=True
            )
    if detailed_exitcode and plan.has_changes():
        sys.exit(2)
