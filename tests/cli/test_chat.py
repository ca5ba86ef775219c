"""`chat`, `invoke`'s session hint and `output`, through the console script against a local cloud
(its echo model answers "echo: <message>"): piped stdin (one message per line) and a real
pseudo-terminal (history, multi-line input, /session, /new, /exit)."""

from __future__ import annotations

import json
import os
import select
import shlex
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import BIN, Cli, stop_process
from tests.helpers import AGENT_NO_LAYER, write_project
from tests.integration.local.conftest import Cloud, start_server

PROJECT = """\
project: talk
region: us-east-1
agents:
  support:
    path: agents/support
    sessions: true
  plain:
    path: agents/plain
environments:
  local: {{endpoint: "{endpoint}"}}
"""


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cloud]:
    root = tmp_path_factory.mktemp("chat-cloud")
    server = start_server(root / "state", root / "server.log")
    try:
        yield server
    finally:
        stop_process(server.proc)


@pytest.fixture(scope="module")
def cli(cloud: Cloud, tmp_path_factory: pytest.TempPathFactory) -> Cli:
    home = tmp_path_factory.mktemp("home")
    root = write_project(
        tmp_path_factory.mktemp("talk") / "p",
        PROJECT.format(endpoint=cloud.endpoint),
        agents={"support": AGENT_NO_LAYER, "plain": AGENT_NO_LAYER},
        requirements="",
    )
    run = Cli(root, env={"XDG_STATE_HOME": str(home / "state"), "XDG_CONFIG_HOME": str(home / "config")})
    deployed = run("deploy", "--json")
    assert deployed.returncode == 0, deployed.stderr + deployed.stdout
    return run


def test_piped_chat_answers_each_line_in_one_session(cli: Cli) -> None:
    proc = cli("chat", "support", "--json", input="hello there\n\nsecond message\n/new\nthird\n")
    assert proc.returncode == 0, proc.stderr
    answers = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [a["response"] for a in answers] == ["echo: hello there", "echo: second message", "echo: third"]
    first, second, third = (a["session_id"] for a in answers)
    assert first == second and third != first  # kept across turns; /new starts another
    # resumable: --session continues the first conversation
    resumed = cli("chat", "support", "--json", "--session", first, input="again\n")
    assert json.loads(resumed.stdout)["session_id"] == first


def test_piped_chat_prints_text_answers_and_dim_details(cli: Cli) -> None:
    proc = cli("chat", "support", input="one\ntwo\n")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == ["echo: one", "echo: two"]
    details = [line for line in proc.stderr.splitlines() if "tokens:" in line]
    assert len(details) == 2 and all(" in, " in line and line.endswith("s") for line in details)
    quiet = cli("chat", "support", "-q", input="three\n")
    assert quiet.stdout.strip() == "echo: three" and quiet.stderr == ""


def test_chat_with_an_unknown_agent_suggests_the_name(cli: Cli) -> None:
    proc = cli("chat", "suport", "--json", input="hi\n")
    assert proc.returncode == 1
    error = json.loads(proc.stdout)["error"]
    assert "no agent named 'suport'" in error["what"] and "support" in error["fix"]


def test_invoke_session_hint_works_as_printed(cli: Cli) -> None:
    proc = cli("invoke", "support", "first", "--stream")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "echo: first"
    hint = next(line for line in proc.stderr.splitlines() if "continue:" in line)
    command = hint.split("continue: ", 1)[1].rstrip(")")
    words = shlex.split(command)
    assert words[:3] == ["strands-deploy", "-C", str(cli.root)] and "..." not in words
    session = words[words.index("--session") + 1]
    assert hint.startswith(f"session {session}")
    again = subprocess.run(
        [str(BIN), *words[1:], "--json"], capture_output=True, text=True, env=cli.env, timeout=120, cwd="/"
    )
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["session_id"] == session
    # an agent without sessions: no hint
    plain = cli("invoke", "plain", "hi")
    assert plain.returncode == 0 and "continue:" not in plain.stderr


def test_output_prints_one_value_for_scripts(cli: Cli) -> None:
    raw = cli("output", "agent.support.function", "--raw")
    assert raw.returncode == 0 and raw.stdout == "talk-local-support\n"
    quoted = cli("output", "agent.support.function")
    assert quoted.stdout == '"talk-local-support"\n'
    as_json = cli.json("output", "agent.support.alias_arn")
    assert as_json["name"] == "agent.support.alias_arn" and as_json["value"].endswith(":live")
    unknown = cli("output", "agent.support.fuction")
    assert unknown.returncode == 1
    assert "did you mean agent.support.function?" in unknown.stderr
    assert "agent.plain.function" in unknown.stderr  # the known outputs are listed


class Terminal:
    """The CLI on a pseudo-terminal: what it writes is read from the master side."""

    def __init__(self, args: list[str], env: dict[str, str], term: str = "dumb") -> None:
        import pty

        self.master, slave = pty.openpty()
        self.proc = subprocess.Popen(
            args, stdin=slave, stdout=slave, stderr=slave, env={**env, "TERM": term}, close_fds=True
        )
        os.close(slave)
        self.seen = ""

    def expect(self, text: str, timeout: float = 120) -> str:
        deadline = time.monotonic() + timeout
        while text not in self.seen:
            left = deadline - time.monotonic()
            ready = select.select([self.master], [], [], max(0.0, min(left, 1.0)))[0] if left > 0 else []
            chunk = b""
            if ready:
                try:
                    chunk = os.read(self.master, 65536)
                except OSError:  # EIO: the child closed the terminal
                    chunk = b""
            self.seen += chunk.decode("utf-8", "replace").replace("\r", "")
            if left <= 0 or (ready and not chunk):
                raise AssertionError(f"{text!r} not seen; the terminal shows:\n{self.seen}")
        return self.seen

    def send(self, text: str) -> None:
        os.write(self.master, text.encode())

    def close(self) -> None:
        stop_process(self.proc)  # type: ignore[arg-type]
        os.close(self.master)


def test_chat_on_a_terminal(cli: Cli) -> None:
    term = Terminal([str(BIN), "-C", str(cli.root), "chat", "support"], cli.env)
    try:
        term.expect("Talking to agent support (environment local)")
        term.expect("you> ")
        term.send("hello\n")
        term.expect("echo: hello")
        term.expect("tokens:")
        term.send("first line \\\n")
        term.expect("... ")
        term.send("second line\n")
        term.expect("echo: first line \nsecond line")
        term.send("/session\n")
        screen = term.expect("resume it:")
        line = next(x for x in screen.splitlines() if "resume it:" in x)
        session = line.split("session ", 1)[1].split(";")[0]
        assert f"strands-deploy -C {cli.root} chat support --env local --session {session}" in line
        term.send('"""\n')
        term.send("a block\n")
        term.send("of text\n")
        term.send('"""\n')
        term.expect("echo: a block\nof text")
        term.send("/exit\n")
        term.expect("resume: ")
        assert term.proc.wait(timeout=60) == 0
    finally:
        term.close()
    # the history is kept for the next chat (up-arrow)
    history = Path(cli.env["XDG_STATE_HOME"]) / "strands-deploy" / "chat_history"
    assert "hello" in history.read_text()


def test_logs_and_describe_as_json(cli: Cli) -> None:
    assert cli("invoke", "plain", "leave a trace").returncode == 0
    proc = cli("logs", "plain", "--since", "1h", "--json")
    assert proc.returncode == 0, proc.stderr
    events = [json.loads(line) for line in proc.stdout.splitlines()]
    assert events and all({"timestamp", "time", "message"} <= set(e) for e in events)
    assert any("REPORT RequestId" in e["message"] or "START RequestId" in e["message"] for e in events)
    record = cli.json("describe", "agent.plain.function")
    assert record["address"] == "agent.plain.function" and record["physical_id"] == "talk-local-plain"
