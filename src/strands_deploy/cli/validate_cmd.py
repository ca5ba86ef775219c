from __future__ import annotations

import click

from strands_deploy.cli.common import console, err_console, print_json, project_dir


@click.command("validate")
@click.option("--json", "as_json", is_flag=True, help="Print a machine-readable result.")
@click.pass_context
def command(ctx: click.Context, as_json: bool) -> None:
    """Check strands.yaml, discovered agents and the agents' code; report every problem at once."""
    from strands_deploy.config.loader import validate_project
    from strands_deploy.errors import ConfigError
    from strands_deploy.packaging.imports import import_problems

    try:
        project = validate_project(project_dir(ctx))
        undeclared = import_problems(project)  # imports the requirements do not provide
        if undeclared:
            raise ConfigError(undeclared)
    except ConfigError as e:
        if as_json:
            print_json({"valid": False, "problems": [p.to_dict() for p in e.problems]})
            raise SystemExit(1) from None
        raise
    if as_json:
        print_json(
            {
                "valid": True,
                "agents": sorted(project.agents),
                "resources": sorted(project.config.resources),
                "warnings": [w.to_dict() for w in project.warnings],
            }
        )
        return
    from rich.markup import escape

    err = err_console()
    for w in project.warnings:  # valid but risky: shown, the exit code stays 0
        where = f"[bold]{escape(w.where)}[/bold]: " if w.where else ""
        err.print(f"[yellow]warning:[/yellow] {where}{escape(w.what)}", highlight=False, soft_wrap=True)
        if w.fix:
            err.print(f"  [dim]fix:[/dim] {escape(w.fix)}", highlight=False, soft_wrap=True)
    console().print(
        f"[green]✓[/green] {project.source.name} is valid: {len(project.agents)} agent(s), "
        f"{len(project.config.resources)} resource(s), environments: "
        f"{', '.join(project.environment_names())}"
    )
