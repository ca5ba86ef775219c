"""`strands-deploy abort AGENT`: discard a rollout's new version (blue-green: its green alias)."""

from __future__ import annotations

import click

from strands_deploy.cli.common import agent_argument, env_option, json_option


@click.command("abort")
@env_option
@json_option()
@agent_argument
@click.pass_context
def command(ctx: click.Context, env_name: str, as_json: bool, agent: str) -> None:
    """Discard the new version: traffic stays on (or returns to) the previous one."""
    from strands_deploy.cli.rollout_cmd import run_abort

    run_abort(ctx, env_name, as_json, agent)
