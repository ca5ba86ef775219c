"""`strands-deploy dev`: run the agents from their folders, on local ports, with hot reload."""

from __future__ import annotations

import difflib
import os
import signal
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from strands_deploy.cli.common import console, env_option, json_option, project_dir
from strands_deploy.errors import StrandsDeployError

if TYPE_CHECKING:
    from rich.console import Console

    from strands_deploy.dev.server import DevAgent, Printer


def select_agents(available: list[str], wanted: tuple[str, ...]) -> list[str]:
    if not available:
        raise StrandsDeployError(
            "the project has no agents",
            fix="add one under `agents:` in strands.yaml (see strands-deploy init)",
        )
    if not wanted:
        return available
    for name in wanted:
        if name not in available:
            close = difflib.get_close_matches(name, available, n=1)
            raise StrandsDeployError(
                f"no agent named {name!r}",
                fix=f"did you mean {close[0]!r}?" if close else f"agents: {', '.join(available)}",
            )
    return [n for n in available if n in wanted]


def make_printer(con: Console, names: list[str]) -> Printer:
    from rich.text import Text

    width = max([len(n) for n in names] + [3])
    lock = threading.Lock()
    styles = {"info": "cyan", "ok": "green", "error": "red", "output": "", "request": ""}

    def printer(agent: str, kind: str, text: str) -> None:
        line = Text()
        line.append(f"{agent or 'dev':<{width}} | ", style="bold magenta" if agent else "bold")
        style = styles.get(kind, "")
        if kind == "request":
            style = "green" if text.startswith("2") else "red"
        line.append(text, style=style)
        with lock:
            con.print(line, soft_wrap=True)

    return printer


def print_table(
    con: Console, rows: list[tuple[DevAgent, dict[str, Any]]], env_name: str, folder: Path
) -> None:
    from rich.table import Table

    from strands_deploy.dev.server import format_location

    table = Table(title=f"strands-deploy dev  (environment {env_name})", title_justify="left")
    table.add_column("agent", style="bold")
    table.add_column("url")
    table.add_column("status")
    for agent, result in rows:
        if result.get("ok"):
            status = "[green]ready[/green]"
        else:
            where = format_location(result, agent.folder.relative_to(folder).as_posix())
            status = f"[red]error[/red] {where}"
        table.add_row(agent.name, agent.url, status)
    con.print(table, soft_wrap=True)
    first = rows[0][0]
    con.print(
        f'[dim]try:[/dim] curl -s {first.url} -d \'{{"prompt": "Hello"}}\'\n'
        "[dim]watching the agent folders; Ctrl-C to stop[/dim]",
        soft_wrap=True,
        highlight=False,
    )


def json_printer(agent: str, kind: str, text: str) -> None:
    import json

    click.echo(json.dumps({"event": "log", "agent": agent, "kind": kind, "text": text}))


def print_ready_json(rows: list[tuple[DevAgent, dict[str, Any]]], folder: Path) -> None:
    import json

    from strands_deploy.dev.server import format_location

    for agent, result in rows:
        line: dict[str, Any] = {
            "event": "ready",
            "agent": agent.name,
            "url": agent.url,
            "ok": bool(result.get("ok")),
        }
        if not result.get("ok"):
            line["error"] = format_location(result, agent.folder.relative_to(folder).as_posix())
        click.echo(json.dumps(line))


@click.command("dev")
@env_option
@click.option("--agent", "-a", "agents", multiple=True, help="Only this agent (repeatable).")
@click.option(
    "--port",
    "-p",
    default=8000,
    show_default=True,
    type=click.IntRange(1, 65535),
    help="Port of the first agent; the next agents use the following ports.",
)
@click.option(
    "--offline",
    is_flag=True,
    help="Don't start the local cloud or read the state: agents get only their own `environment` "
    "(for agents whose model needs no AWS).",
)
@json_option(
    'One JSON object per line: {"event": "ready", "agent", "url", "ok", "error"?} when the agents are '
    'up, then {"event": "log", "agent", "kind", "text"} for requests, reloads and output.'
)
@click.pass_context
def command(
    ctx: click.Context, env_name: str, agents: tuple[str, ...], port: int, offline: bool, as_json: bool
) -> None:
    """Run the agents locally, each on its own port, reloading on every change.

    Each agent answers POST {"prompt": ..., "session_id": ...} like its deployed URL, with the
    environment's deployed resources linked (for `local`, the local cloud's emulated Bedrock).
    """
    from strands_deploy.dev.env import worker_env
    from strands_deploy.dev.server import DevAgent, DevServer

    root_dir = project_dir(ctx)
    services: Any = None
    aws_settings = None
    resources: dict[str, Any] = {}
    try:
        if offline:
            from strands_deploy.config.loader import load_project

            project: Any = load_project(root_dir).for_environment(env_name)
            project.environment(env_name)  # an unknown environment is an error here too
        else:
            from strands_deploy.services import open_services

            services = open_services(root_dir, env_name)
            project = services.project
            aws_settings = services.aws.settings
            state = services.read_state()
            resources = dict(getattr(state, "resources", {}) or {})
        root = Path(getattr(project, "root", root_dir))
        names = select_agents(list(project.agents), agents)
        dev_agents: list[DevAgent] = []
        for i, name in enumerate(names):
            cfg = project.agents[name]
            dev_agents.append(
                DevAgent(
                    name=name,
                    folder=(root / cfg.path).resolve(),
                    entry=cfg.entry,
                    port=port + i,
                    env=worker_env(
                        project_root=root,
                        name=name,
                        agent=cfg,
                        base=os.environ,
                        aws=aws_settings,
                        resources=resources,
                        resource_types={k: r.type for k, r in project.config.resources.items()},
                    ),
                )
            )

        con = console()
        server = DevServer(
            dev_agents,
            project_root=root,
            printer=json_printer if as_json else make_printer(con, names),
            on_ready=(lambda rows: print_ready_json(rows, root))
            if as_json
            else (lambda rows: print_table(con, rows, env_name, root)),
            watch_files=[root / "strands.yaml"],
        )
        # Ctrl-C raises KeyboardInterrupt even when started with SIGINT ignored (a background job);
        # SIGTERM stops just as cleanly.
        previous_int = signal.signal(signal.SIGINT, signal.default_int_handler)
        previous_term = signal.signal(signal.SIGTERM, lambda *_: server.stop())
        try:
            server.run()
        except KeyboardInterrupt:
            pass
        finally:
            signal.signal(signal.SIGINT, previous_int)
            signal.signal(signal.SIGTERM, previous_term)
        if not as_json:
            con.print("[dim]stopped[/dim]")
    finally:
        close = getattr(services, "close", None)
        if callable(close):
            close()
