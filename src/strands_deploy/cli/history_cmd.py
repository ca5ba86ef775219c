"""`strands-deploy history`: the audit trail of an environment (who deployed what, when)."""

from __future__ import annotations

import click

from strands_deploy.cli.common import console, env_option, print_json, project_dir


@click.command("history")
@env_option
@click.option("--limit", "-n", default=30, show_default=True, help="How many records to show.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def command(ctx: click.Context, env_name: str, limit: int, as_json: bool) -> None:
    """The deploy history of an environment: who ran deploy, destroy or a state change, when,
    with which plan, and how it ended (newest first)."""
    from strands_deploy import state_services as ss
    from strands_deploy.services import open_services

    records = ss.audit_trail(open_services(project_dir(ctx), env_name, start_local=False), max(1, limit))
    if as_json:
        print_json(records)
        return
    if not records:
        click.echo(f"No deploys recorded for environment {env_name} yet.", err=True)
        return
    from rich.table import Table

    table = Table(box=None, pad_edge=False)
    for col in ("time", "who", "command", "result", "changes", "plan", "ci"):
        table.add_column(col, overflow="fold")
    for r in records:
        changes = ", ".join(f"{k} {v}" for k, v in (r.get("changes") or {}).items())
        serials = (
            f" (serial {r.get('serial_before')}→{r.get('serial_after')})" if r.get("serial_after") else ""
        )
        table.add_row(
            str(r.get("at", "")),
            str(r.get("who") or f"{r.get('user', '?')}@{r.get('host', '?')}"),
            str(r.get("command", "")),
            str(r.get("result", "")) + serials + (f": {r['detail']}" if r.get("detail") else ""),
            changes,
            str(r.get("plan_digest") or "")[:19],
            str(r.get("ci_url") or ""),
        )
    console().print(table)
