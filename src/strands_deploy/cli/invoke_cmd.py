"""`strands-deploy invoke AGENT "prompt"`: call the deployed agent (the use case is operate.invoke)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from strands_deploy.cli.common import (
    agent_argument,
    command_line,
    console,
    env_option,
    err_console,
    json_option,
    print_json,
    project_dir,
)
from strands_deploy.errors import StrandsDeployError

if TYPE_CHECKING:
    from strands_deploy.operate import Deployment
    from strands_deploy.services import Services


def read_prompt(prompt: str) -> str:
    if prompt == "-":
        prompt = sys.stdin.read()
    if not prompt.strip():
        raise StrandsDeployError(
            "the prompt is empty", fix='pass a prompt: strands-deploy invoke AGENT "Hello"'
        )
    return prompt


def deployment(services: Services, env_name: str) -> Deployment:
    """What operate/ needs of the opened environment (AWS clients made only when first used)."""
    from strands_deploy.operate import Deployment

    return Deployment(
        project=services.project,
        env_name=env_name,
        read_state=services.read_state,
        aws=lambda: services.aws,
    )


@click.command("invoke")
@agent_argument
@click.argument("prompt")
@env_option
@click.option(
    "--session", "-s", help="Continue this conversation (the session id printed by a previous invoke)."
)
@json_option("Print the whole answer as JSON.")
@click.option(
    "--stream",
    is_flag=True,
    help="Print the answer as it arrives where the target streams; otherwise a spinner while waiting.",
)
@click.pass_context
def command(
    ctx: click.Context,
    agent: str,
    prompt: str,
    env_name: str,
    session: str | None,
    as_json: bool,
    stream: bool,
) -> None:
    """Send PROMPT to the deployed AGENT and print its answer ("-" reads the prompt from stdin)."""
    from strands_deploy.cli.chat_session import DeployedTarget
    from strands_deploy.services import open_services

    text = read_prompt(prompt)
    services = open_services(Path(project_dir(ctx)), env_name)
    try:
        target = DeployedTarget(deployment(services, env_name), agent)
        with waiting(stream and not as_json, f"{agent} is thinking…"):
            answer = target.ask(text, session, lambda _chunk: None)
    finally:
        close = getattr(services, "close", None)
        if callable(close):
            close()
    if as_json:
        print_json(answer)
        return
    render_answer(answer, folder=_agent_folder(services, agent))
    sid = answer.get("session_id")
    if sid and keeps_sessions(services, agent):
        again = command_line(
            ctx, "invoke", agent, "your next message", "--session", str(sid), "--env", env_name
        )
        err_console().print(f"[dim]session {sid}  (continue: {again})[/dim]", highlight=False, soft_wrap=True)


def keeps_sessions(services: Services, agent: str) -> bool:
    """True when the agent is configured with ``sessions:`` (its conversations are kept)."""
    try:
        return services.project.agents[agent].sessions is not None
    except (AttributeError, KeyError, TypeError):
        return False


def waiting(enabled: bool, text: str) -> Any:
    """A spinner on stderr while waiting for an answer (terminal only; -q silences it)."""
    from contextlib import ExitStack

    from strands_deploy.cli.progress import hold_spinner

    stack = ExitStack()
    con = err_console()
    if enabled and con.is_terminal and not con.quiet:
        stack.enter_context(hold_spinner())
        stack.enter_context(con.status(text, spinner="dots"))
    return stack


def _agent_folder(services: Services, agent: str) -> str:
    try:
        return str(services.project.agents[agent].path)
    except (AttributeError, KeyError, TypeError):
        return ""


def _is_json_of(text: str, value: Any) -> bool:
    try:
        return bool(json.loads(text) == value)
    except ValueError:
        return False


def render_answer(answer: dict[str, Any], folder: str = "") -> None:
    """The answer for people: the response text, the structured output as JSON (when the agent has
    a structured output model) and, on stderr, the tools that raised (``tool_errors``)."""
    from rich.markup import escape

    response = str(answer.get("response", ""))
    structured = answer.get("structured")
    # with structured output, the response is often just that object as a JSON string
    if structured is None or (response.strip() and not _is_json_of(response, structured)):
        console().print(response, markup=False, highlight=False, soft_wrap=True)
    if structured is not None:
        console().print_json(json.dumps(structured, default=str))
    for error in answer.get("tool_errors") or []:
        if not isinstance(error, dict):
            continue
        where = ""
        if error.get("file"):
            prefix = f"{folder.rstrip('/')}/" if folder and not str(error["file"]).startswith("/") else ""
            where = f"{prefix}{error['file']}" + (f":{error['line']}" if error.get("line") else "")
        err_console().print(
            f"[red]tool {escape(str(error.get('tool') or '?'))} failed:[/red] "
            f"[dim]{escape(str(error.get('error', '')))}{'  at ' + escape(where) if where else ''}[/dim]",
            highlight=False,
            soft_wrap=True,
        )
