from __future__ import annotations

from typing import Any

import click

from strands_deploy.cli.common import (
    console,
    env_option,
    json_option,
    print_json,
    print_notes,
    project_dir,
    summary,
)

# address suffix -> (output key shown, output attribute)
AGENT_OUTPUTS = [
    ("function", "function", "name"),
    ("alias", "alias_arn", "arn"),
    ("url", "url", "url"),
    ("route", "url", "url"),
    ("logs", "log_group", "name"),
]
RESOURCE_OUTPUTS = ["name", "arn", "url"]


def collect(state: Any) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for address, record in sorted(state.resources.items()):
        parts = address.split(".")
        if parts[0] == "agent" and len(parts) == 3:
            for suffix, key, attr in AGENT_OUTPUTS:
                if parts[2] == suffix and attr in record.outputs:
                    out.setdefault(f"agent.{parts[1]}", {})[key] = record.outputs[attr]
        elif parts[0] == "resource" and len(parts) == 3:
            for attr in RESOURCE_OUTPUTS:
                if attr in record.outputs:
                    out.setdefault(f"resource.{parts[1]}", {})[attr] = record.outputs[attr]
        elif address in ("shared.http-api", "shared.sessions"):
            for attr in ("endpoint", "name"):
                if attr in record.outputs:
                    out.setdefault(address, {})[attr] = record.outputs[attr]
    return out


@click.command("outputs")
@env_option
@click.option(
    "--format", "fmt", type=click.Choice(["table", "json", "env"]), default="table", show_default=True
)
@json_option("Print JSON (the same as --format json).")
@click.pass_context
def command(ctx: click.Context, env_name: str, fmt: str, as_json: bool) -> None:
    """Print the agents' URLs, function names and ARNs, and the resources' names."""
    import re

    from rich.table import Table

    from strands_deploy.services import open_services

    services = open_services(project_dir(ctx), env_name, start_local=False)
    state = services.read_state()
    note = services.local_cloud_gone(state)
    if note:
        print_notes([note])
    outputs = collect(state)
    if fmt == "json" or as_json:
        print_json(outputs)
        return
    if fmt == "env":
        for owner, values in outputs.items():
            for key, value in values.items():
                name = re.sub(r"[^A-Za-z0-9]", "_", f"{owner.split('.', 1)[1]}_{key}").upper()
                click.echo(f"{name}={value}")
        return
    if not outputs:
        summary(f"Nothing deployed in environment [bold]{env_name}[/bold] yet.")
        return
    table = Table(box=None, header_style="bold")
    table.add_column("owner", no_wrap=True)
    table.add_column("output", no_wrap=True)
    table.add_column("value", overflow="fold")
    for owner, values in outputs.items():
        for key, value in values.items():
            table.add_row(owner, key, str(value))
    console().print(table)
