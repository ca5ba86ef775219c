"""`strands-deploy promote AGENT`: a blue-green (or running) rollout's new version takes 100%."""

from __future__ import annotations

import click

from strands_deploy.cli.common import agent_argument, env_option, json_option, print_json


@click.command("promote")
@env_option
@json_option()
@agent_argument
@click.pass_context
def command(ctx: click.Context, env_name: str, as_json: bool, agent: str) -> None:
    """Switch all of the agent's traffic to the new version at once."""
    from strands_deploy import services as svc
    from strands_deploy.cli.rollout_cmd import open_rollout, render_record
    from strands_deploy.rollout import control

    services = open_rollout(ctx, env_name)
    config = svc.rollout_config(services, agent)
    deps = svc.rollout_deps(services)
    deps.notifier.targets = config.notify
    record = control.promote(deps, services.read_state(), agent, config)
    if as_json:
        print_json(record.to_dict())
    else:
        render_record(record)
