from __future__ import annotations

import click

from strands_deploy.cli.common import (
    console,
    env_option,
    json_option,
    print_json,
    print_notes,
    project_dir,
    selection_options,
    summary,
)


@click.command("list")
@env_option
@selection_options
@json_option()
@click.pass_context
def command(
    ctx: click.Context, env_name: str, agents: tuple[str, ...], targets: tuple[str, ...], as_json: bool
) -> None:
    """List the resources recorded in the environment's state (no AWS call); --agent, --target
    and --affected narrow the list."""
    from rich.table import Table

    from strands_deploy.services import open_services

    services = open_services(project_dir(ctx), env_name, start_local=False)
    state = services.read_state()
    note = services.local_cloud_gone(state)
    if note:
        print_notes([note])
    wanted = [*targets, *(f"agent.{a}" for a in agents)]
    rows = [
        {"address": a, "type": r.type, "physical_id": r.physical_id, "status": r.status}
        for a, r in sorted(state.resources.items())
        if not wanted or any(a == w or a.startswith(w + ".") for w in wanted)
    ]
    if as_json:
        print_json(
            {
                "environment": env_name,
                "serial": state.serial,
                "resources": rows,
                "pending": [p.to_dict() for p in state.pending.values()],
            }
        )
        return
    if not rows:
        summary(f"No resources recorded for environment [bold]{env_name}[/bold].")
        return
    table = Table(box=None, header_style="bold")
    for title in ("address", "type", "physical id", "status"):
        table.add_column(title, overflow="fold")
    for r in rows:
        table.add_row(
            r["address"],
            r["type"],
            r["physical_id"],
            r["status"] if r["status"] == "ok" else f"[red]{r['status']}[/red]",
        )
    console().print(table)
    if state.pending:
        summary(
            f"[yellow]{len(state.pending)} pending operation(s)[/yellow] from an interrupted run; "
            "the next deploy resolves them."
        )
