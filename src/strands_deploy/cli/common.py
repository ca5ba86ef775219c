"""What every command shares: error handling, the console, the project/services lookup."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from strands_deploy.errors import StrandsDeployError

if TYPE_CHECKING:
    from rich.console import Console

F = TypeVar("F", bound=Callable[..., Any])


def run_cli(group: click.Group, argv: list[str]) -> None:
    """Run the click group; convert our errors into messages and exit codes, never tracebacks."""
    debug = "--debug" in argv or os.environ.get("STRANDS_DEPLOY_DEBUG") == "1"
    try:
        group.main(args=argv, prog_name="strands-deploy", standalone_mode=False)
    except click.exceptions.Abort:
        err_console().print("[red]aborted[/red]")
        sys.exit(130)
    except click.exceptions.Exit as e:
        sys.exit(e.exit_code)
    except click.ClickException as e:
        e.show()
        sys.exit(e.exit_code if e.exit_code != 0 else 2)
    except StrandsDeployError as e:
        if debug:
            import traceback

            traceback.print_exc()
        print_error(e)
        sys.exit(e.exit_code)
    except KeyboardInterrupt:
        err_console().print("[red]interrupted[/red]")
        sys.exit(130)
    except Exception as e:  # an unexpected failure: one sentence, traceback only with --debug
        if debug:
            raise
        err_console().print(
            f"[red]error:[/red] unexpected {type(e).__name__}: {e}\n"
            "  fix: run again with --debug for the traceback and report it"
        )
        sys.exit(1)


def print_error(e: StrandsDeployError) -> None:
    from strands_deploy.errors import ConfigError, ProblemsError

    con = err_console()
    if isinstance(e, ProblemsError) and not isinstance(e, ConfigError):
        con.print(f"[red]error:[/red] {e.what}", highlight=False, soft_wrap=True)
    problems = e.problems if isinstance(e, ProblemsError) else [e]
    for p in problems:
        where = f"[bold]{p.where}[/bold]: " if p.where else ""
        con.print(f"[red]error:[/red] {where}{p.what}", highlight=False, soft_wrap=True)
        if p.fix:
            con.print(f"  [dim]fix:[/dim] {p.fix}", highlight=False, soft_wrap=True)
    if isinstance(e, ConfigError) and len(problems) > 1:
        con.print(f"[red]{len(problems)} problems[/red]")


_console: Console | None = None
_err_console: Console | None = None


def console() -> Console:
    global _console
    if _console is None:
        from rich.console import Console

        # piped output is read by programs and people copying values: never wrap it at 80 columns
        _console = Console(highlight=False, width=None if sys.stdout.isatty() else 1000)
    return _console


def err_console() -> Console:
    global _err_console
    if _err_console is None:
        from rich.console import Console

        _err_console = Console(stderr=True, highlight=False)
    return _err_console


def project_dir(ctx: click.Context) -> Path:
    root = ctx.find_root()
    obj = root.obj or {}
    return Path(obj.get("project_dir", ".")).resolve()


def print_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, sort_keys=False, default=str))


env_option = click.option(
    "--env",
    "-e",
    "env_name",
    default="local",
    show_default=True,
    help="Environment from strands.yaml (local is the embedded emulator).",
)


def bool_option(name: str, default: bool, help: str, *aliases: str) -> Callable[[F], F]:
    """An option that takes an optional value: ``--name``, ``--name=false`` (Terraform style)."""
    return click.option(
        name,
        *aliases,
        name.lstrip("-").replace("-", "_"),
        type=click.BOOL,
        default=default,
        is_flag=False,
        flag_value=True,
        metavar="BOOL",
        help=help,
    )


def selection_options(func: F) -> F:
    """--agent and --target, shared by plan and deploy."""
    func = click.option(
        "--target", "-t", "targets", multiple=True, help="Only this address or prefix (repeatable)."
    )(func)
    func = click.option("--agent", "-a", "agents", multiple=True, help="Only this agent (repeatable).")(func)
    return func


def refresh_option(help: str) -> Callable[[F], F]:
    return bool_option("--refresh", True, help + " Use --refresh=false to skip.")


def parse_duration(text: str) -> float:
    """``5m``, ``30s``, ``1h``, ``90`` (seconds) → seconds."""
    import re

    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smh]?)\s*", text or "")
    if not m:
        raise click.BadParameter(f"{text!r} is not a duration: use e.g. 30s, 5m or 1h")
    return float(m.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600}[m.group(2)]


class _Duration(click.ParamType):
    name = "DURATION"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> float:
        return value if isinstance(value, float) else parse_duration(str(value))


lock_timeout_option = click.option(
    "--lock-timeout",
    "lock_timeout",
    type=_Duration(),
    default="0",
    help="Wait this long (e.g. 5m) for a state lock held by another command, with a countdown.",
)


def lock_waiter() -> Callable[[Any, float], None]:
    """A countdown on stderr while waiting for the lock: one live line on a terminal, a line
    every 10 s otherwise (CI logs)."""
    import time

    last = [0.0]
    tty = sys.stderr.isatty()

    def on_wait(holder: Any, left: float) -> None:
        if left <= 0:
            if tty:
                sys.stderr.write("\r\x1b[2K")
            return
        who = holder.describe() if holder is not None else "another command"
        mins, secs = divmod(int(left), 60)
        text = f"Waiting for the state lock held by {who} — {mins}:{secs:02d} left"
        if tty:
            sys.stderr.write("\r\x1b[2K" + text)
            sys.stderr.flush()
        elif time.monotonic() - last[0] >= 10:
            last[0] = time.monotonic()
            print(text, file=sys.stderr, flush=True)

    return on_wait


def open_for_change(ctx: click.Context, env_name: str, lock_timeout: float = 0.0, **kwargs: Any) -> Any:
    """Services for a command that takes the state lock: waits with a countdown, and records the
    command line in the audit trail."""
    import shlex

    from strands_deploy.services import open_services

    services = open_services(
        project_dir(ctx), env_name, lock_timeout=lock_timeout, on_lock_wait=lock_waiter(), **kwargs
    )
    services.command_line = "strands-deploy " + shlex.join(sys.argv[1:])
    return services


def print_notes(notes: list[str]) -> None:
    for note in notes:
        err_console().print(f"[yellow]note:[/yellow] {note}", highlight=False, soft_wrap=True)
