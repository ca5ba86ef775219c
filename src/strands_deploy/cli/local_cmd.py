"""`strands-deploy local start|status|stop|reset`: the embedded local cloud (see docs/local-cloud.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from strands_deploy.cli.common import console, print_json, project_dir


def model_script_from_config(pdir: Path) -> Path | None:
    """``environments.local.model_script`` from strands.yaml, resolved against the project folder.

    A light read on purpose: `validate` reports configuration problems; here a missing or broken
    file simply means no script (the default echo model).
    """
    path = pdir / "strands.yaml"
    if not path.is_file():
        return None
    import yaml

    try:
        data: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return None
    local = ((data or {}).get("environments") or {}).get("local") if isinstance(data, dict) else None
    script = local.get("model_script") if isinstance(local, dict) else None
    return (pdir / str(script)).resolve() if script else None


@click.group("local")
def command() -> None:
    """Start, stop or reset the embedded local cloud (moto + local Lambda + a scripted model)."""


@command.command("start")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=None,
    help="Port on 127.0.0.1 (default: $STRANDS_LOCAL_PORT or 4566; 0 picks a free port).",
)
@click.option(
    "--model-script",
    type=click.Path(dir_okay=False, exists=True),
    default=None,
    help="Model script YAML (default: environments.local.model_script in strands.yaml).",
)
@click.option(
    "--cors-origin",
    "cors_origins",
    multiple=True,
    metavar="URL",
    help=(
        "A web origin (e.g. http://localhost:3000) allowed to call the local cloud from a browser; "
        "repeatable (default: $STRANDS_LOCAL_CORS_ORIGINS, else none). Replaces the running server's list."
    ),
)
@click.pass_context
def start(
    ctx: click.Context, port: int | None, model_script: str | None, cors_origins: tuple[str, ...]
) -> None:
    """Start the local cloud in the background (a no-op if it runs) and print its endpoint."""
    from strands_deploy.local.control import ensure_running

    pdir = project_dir(ctx)
    script = Path(model_script).resolve() if model_script else model_script_from_config(pdir)
    origins = list(cors_origins) if cors_origins else None
    click.echo(ensure_running(pdir, port=port, model_script=script, cors_origins=origins))


@command.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print the status as JSON.")
@click.pass_context
def status_cmd(ctx: click.Context, as_json: bool) -> None:
    """Show whether the local cloud runs, where, and how many warm workers it has."""
    from strands_deploy.local.control import status

    info = status(project_dir(ctx))
    if as_json:
        print_json(info if info is not None else {"running": False})
        return
    if info is None:
        console().print("local cloud: [yellow]not running[/yellow] (start it: strands-deploy local start)")
        return
    console().print(
        f"local cloud: [green]running[/green] at {info['endpoint']} (pid {info['pid']}, "
        f"since {info['started_at']}, {info['workers']} warm worker(s))\n  log: {info['log']}"
    )


@command.command("stop")
@click.pass_context
def stop_cmd(ctx: click.Context) -> None:
    """Stop the local cloud and its workers. Its resources are gone on the next start."""
    from strands_deploy.local.control import stop

    if stop(project_dir(ctx)):
        console().print("local cloud stopped")
    else:
        console().print("local cloud was not running")


@command.command("reset")
@click.pass_context
def reset_cmd(ctx: click.Context) -> None:
    """Delete every local resource, stop warm workers and clear the unpacked code cache."""
    from strands_deploy.local.control import reset

    reset(project_dir(ctx))
    console().print("local cloud reset: every local resource was deleted")
