"""`strands-deploy rollback AGENT [--to VERSION]`: traffic back in one call, no rebuild."""

from __future__ import annotations

import click

from strands_deploy.cli.common import agent_argument, env_option, json_option, print_json


@click.command("rollback")
@env_option
@json_option()
@click.option("--to", "to", default=None, help="The version to serve (default: the one before).")
@agent_argument
@click.pass_context
def command(ctx: click.Context, env_name: str, as_json: bool, to: str | None, agent: str) -> None:
    """Move all of the agent's traffic to an earlier version at once."""
    from strands_deploy import services as svc
    from strands_deploy.cli.rollout_cmd import open_rollout, render_record
    from strands_deploy.rollout import control

    services = open_rollout(ctx, env_name)
    deps = svc.rollout_deps(services)
    deps.notifier.targets = svc.rollout_config(services, agent).notify
    record = control.rollback(deps, services.read_state(), agent, to, svc.rollout_who(services))
    if as_json:
        print_json(record.to_dict())
    else:
        render_record(record)
