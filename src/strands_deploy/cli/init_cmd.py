"""`strands-deploy init`: write a working project from a template (package data)."""

from __future__ import annotations

import re
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path

import click

from strands_deploy.cli.common import console, json_option, print_json, project_dir
from strands_deploy.errors import StrandsDeployError

TEMPLATES = {
    "basic": "one agent with a tool",
    "tools": "an agent with several tools, and a model script for the local cloud",
    "multi-agent": "a private researcher and a public writer with conversation memory",
}
COMMON = "_common"
SKIP_PARTS = {"__pycache__", ".pytest_cache"}
RENAMES = {"_gitignore": ".gitignore"}  # dotfiles are stored without the dot in the package
FIRST_PROMPT = {
    "basic": "What time is it?",
    "tools": "What is 6 * 7?",
    "multi-agent": "Write a haiku about clouds.",
}


def template_files(name: str) -> dict[str, str]:
    """Relative destination path -> content, the template's own files over the common ones."""
    root = files("strands_deploy") / "templates"
    out: dict[str, str] = {}
    for base in (root / COMMON, root / name):
        for rel, item in _walk(base, ""):
            out[rel] = item.read_text(encoding="utf-8")
    return out


def _walk(node: Traversable, prefix: str) -> list[tuple[str, Traversable]]:
    found: list[tuple[str, Traversable]] = []
    for child in sorted(node.iterdir(), key=lambda c: c.name):
        if child.name in SKIP_PARTS or child.name.endswith((".pyc", ".pyo")):
            continue
        name = RENAMES.get(child.name, child.name)
        rel = f"{prefix}{name}"
        if child.is_dir():
            found.extend(_walk(child, rel + "/"))
        else:
            found.append((rel, child))
    return found


def default_name(folder: Path) -> str:
    """A valid project name from the folder's name ('My Agents_2' -> 'my-agents-2')."""
    name = re.sub(r"[^a-z0-9]+", "-", folder.name.lower()).strip("-")
    name = re.sub(r"^[^a-z]+", "", name)[:24].rstrip("-")
    return name or "my-agents"


def check_name(name: str) -> str:
    from pydantic import ValidationError

    from strands_deploy.config.schema import ProjectConfig

    try:
        ProjectConfig(project=name)
    except ValidationError as e:
        raise StrandsDeployError(
            f"project name {name!r} is not valid: {e.errors()[0]['msg'].removeprefix('Value error, ')}",
            fix="pass --name with 1-24 lowercase letters, digits and '-', starting with a letter",
        ) from None
    return name


def merge_gitignore(existing: str, ours: str) -> str:
    have = {line.strip() for line in existing.splitlines()}
    missing = [
        line
        for line in ours.splitlines()
        if line.strip() and not line.startswith("#") and line.strip() not in have
    ]
    if not missing:
        return existing
    sep = "" if existing.endswith("\n") or not existing else "\n"
    return existing + sep + "\n# strands-deploy\n" + "\n".join(missing) + "\n"


SCHEMA_LINE = "# yaml-language-server: $schema={url}\n"


@click.command("init")
@click.option(
    "--template",
    "-t",
    type=click.Choice(list(TEMPLATES)),
    default="basic",
    show_default=True,
    help="; ".join(f"{k}: {v}" for k, v in TEMPLATES.items()),
)
@click.option("--name", "-n", help="Project name (default: derived from the folder's name).")
@click.option("--force", is_flag=True, help="Overwrite existing files (strands.yaml, the agents' files...).")
@click.option(
    "--interactive",
    "-i",
    is_flag=True,
    help="Ask for the project name, region, first agent, template, model and exposure.",
)
@click.option(
    "--ci",
    type=click.Choice(["github", "gitlab"]),
    help="Also write a CI pipeline (in an existing project: only the pipeline). See docs/ci.md.",
)
@click.option("--ci-env", default="prod", show_default=True, help="The environment the pipeline deploys.")
@click.option("--ci-branch", default="main", show_default=True, help="The branch whose pushes deploy.")
@json_option('Print what was written as JSON (errors too: {"error": {...}}).')
@click.pass_context
def command(
    ctx: click.Context,
    template: str,
    name: str | None,
    force: bool,
    interactive: bool,
    ci: str | None,
    ci_env: str,
    ci_branch: str,
    as_json: bool,
) -> None:
    """Write a new project: strands.yaml, agents with tools, offline tests, .gitignore; with --ci,
    a pipeline that plans on review and deploys the reviewed plan."""
    if as_json and interactive:
        raise click.UsageError("--interactive asks its questions on the terminal: leave out --json")
    folder = project_dir(ctx)
    existing = (folder / "strands.yaml").exists()
    if ci and existing and not force and not interactive:
        only = write_pipeline(folder, ci, ci_env, ci_branch, force, show=not as_json)
        if as_json:
            print_json({"folder": str(folder), "written": [], "pipeline": str(only.relative_to(folder))})
        return
    planned, project, template = _planned(folder, template, name, interactive)
    if not force:
        _refuse_clashes(folder, planned)
    written = _write(folder, planned)
    if not as_json:
        _print_created(folder, project, template, written)
    pipeline = write_pipeline(folder, ci, ci_env, ci_branch, force, show=not as_json) if ci else None
    if as_json:
        print_json(
            {
                "project": project,
                "template": template,
                "folder": str(folder),
                "written": written,
                "pipeline": str(pipeline.relative_to(folder)) if pipeline else None,
            }
        )


def _planned(
    folder: Path, template: str, name: str | None, interactive: bool
) -> tuple[dict[str, str], str, str]:
    """(relative path -> content, project name, template) of the files to write."""
    from strands_deploy.cli.docgen import SCHEMA_URL

    if interactive:
        from strands_deploy.cli import init_wizard

        answers = init_wizard.ask(name or default_name(folder), template)
        project, template = answers.project, answers.template
        planned = init_wizard.apply(template_files(template), answers)
    else:
        project = check_name(name or default_name(folder))
        planned = template_files(template)
    planned = {rel: content.replace("{{project}}", project) for rel, content in planned.items()}
    planned["strands.yaml"] = SCHEMA_LINE.format(url=SCHEMA_URL) + planned["strands.yaml"]
    return planned, project, template


def _refuse_clashes(folder: Path, planned: dict[str, str]) -> None:
    config = folder / "strands.yaml"
    if config.exists():
        raise StrandsDeployError(
            "strands.yaml already exists: this folder already holds a project",
            where=str(config),
            fix="run init in an empty folder (-C <folder>), or pass --force to overwrite it",
        )
    clashes = [rel for rel in planned if rel != ".gitignore" and (folder / rel).exists()]
    if clashes:
        raise StrandsDeployError(
            f"these files already exist: {', '.join(clashes)}",
            where=str(folder),
            fix="run init in an empty folder (-C <folder>), or pass --force to overwrite them",
        )


def _write(folder: Path, planned: dict[str, str]) -> list[str]:
    folder.mkdir(parents=True, exist_ok=True)
    written: list[str] = []
    for rel, content in planned.items():
        dest = folder / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        if rel == ".gitignore" and dest.exists():
            content = merge_gitignore(dest.read_text(), content)
        dest.write_text(content)
        written.append(rel)
    return written


def write_pipeline(
    folder: Path, provider: str, env: str, branch: str, force: bool, *, show: bool = True
) -> Path:
    """Write the CI pipeline into the project; notes what the environment still needs (unless
    ``show`` is false: ``--json``)."""
    from strands_deploy.cli.init_ci import pipeline_path, pipeline_text
    from strands_deploy.config.loader import load_project

    project = load_project(folder)
    dest = folder / pipeline_path(provider)
    if dest.exists() and not force:
        raise StrandsDeployError(
            f"{pipeline_path(provider)} already exists",
            where=str(dest),
            fix="pass --force to overwrite it, or merge the steps of `strands-deploy init --ci` by hand",
        )
    region = project.config.environments[env].region if env in project.config.environments else None
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(pipeline_text(provider, env=env, region=region or project.config.region, branch=branch))
    if not show:
        return dest
    con = console()
    con.print(f"[green]Wrote[/green] {pipeline_path(provider)} (deploys environment [bold]{env}[/bold])")
    declared = project.config.environments.get(env)
    if declared is None:
        con.print(
            f"[yellow]note:[/yellow] add environment {env!r} under `environments:` in strands.yaml, "
            "with remote state: `state: {backend: s3, bucket: NAME}`",
            highlight=False,
        )
    elif declared.state.backend != "s3":
        con.print(
            f"[yellow]note:[/yellow] environment {env!r} keeps its state on local disk, lost after each CI "
            f"job: set `state: {{backend: s3, bucket: NAME}}` and run `strands-deploy state bootstrap --env {env}`",
            highlight=False,
        )
    repo = "OWNER/REPO" if provider == "github" else "GROUP/PROJECT"
    con.print(
        "[bold]Then[/bold] create the deploy role (once) and store its ARN as the CI variable "
        f"STRANDS_DEPLOY_ROLE_ARN:\n  strands-deploy bootstrap ci-role --env {env} --repo {repo} "
        f"--provider {provider}",
        highlight=False,
        soft_wrap=True,
    )
    return dest


def _print_created(folder: Path, project: str, template: str, written: list[str]) -> None:
    from rich.markup import escape

    con = console()
    con.print(f"[green]Created project[/green] [bold]{project}[/bold] ({template}) in {escape(str(folder))}")
    for rel in written:
        con.print(f"  {rel}", highlight=False)
    here = Path.cwd().resolve()
    cd = "" if folder == here else f"  cd {escape(str(folder))}\n"
    agent = (
        "writer"
        if template == "multi-agent"
        else next((rel.split("/")[1] for rel in written if rel.startswith("agents/")), "assistant")
    )
    con.print(
        "\n[bold]Next steps[/bold]\n"
        f"{cd}"
        "  pip install strands-agents pytest      [dim]# to run the agents' tests[/dim]\n"
        "  pytest                                 [dim]# offline tests, no AWS needed[/dim]\n"
        "  strands-deploy dev                     [dim]# run locally, reload on change[/dim]\n"
        "  strands-deploy deploy                  [dim]# deploy to the local cloud (env local)[/dim]\n"
        f'  strands-deploy invoke {agent} "{FIRST_PROMPT[template]}"\n'
        "  [dim]then add an environment under `environments:` and deploy with --env <name>[/dim]",
        highlight=False,
        soft_wrap=True,
    )
