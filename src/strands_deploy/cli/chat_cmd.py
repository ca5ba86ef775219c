"""`strands-deploy chat AGENT`: a conversation in the terminal (docs/chat.md).

On a terminal: line editing and history (up-arrow, kept between runs), multi-line messages (end a
line with a backslash, or wrap the message in triple quotes), the session kept across turns,
``/new``, ``/session``, ``/exit``, and per turn a dim line with tools, tokens and time. When
standard input is not a terminal, every line is one message and every answer is printed (one
JSON object per line with --json), so a conversation can be scripted.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from strands_deploy.cli.common import agent_argument, env_option, json_option, project_dir
from strands_deploy.errors import StrandsDeployError

if TYPE_CHECKING:
    from strands_deploy.cli.chat_session import Conversation, Target

HELP = (
    "/new starts a new session, /session shows how to resume this one, /exit (or Ctrl-D) quits; "
    'end a line with \\ or wrap a message in """ to write several lines'
)


def read_message(read_line: Callable[[str], str]) -> str | None:
    """One message from ``read_line(prompt)`` (which raises EOFError at the end): a line, a line
    ending in a backslash followed by more lines, or a block between two lines of triple quotes."""
    first = read_line("you> ")
    if first.strip() == '"""':
        lines: list[str] = []
        while True:
            line = read_line("... ")
            if line.strip() == '"""':
                return "\n".join(lines)
            lines.append(line)
    lines = [first]
    while lines[-1].endswith("\\"):
        lines[-1] = lines[-1][:-1]
        lines.append(read_line("... "))
    return "\n".join(lines)


def open_target(
    ctx: click.Context, agent: str, env_name: str, dev: bool, port: int
) -> tuple[Target, bool, Any]:
    """(the target, whether the agent keeps sessions, what to close at the end)."""
    from strands_deploy.cli.chat_session import DeployedTarget, EndpointTarget
    from strands_deploy.operate.deployment import find_agent

    if dev:
        from strands_deploy.config.loader import load_project

        project: Any = load_project(project_dir(ctx)).for_environment(env_name)
        cfg = find_agent(project, agent)
        index = list(project.agents).index(agent)  # dev gives the agents consecutive ports in this order
        url = f"http://127.0.0.1:{port + index}/"
        return (
            EndpointTarget(url, name=f"agent {agent} on the dev server at {url}"),
            cfg.sessions is not None,
            None,
        )

    from strands_deploy.cli.invoke_cmd import deployment
    from strands_deploy.services import open_services

    services = open_services(Path(project_dir(ctx)), env_name)
    cfg = find_agent(services.project, agent)
    target = DeployedTarget(
        deployment(services, env_name), agent, name=f"agent {agent} (environment {env_name})"
    )
    return target, cfg.sessions is not None, services


@click.command("chat")
@agent_argument
@env_option
@click.option("--session", "-s", help="Resume this session (the id /session or invoke printed).")
@click.option("--dev", is_flag=True, help="Talk to the agent run by a running `strands-deploy dev`.")
@click.option(
    "--port",
    "-p",
    default=8000,
    show_default=True,
    type=click.IntRange(1, 65535),
    help="With --dev: the dev server's first port (its --port).",
)
@json_option("Without a terminal: print each answer as one JSON object per line.")
@click.pass_context
def command(
    ctx: click.Context, agent: str, env_name: str, session: str | None, dev: bool, port: int, as_json: bool
) -> None:
    """Talk to AGENT: each message is sent with the session of the previous answers."""
    from strands_deploy.cli.chat_session import Conversation

    target, keeps, resource = open_target(ctx, agent, env_name, dev, port)
    try:
        conversation = Conversation(target, session_id=session, keeps_sessions=keeps)
        view = ChatView(ctx, agent, env_name, dev)
        if sys.stdin.isatty() and not as_json:
            view.interactive(conversation)
        elif not view.piped(conversation, sys.stdin, as_json):
            raise SystemExit(1)
    finally:
        close = getattr(resource, "close", None)
        if callable(close):
            close()


class ChatView:
    """Renders the conversation: answers on stdout, everything else on stderr (dim)."""

    def __init__(self, ctx: click.Context, agent: str, env_name: str, dev: bool) -> None:
        from strands_deploy.cli.common import console, err_console

        self.ctx = ctx
        self.agent = agent
        self.env_name = env_name
        self.dev = dev
        self.out = console()
        self.err = err_console()

    def resume_line(self, conversation: Conversation) -> str:
        from strands_deploy.cli.common import command_line

        args = ["chat", self.agent, "--env", self.env_name]
        args += ["--dev"] if self.dev else []
        return command_line(self.ctx, *args, "--session", str(conversation.session_id))

    def note(self, text: str) -> None:
        self.err.print(f"[dim]{text}[/dim]", highlight=False, soft_wrap=True, markup=True)

    def details(self, conversation: Conversation) -> None:
        from rich.markup import escape

        from strands_deploy.cli.chat_session import turn_details

        self.note(escape(turn_details(conversation.turns[-1])))

    def error(self, e: StrandsDeployError) -> None:
        from strands_deploy.cli.common import print_error

        print_error(e)

    def send(self, conversation: Conversation, text: str) -> bool:
        """One turn on a terminal: a spinner until the first text, then the text as it comes."""
        from strands_deploy.cli.invoke_cmd import render_answer, waiting

        streamed: list[str] = []
        spinner = waiting(True, f"{self.agent} is thinking…")
        spinner.__enter__()

        def on_text(chunk: str) -> None:
            if conversation.target.streams and chunk:
                if not streamed:
                    spinner.close()
                streamed.append(chunk)
                sys.stdout.write(chunk)
                sys.stdout.flush()

        try:
            turn = conversation.send(text, on_text)
        except StrandsDeployError as e:
            spinner.close()
            self.error(e)
            return False
        spinner.close()
        if streamed:
            sys.stdout.write("\n")
            sys.stdout.flush()
        else:
            render_answer(turn.answer)
        self.details(conversation)
        return True

    def command(self, conversation: Conversation, text: str) -> bool:
        """A /command; False means exit."""
        word = text.split()[0].lower()
        if word in ("/exit", "/quit", "/q"):
            return False
        if word == "/new":
            conversation.new()
            self.note("new session: the next answer starts it")
        elif word == "/session":
            if conversation.session_id:
                self.note(f"session {conversation.session_id}; resume it: {self.resume_line(conversation)}")
            else:
                self.note("no session yet: the first answer starts one")
        else:
            self.note(f"unknown command {word}: {HELP}")
        return True

    def interactive(self, conversation: Conversation) -> None:
        history = setup_history()
        self.note(f"Talking to {conversation.target.name}. {HELP}")
        if not conversation.keeps_sessions:
            self.note(
                f"agent {self.agent} keeps no sessions (no `sessions:` in strands.yaml): "
                "each message starts a new conversation"
            )
        try:
            while True:
                try:
                    text = read_message(input)
                except EOFError:
                    sys.stdout.write("\n")
                    break
                except KeyboardInterrupt:  # Ctrl-C drops the message being typed, as in a shell
                    sys.stdout.write("\n")
                    continue
                if text is None or not text.strip():
                    continue
                if text.strip().startswith("/"):
                    if not self.command(conversation, text.strip()):
                        break
                    continue
                try:
                    self.send(conversation, text)
                except KeyboardInterrupt:
                    self.note("interrupted; the answer was not printed")
        finally:
            history()
        if conversation.session_id and conversation.keeps_sessions:
            self.note(f"resume: {self.resume_line(conversation)}")

    def piped(self, conversation: Conversation, lines: Iterator[str] | Any, as_json: bool) -> bool:
        """One message per line; every answer printed. False when a turn failed."""
        from strands_deploy.cli.common import print_error_json
        from strands_deploy.cli.invoke_cmd import render_answer

        ok = True
        for raw in lines:
            text = raw.rstrip("\n")
            if not text.strip():
                continue
            if text.strip().startswith("/"):
                if not self.command(conversation, text.strip()):
                    break
                continue
            try:
                turn = conversation.send(text, lambda _chunk: None)
            except StrandsDeployError as e:
                ok = False
                if as_json:
                    print_error_json(e)
                else:
                    self.error(e)
                continue
            if as_json:
                import json

                click.echo(json.dumps(turn.answer, default=str))
            else:
                render_answer(turn.answer)
                self.details(conversation)
            sys.stdout.flush()
        return ok


def history_file() -> Path:
    import os

    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "strands-deploy" / "chat_history"


def setup_history() -> Callable[[], None]:
    """Line editing and up-arrow history with readline (kept in ~/.local/state); returns the
    function that saves the history."""
    try:
        import readline
    except ImportError:  # no readline (Windows): plain input() still works
        return lambda: None
    path = history_file()
    with contextlib.suppress(OSError):
        readline.read_history_file(path)
    readline.set_history_length(1000)

    def save() -> None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            readline.write_history_file(path)
        except OSError:
            pass

    return save
