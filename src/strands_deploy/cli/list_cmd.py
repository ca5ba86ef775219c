from __future__ import annotations

import click

from strands_deploy.cli.common import console, env_option, print_json, print_notes, project_dir


@click.command("list")
@env_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def command(ctx: click.Context, env_name: str, as_json: bool) -> None:
    """List the resources recorded in the environment's state (no AWS call)."""
    from rich.table import Table

    from strands_deploy.services import open_services

    services = open_services(project_dir(ctx), env_name, start_local=False)
    state = services.read_state()
    note = services.local_cloud_gone(state)
    if note:
        print_notes([note])
    rows = [
        {"address": a, "type": r.type, "physical_id": r.physical_id, "status": r.status}
        for a, r in sorted(state.resources.items())
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
        console().print(f"No resources recorded for environment [bold]{env_name}[/bold].")
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
        console().print(
            f"[yellow]{len(state.pending)} pending operation(s)[/yellow] from an interrupted run; "
            "the next deploy resolves them."
        )
