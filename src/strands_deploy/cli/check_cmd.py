from __future__ import annotations

import sys

import click

from strands_deploy.cli.common import env_option

FORMATS = ("table", "json", "sarif", "junit", "md", "html")


@click.command("check")
@env_option
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="Write the result to this file.")
@click.option("--agent", "-a", "agents", multiple=True, help="Only this agent (repeatable).")
@click.option("--live", is_flag=True, help="Also check what the state records as deployed.")
@click.option(
    "--sbom",
    "sbom_dir",
    type=click.Path(file_okay=False),
    help="Write each agent's CycloneDX SBOM (<agent>.cdx.json) to this folder.",
)
@click.pass_context
def command(
    ctx: click.Context,
    env_name: str,
    fmt: str,
    output: str | None,
    agents: tuple[str, ...],
    live: bool,
    sbom_dir: str | None,
) -> None:
    """Run the policy rules against the environment's resources. Exits 1 on an error finding."""
    from pathlib import Path

    from strands_deploy import services as svc
    from strands_deploy.cli.common import console, err_console, project_dir

    services = svc.open_services(project_dir(ctx), env_name, start_local=False)
    result = svc.check_policy(services, agents=list(agents) or None, live=live)
    if fmt == "table":
        from strands_deploy.policy.show import print_review

        print_review(result, console())
    else:
        from strands_deploy.policy.formats import render

        text = render(fmt, result)
        if output:
            Path(output).write_text(text, encoding="utf-8")
            err_console().print(f"Wrote {output}", highlight=False)
        else:
            click.echo(text)
    if sbom_dir:
        _write_sboms(services, Path(sbom_dir), list(agents) or None)
    if result.errors:
        sys.exit(1)


def _write_sboms(services: object, folder: object, agents: list[str] | None) -> None:
    from pathlib import Path

    from strands_deploy.cli.common import err_console
    from strands_deploy.policy.scan import sbom

    project = services.project  # type: ignore[attr-defined]
    out = Path(str(folder))
    out.mkdir(parents=True, exist_ok=True)
    for name in sorted(agents or project.agents):
        path = out / f"{name}.cdx.json"
        path.write_text(sbom(project, name), encoding="utf-8")
        err_console().print(f"Wrote {path}", highlight=False)
