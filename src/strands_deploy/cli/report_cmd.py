from __future__ import annotations

import click

from strands_deploy.cli.common import env_option


@click.group("report")
def command() -> None:
    """Reports for auditors."""


@command.command("compliance")
@env_option
@click.option(
    "--format", "fmt", type=click.Choice(("html", "md", "json", "sarif")), default="md", show_default=True
)
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="Write the report to this file.")
@click.option(
    "--days", type=click.IntRange(1, 3650), default=90, show_default=True, help="The period reported."
)
@click.option("--live", is_flag=True, help="Also check what the state records as deployed.")
@click.pass_context
def compliance(
    ctx: click.Context, env_name: str, fmt: str, output: str | None, days: int, live: bool
) -> None:
    """Every rule with its status per resource and evidence, suppressions, framework mappings,
    approvals and the deploy history of the period."""
    from pathlib import Path

    from strands_deploy import services as svc
    from strands_deploy.cli.common import err_console, project_dir
    from strands_deploy.policy.formats import render

    services = svc.open_services(project_dir(ctx), env_name, start_local=False)
    result = svc.check_policy(services, live=live)
    extra = svc.compliance_data(services, days=days)
    text = render(fmt, result, extra)
    if output:
        Path(output).write_text(text, encoding="utf-8")
        err_console().print(f"Wrote {output}", highlight=False)
    else:
        click.echo(text)
