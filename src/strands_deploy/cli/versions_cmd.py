"""`strands-deploy versions AGENT`: published versions with deploy time, who, code hash, outcome."""

from __future__ import annotations

import click

from strands_deploy.cli.common import agent_argument, env_option, json_option, print_json


@click.command("versions")
@env_option
@json_option()
@agent_argument
@click.pass_context
def command(ctx: click.Context, env_name: str, as_json: bool, agent: str) -> None:
    """List the agent's versions and the share of traffic each serves now."""
    from strands_deploy import services as svc
    from strands_deploy.cli.rollout_cmd import open_rollout
    from strands_deploy.rollout import control

    services = open_rollout(ctx, env_name)
    table = control.versions(svc.rollout_deps(services), services.read_state(), agent)
    if as_json:
        print_json(table)
        return
    from rich.table import Table

    from strands_deploy.cli.common import console

    out = Table(
        "version", "deployed", "who", "code", "outcome", "traffic", title=f"{agent} ({table['function']})"
    )
    for v in table["versions"]:
        out.add_row(
            str(v["version"]),
            str(v.get("deployed") or ""),
            str(v.get("who") or ""),
            str(v.get("code_hash") or "")[:12],
            str(v.get("outcome") or ""),
            f"{v['traffic']:.0%}",
        )
    console().print(out)
