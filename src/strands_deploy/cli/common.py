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


# what the front end knows before the command runs (set by run_cli and by the root group)
FLAGS: dict[str, Any] = {"debug": False, "quiet": False, "verbose": False, "json": False}


def configure(*, debug: bool, quiet: bool, verbose: bool, json_mode: bool | None = None) -> None:
    """Record the global flags; the consoles made afterwards follow them (-q silences summaries)."""
    global _err_console
    FLAGS.update(debug=debug, quiet=quiet, verbose=verbose)
    if json_mode is not None:
        FLAGS["json"] = json_mode
    _err_console = None


def run_cli(group: click.Group, argv: list[str]) -> None:
    """Run the click group; convert our errors into messages and exit codes, never tracebacks.

    With ``--json`` anywhere on the line, an error is one JSON document on stdout,
    ``{"error": {"what", "where", "fix"}}``, so scripts never parse text."""
    from strands_deploy.cli.argv import prepare
    from strands_deploy.cli.main import COMMANDS

    json_mode = "--json" in argv
    debug = "--debug" in argv or os.environ.get("STRANDS_DEPLOY_DEBUG") == "1"
    try:
        args, flags = prepare(group, argv, COMMANDS)
        json_mode, debug = flags.json, flags.debug
        configure(debug=debug, quiet=flags.quiet, verbose=flags.verbose, json_mode=json_mode)
        FLAGS["aliases"] = flags.aliases
        with watch_aws_calls():
            group.main(args=args, prog_name="strands-deploy", standalone_mode=False)
    except click.exceptions.Abort:
        fail(json_mode, StrandsDeployError("aborted"), 130)
    except click.exceptions.Exit as e:
        sys.exit(e.exit_code)
    except click.ClickException as e:
        if not json_mode:
            e.show()
        else:
            print_error_json(usage_error(e))
        sys.exit(e.exit_code if e.exit_code != 0 else 2)
    except StrandsDeployError as e:
        if debug:
            import traceback

            traceback.print_exc()
        fail(json_mode, e, e.exit_code)
    except KeyboardInterrupt:
        fail(json_mode, StrandsDeployError("interrupted"), 130)
    except Exception as e:  # an unexpected failure: one sentence, traceback only with --debug
        if debug:
            raise
        fail(
            json_mode,
            StrandsDeployError(
                f"unexpected {type(e).__name__}: {e}",
                fix="run again with --debug for the traceback and report it",
            ),
            1,
        )


def usage_error(e: click.ClickException) -> StrandsDeployError:
    """A click usage error as what / where / fix."""
    ctx = getattr(e, "ctx", None)
    path = ctx.command_path if ctx is not None else "strands-deploy"
    param = getattr(e, "param", None)
    where = None
    if param is not None:
        opts = getattr(param, "opts", None) or [getattr(param, "name", "")]
        where = str(opts[0])
    return StrandsDeployError(e.format_message(), where, f"see {path} --help")


def fail(json_mode: bool, e: StrandsDeployError, code: int) -> None:
    if json_mode:
        print_error_json(e)
    else:
        print_error(e)
    sys.exit(code)


def print_error_json(e: StrandsDeployError) -> None:
    """``{"error": {"what", "where", "fix"}}`` on stdout (with ``problems`` when there are several)."""
    from strands_deploy.errors import ProblemsError

    body: dict[str, Any] = dict(e.to_dict())
    if isinstance(e, ProblemsError):
        body["problems"] = [p.to_dict() for p in e.problems]
    click.echo(json.dumps({"error": body}, indent=2, default=str))


def print_error(e: StrandsDeployError) -> None:
    from rich.console import Console

    from strands_deploy.errors import ConfigError, ProblemsError

    con = Console(stderr=True, highlight=False)  # errors are shown even with --quiet
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


def watch_aws_calls() -> Any:
    """-v prints each AWS call with its duration; on a terminal, a spinner shows while a call has
    been waiting more than half a second (not with --json or -q)."""
    from strands_deploy.cli.progress import aws_call_watch

    return aws_call_watch(verbose=FLAGS["verbose"], quiet=FLAGS["quiet"] or FLAGS["json"])


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

        # summaries, notes and progress: silenced by -q (errors are printed by print_error)
        _err_console = Console(stderr=True, highlight=False, quiet=bool(FLAGS["quiet"]))
    return _err_console


def summary(text: str) -> None:
    """A line for people about what was done (stderr; silenced by -q). Results go to stdout."""
    err_console().print(text, highlight=False, soft_wrap=True)


def json_option(help: str = 'Print JSON (errors too: {"error": {...}}).') -> Callable[[F], F]:
    return click.option("--json", "as_json", is_flag=True, help=help)


def project_dir(ctx: click.Context) -> Path:
    root = ctx.find_root()
    obj = root.obj or {}
    return Path(obj.get("project_dir", ".")).resolve()


def print_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, sort_keys=False, default=str))


def completer(name: str) -> Callable[..., Any]:
    """A shell-completion callback of cli/complete.py, imported only when Tab is pressed."""

    def callback(ctx: click.Context, param: click.Parameter, incomplete: str) -> Any:
        from strands_deploy.cli import complete

        return getattr(complete, name)(ctx, param, incomplete)

    return callback


env_option = click.option(
    "--env",
    "-e",
    "env_name",
    default="local",
    show_default=True,
    help="Environment from strands.yaml (local is the embedded emulator).",
    shell_complete=completer("environments"),
)
agent_argument = click.argument("agent", shell_complete=completer("agents"))
address_argument = click.argument("address", shell_complete=completer("addresses"))


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
        "--target",
        "-t",
        "targets",
        multiple=True,
        help="Only this address or prefix (repeatable).",
        shell_complete=completer("addresses"),
    )(func)
    func = click.option(
        "--agent",
        "-a",
        "agents",
        multiple=True,
        help="Only this agent (repeatable).",
        shell_complete=completer("agents"),
    )(func)
    return _affected_options(func)


def _affected_options(func: F) -> F:
    """--affected [--base REF]: select the agents changed in git since REF (cli/affected.py)."""
    import functools

    @functools.wraps(func)
    def wrapper(*args: Any, affected: bool = False, base: str = "origin/main", **kwargs: Any) -> Any:
        if affected:
            from strands_deploy.cli.affected import select

            ctx = click.get_current_context()
            kwargs["agents"] = select(
                project_dir(ctx), kwargs.get("env_name", "local"), base, kwargs["agents"], kwargs["targets"]
            )
        return func(*args, **kwargs)

    options = click.option(
        "--base",
        default="origin/main",
        show_default=True,
        help="The git ref --affected compares with (from its merge base with HEAD).",
    )(wrapper)
    options = click.option(
        "--affected",
        is_flag=True,
        help="Only the agents whose folder, requirements or configuration changed in git since --base, "
        "and those using a changed shared resource.",
    )(options)
    return options  # type: ignore[return-value]


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


def command_line(ctx: click.Context, *args: str) -> str:
    """A strands-deploy command line that works as printed from where the user is: with
    ``-C <dir>`` when the project folder was given, every argument shell-quoted."""
    import shlex

    root = ctx.find_root()
    folder = str((root.obj or {}).get("project_dir") or root.params.get("project_dir") or ".")
    words = ["strands-deploy", *(["-C", folder] if folder not in (".", "./") else []), *args]
    return shlex.join(words)
