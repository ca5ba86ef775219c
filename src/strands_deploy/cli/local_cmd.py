"""`strands-deploy local start|status|stop|reset`: the embedded local cloud (see docs/local-cloud.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from strands_deploy.cli.common import console, json_option, print_json, project_dir, summary


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
@click.option(
    "--idle-timeout",
    default=None,
    metavar="DURATION",
    help=(
        "Stop (saving the state) after this long without a request: 90s, 30m, 2h, 1d, or never "
        "(default: config.json's idle_timeout_seconds, else 4h). Applies to a running server too."
    ),
)
@click.option(
    "--iam/--no-iam",
    "iam",
    default=None,
    help=(
        "Check each function's calls against its role, as AWS does (the default), or not "
        '(--no-iam; recorded in config.json as "iam": false). Applies to a running server too.'
    ),
)
@json_option("Print the running local cloud's status as JSON.")
@click.pass_context
def start(
    ctx: click.Context,
    port: int | None,
    model_script: str | None,
    cors_origins: tuple[str, ...],
    idle_timeout: str | None,
    iam: bool | None,
    as_json: bool,
) -> None:
    """Start the local cloud in the background (a no-op if it runs) and print its endpoint."""
    from strands_deploy.local.control import ensure_running
    from strands_deploy.local.settings import parse_duration

    idle: int | None = None
    if idle_timeout is not None:
        try:
            idle = parse_duration(idle_timeout)
        except ValueError as e:
            raise click.BadParameter(str(e), param_hint="--idle-timeout") from None
    pdir = project_dir(ctx)
    script = Path(model_script).resolve() if model_script else model_script_from_config(pdir)
    origins = list(cors_origins) if cors_origins else None
    line = ensure_running(
        pdir, port=port, model_script=script, cors_origins=origins, idle_timeout=idle, iam=iam
    )
    if as_json:
        from strands_deploy.local.control import status

        print_json(status(pdir) or {"running": False})
        return
    click.echo(line)


def _size(n: Any) -> str:
    if not isinstance(n, int):
        return "?"
    return f"{n / (1024 * 1024):.0f} MB"


def _duration(seconds: Any) -> str:
    if not isinstance(seconds, int | float):
        return "?"
    s = int(seconds)
    return f"{s // 3600}h{s % 3600 // 60:02d}m" if s >= 3600 else f"{s // 60}m{s % 60:02d}s"


def _snapshot_line(snap: dict[str, Any]) -> str:
    if snap.get("error"):
        return f"  state: [red]started empty[/red]: {snap['error']}"
    line = (
        f"  state: restored from the snapshot taken at {snap.get('taken_at')}"
        if snap.get("restored")
        else "  state: started empty (no snapshot)"
    )
    if snap.get("last_saved_at"):
        line += f"; last saved {snap['last_saved_at']}"
    if snap.get("skipped") or snap.get("last_saved_skipped"):
        line += f"; not kept: {', '.join(snap.get('last_saved_skipped') or snap.get('skipped') or [])}"
    return line


@command.command("status")
@json_option("Print the status as JSON.")
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
    idle = info.get("idle_timeout_seconds")
    console().print(
        f"local cloud: [green]running[/green] at {info['endpoint']} (pid {info['pid']}, "
        f"since {info['started_at']}, {info['workers']} warm worker(s))\n"
        f"  pid {info['pid']}, port {info['port']}, up {_duration(info.get('uptime_seconds'))}, "
        f"memory {_size(info.get('rss_bytes'))} (server) + {_size(info.get('workers_rss_bytes'))} "
        f"({info['workers']} worker(s))\n"
        f"{_snapshot_line(info.get('snapshot') or {})}\n"
        f"  idle stop: {'never' if not idle else 'after ' + _duration(idle) + ' without a request'}\n"
        f"  log: {info['log']}"
    )


@command.command("stop")
@json_option('Print {"stopped": true|false} (false: it was not running).')
@click.pass_context
def stop_cmd(ctx: click.Context, as_json: bool) -> None:
    """Stop the local cloud and its workers, saving its state (restored on the next start)."""
    from strands_deploy.local.control import stop

    stopped = bool(stop(project_dir(ctx)))
    if as_json:
        print_json({"stopped": stopped})
    else:
        summary("local cloud stopped" if stopped else "local cloud was not running")


@command.command("reset")
@json_option('Print {"reset": true}.')
@click.pass_context
def reset_cmd(ctx: click.Context, as_json: bool) -> None:
    """Delete every local resource (and the saved state), stop warm workers, clear the code cache."""
    from strands_deploy.local.control import reset

    reset(project_dir(ctx))
    if as_json:
        print_json({"reset": True})
    else:
        summary("local cloud reset: every local resource was deleted")
