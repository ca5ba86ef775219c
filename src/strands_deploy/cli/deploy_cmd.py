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
    refresh_option,
    selection_options,
)


@click.command("deploy")
@env_option
@lock_timeout_option
@selection_options
@click.option(
    "--plan",
    "plan_file",
    type=click.Path(dir_okay=False),
    help="Run exactly this saved plan (from `plan --out`); refused if the state or code moved since.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document instead of live progress.")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation on protected environments.")
@refresh_option(
    "Read what the deploy changes (and check functions and alarms in batches) first, and put back "
    "what changed outside the tool."
)
@click.option(
    "--refresh-all",
    is_flag=True,
    help="Read every resource first, as `plan` does (slower; finds drift on resources the deploy leaves alone).",
)
@click.option(
    "--accept-cost",
    "accept_cost",
    metavar="REASON",
    help="Deploy even though the cost forecast exceeds the environment's budget (the reason is recorded).",
)
@click.option("--concurrency", default=16, show_default=True, help="AWS operations in flight at once.")
@click.pass_context
def command(
    ctx: click.Context,
    env_name: str,
    lock_timeout: float,
    agents: tuple[str, ...],
    targets: tuple[str, ...],
    plan_file: str | None,
    as_json: bool,
    yes: bool,
    refresh: bool,
    refresh_all: bool,
    accept_cost: str | None,
    concurrency: int,
) -> None:
    """Create or update the environment's resources to match strands.yaml."""
    from pathlib import Path

    from strands_deploy import services as svc
    from strands_deploy.cli.confirm import confirm_plan, graceful_interrupt
    from strands_deploy.cli.render import (
        progress,
        render_endpoints,
        render_plan,
        render_result,
        render_warnings,
    )
    from strands_deploy.cli.review_render import render_review

    saved = None
    if plan_file:
        from strands_deploy.planning.saved import load_plan

        if agents or targets:
            raise click.UsageError("--plan runs the saved plan as it is: --agent/--target belong to `plan`")
        saved = load_plan(Path(plan_file))
        if ctx.get_parameter_source("env_name") == click.core.ParameterSource.DEFAULT:
            env_name = saved.environment
    services = open_for_change(ctx, env_name, lock_timeout)
    services.concurrency = max(1, concurrency)
    started = time.monotonic()

    def confirm(plan: object) -> bool:
        if not services.env.protect or yes:
            return True
        render_plan(plan)  # type: ignore[arg-type]
        render_review(plan)  # type: ignore[arg-type]
        return confirm_plan(env_name, True, yes, "deploy")

    with (
        graceful_interrupt(on_hard_exit=services.release_lock) as cancel,
        progress(not as_json, "deploy") as sink,
    ):
        outcome = svc.deploy(
            services,
            agents=list(agents) or None,
            targets=list(targets) or None,
            refresh=refresh,
            refresh_scope="all" if refresh_all else "changes",
            plan_path=Path(plan_file) if plan_file else None,
            accept_cost=accept_cost,
            sink=sink,
            cancel=cancel,
            confirm=confirm,
            saved_plan=saved,
        )
    if outcome is None:
        click.echo("Deploy cancelled; nothing changed.", err=True)
        sys.exit(1)
    result = outcome.result
    rollouts = []
    if result.ok and not result.cancelled and outcome.plan.has_changes():
        from strands_deploy.cli.rollout_cmd import run_deploy_rollouts

        rollouts = run_deploy_rollouts(services, as_json)  # progressive delivery (docs/rollouts.md)
    print_notes(services.notes)
    if not as_json and not (services.env.protect and not yes):  # a protected deploy showed its plan
        render_warnings(outcome.plan)
        render_review(outcome.plan)
    if as_json:
        doc: dict[str, object] = {"plan": outcome.plan.to_json(), "result": result.to_json()}
        if rollouts:
            doc["rollouts"] = [r.to_dict() for r in rollouts]
        print_json(doc)
    elif not outcome.plan.has_changes():
        click.echo(f"No changes. Environment {env_name} is up to date.", err=True)
    else:
        render_result(result, "deploy", started)
    if not as_json and services.store is not None:
        render_endpoints(services.store.state)
    if result.cancelled:
        sys.exit(130)
    if not result.ok:
        sys.exit(1)
    if rollouts:
        from strands_deploy.cli.rollout_cmd import finish

        finish(rollouts, as_json, show=not as_json)  # exit 3 when a rollout did not promote
