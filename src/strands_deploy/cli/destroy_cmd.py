from __future__ import annotations

import sys
import time

import click

from strands_deploy.cli.common import env_option, print_json, project_dir


@click.command("destroy")
@env_option
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document instead of live progress.")
@click.pass_context
def command(ctx: click.Context, env_name: str, yes: bool, as_json: bool) -> None:
    """Delete every resource of the environment, in reverse dependency order."""
    from strands_deploy import services as svc
    from strands_deploy.cli.confirm import confirm_or_fail, graceful_interrupt
    from strands_deploy.cli.render import progress, render_result

    services = svc.open_services(project_dir(ctx), env_name)
    started = time.monotonic()

    def confirm(addresses: list[str]) -> bool:
        return confirm_or_fail(env_name, services.env.protect, yes, "destroy")

    with (
        graceful_interrupt(on_hard_exit=services.release_lock) as cancel,
        progress(not as_json, "destroy") as sink,
    ):
        result = svc.destroy(services, sink=sink, cancel=cancel, confirm=confirm)
    if result is None:
        click.echo("Destroy cancelled; nothing changed.", err=True)
        sys.exit(1)
    if as_json:
        print_json(result.to_json())
    elif not result.applied and result.ok:
        click.echo(f"Nothing to destroy in environment {env_name}.", err=True)
    else:
        render_result(result, "destroy", started)
    if result.cancelled:
        sys.exit(130)
    if not result.ok:
        sys.exit(1)
