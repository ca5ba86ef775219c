"""`strands-deploy dev` as a real process: serve, hot reload, keep serving through a syntax error, stop."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from strands_deploy.cli.main import cli
from tests.conftest import REPO, stop_process
from tests.unit.runtime.scripted import INLINE_MODEL

CLI = Path(sys.executable).parent / "strands-deploy"

pytestmark = pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs /proc to find worker processes")


def agent_source(reply: str | None, extra: str = "") -> str:
    value = "None" if reply is None else repr(reply)
    return (
        f"from strands import Agent\nREPLY = {value}\n{INLINE_MODEL}\n{extra}"
        "agent = Agent(model=FixedModel(), callback_handler=None)\n"
    )


def write_project(root: Path, agents: dict[str, dict[str, Any]]) -> None:
    lines = ["project: devtest", "agents:"]
    for name, spec in agents.items():
        lines.append(f"  {name}:")
        lines.append(f"    path: agents/{name}")
        if spec.get("sessions"):
            lines.append("    sessions: true")
        if spec.get("environment"):
            lines.append("    environment:")
            lines.extend(f"      {k}: {v!r}" for k, v in spec["environment"].items())
        folder = root / "agents" / name
        folder.mkdir(parents=True)
        (folder / "requirements.txt").write_text("strands-agents\n")
        (folder / "agent.py").write_text(spec["source"])
    lines.append("environments:\n  local: {}")
    (root / "strands.yaml").write_text("\n".join(lines) + "\n")


def free_ports(n: int) -> int:
    """A base port with n consecutive free ports."""
    for _ in range(50):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            base = int(s.getsockname()[1])
        if base + n > 65535:
            continue
        try:
            socks = []
            for p in range(base, base + n):
                s2 = socket.socket()
                socks.append(s2)
                s2.bind(("127.0.0.1", p))
            return base
        except OSError:
            continue
        finally:
            for s2 in socks:
                s2.close()
    raise RuntimeError("no free ports")


class DevProcess:
    """`strands-deploy dev` in a subprocess (--offline unless told otherwise); output collected."""

    def __init__(
        self, root: Path, *args: str, offline: bool = True, env: dict[str, str] | None = None
    ) -> None:
        self.lines: list[str] = []
        self._cond = threading.Condition()
        env = {**(env or os.environ), "COLUMNS": "200", "PYTHONPATH": str(REPO)}
        self.proc = subprocess.Popen(
            [str(CLI), "-C", str(root), "dev", *(["--offline"] if offline else []), *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            with self._cond:
                self.lines.append(line.rstrip("\n"))
                self._cond.notify_all()

    @property
    def output(self) -> str:
        with self._cond:
            return "\n".join(self.lines)

    def wait_output(self, predicate: Callable[[str], bool], timeout: float = 60) -> str:
        deadline = time.monotonic() + timeout
        with self._cond:
            while not predicate("\n".join(self.lines)):
                left = deadline - time.monotonic()
                if left <= 0 or (self.proc.poll() is not None and not self._reader.is_alive()):
                    raise AssertionError(
                        f"expected output not seen; output so far:\n{chr(10).join(self.lines)}"
                    )
                self._cond.wait(min(left, 0.2))
            return "\n".join(self.lines)

    def worker_pids(self) -> set[int]:
        pids = set()
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == self.proc.pid:
                pids.add(int(stat.parent.name))
        return pids


@pytest.fixture
def dev_runs() -> Iterator[list[DevProcess]]:
    started: list[DevProcess] = []
    yield started
    for d in started:
        stop_process(d.proc)  # type: ignore[arg-type]


def post(url: str, body: Any, timeout: float = 10) -> tuple[int, dict[str, Any]]:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method="POST", headers={"content-type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def ask(url: str, prompt: str = "hi", **extra: Any) -> dict[str, Any]:
    status, body = post(url, {"prompt": prompt, **extra})
    assert status == 200, body
    return body


def poll(fn: Callable[[], bool], timeout: float) -> float:
    """Seconds until fn() is true; fails after timeout."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if fn():
            return time.monotonic() - start
        time.sleep(0.05)
    raise AssertionError(f"condition not met within {timeout}s")


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"


@pytest.mark.slow
def test_serve_reload_survive_syntax_error_and_stop(tmp_path: Path, dev_runs: list[DevProcess]) -> None:
    write_project(tmp_path, {"assistant": {"source": agent_source("version one")}})
    port = free_ports(1)
    url = f"http://127.0.0.1:{port}/"
    dev = DevProcess(tmp_path, "--port", str(port))
    dev_runs.append(dev)
    out = dev.wait_output(lambda o: "ready" in o)
    assert url in out  # the agent -> URL table

    first = ask(url)
    assert first["response"] == "version one"
    assert first["stop_reason"] == "end_turn"
    status, bad = post(url, {"message": "no prompt"})
    assert status == 400 and "prompt" in bad["error"]

    agent_file = tmp_path / "agents" / "assistant" / "agent.py"
    agent_file.write_text(agent_source("version two"))
    took = poll(lambda: ask(url)["response"] == "version two", timeout=10)
    assert took < 3, f"reload took {took:.1f}s"
    dev.wait_output(lambda o: "reloaded" in o)

    agent_file.write_text(agent_source("version three") + "\ndef broken(:\n    pass\n")
    out = dev.wait_output(lambda o: "SyntaxError" in o)
    error_line = next(line for line in out.splitlines() if "SyntaxError" in line)
    assert "agents/assistant/agent.py:" in error_line
    assert "still serving the previous version" in error_line
    for _ in range(3):
        assert ask(url)["response"] == "version two"

    agent_file.write_text(agent_source("version four"))
    poll(lambda: ask(url)["response"] == "version four", timeout=10)

    workers = dev.worker_pids()
    assert workers, "no worker processes found"
    dev.proc.send_signal(signal.SIGINT)
    assert dev.proc.wait(timeout=30) == 0, dev.output
    assert "stopped" in dev.output
    poll(lambda: not any(pid_alive(p) for p in workers), timeout=10)
    with pytest.raises(OSError):
        post(url, {"prompt": "hi"}, timeout=2)


@pytest.mark.slow
def test_two_agents_sessions_and_a_broken_start(tmp_path: Path, dev_runs: list[DevProcess]) -> None:
    write_project(
        tmp_path,
        {
            "alpha": {"source": agent_source(None), "sessions": True},  # echoes the user's turns
            # strands.yaml validation passes (agent is defined); the import fails at line 3.
            "beta": {
                "source": "from strands import Agent\n\nraise RuntimeError('no API key')\nagent = None\n"
            },
        },
    )
    port = free_ports(2)
    alpha, beta = f"http://127.0.0.1:{port}/", f"http://127.0.0.1:{port + 1}/"
    dev = DevProcess(tmp_path, "--port", str(port))
    dev_runs.append(dev)
    out = dev.wait_output(lambda o: alpha in o and beta in o)
    beta_row = next(line for line in out.splitlines() if beta in line)
    assert "error" in beta_row and "agents/beta/agent.py:3" in beta_row

    # Sessions without a deployed bucket: memory in .strands/dev/sessions/<agent>.
    first = ask(alpha, "one", session_id="s1")
    assert first["response"] == "one"
    assert ask(alpha, "two", session_id="s1")["response"] == "one | two"
    assert ask(alpha, "three", session_id="s2")["response"] == "three"
    assert (tmp_path / ".strands" / "dev" / "sessions" / "alpha").is_dir()

    # The broken agent answers like a deployed one would: a 500 with file and line.
    status, body = post(beta, {"prompt": "hi"})
    assert status == 500
    assert body["file"] == "agent.py" and body["line"] == 3
    assert "no API key" in body["error"]

    (tmp_path / "agents" / "beta" / "agent.py").write_text(agent_source("beta fixed"))
    poll(lambda: post(beta, {"prompt": "hi"})[1].get("response") == "beta fixed", timeout=10)
    assert ask(alpha, "four", session_id="s1")["response"] == "one | two | four"

    dev.proc.send_signal(signal.SIGTERM)
    assert dev.proc.wait(timeout=30) == 0, dev.output


@pytest.mark.slow
def test_agent_environment_is_passed(tmp_path: Path, dev_runs: list[DevProcess]) -> None:
    source = agent_source(None).replace(
        "REPLY = None",
        "import os\nREPLY = os.environ['GREETING'] + ' from ' + os.environ['STRANDS_AGENT_NAME']",
    )
    write_project(tmp_path, {"greeter": {"source": source, "environment": {"GREETING": "hello"}}})
    port = free_ports(1)
    dev = DevProcess(tmp_path, "--port", str(port), "--agent", "greeter")
    dev_runs.append(dev)
    dev.wait_output(lambda o: "ready" in o)
    assert ask(f"http://127.0.0.1:{port}/")["response"] == "hello from greeter"
    dev.proc.send_signal(signal.SIGINT)
    assert dev.proc.wait(timeout=30) == 0


def test_unknown_agent_is_a_clear_error(tmp_path: Path) -> None:
    write_project(tmp_path, {"assistant": {"source": agent_source("x")}})
    result = CliRunner().invoke(cli, ["-C", str(tmp_path), "dev", "--offline", "--agent", "asistant"])
    assert result.exit_code != 0
    assert isinstance(result.exception, Exception)
    assert "no agent named 'asistant'" in str(result.exception)
    assert "did you mean 'assistant'" in str(result.exception)


LINKED_PROJECT = """\
project: devlink
agents:
  linked:
    path: agents/linked
    sessions: true
    link: [tickets]
  plain:
    path: agents/plain
resources:
  tickets: {type: table, key: id}
environments:
  local: {}
"""


@pytest.mark.slow
def test_dev_against_the_local_cloud(tmp_path: Path, dev_runs: list[DevProcess], cli_factory: Any) -> None:
    """Deployed resources are wired in: links, the sessions bucket, the emulated Bedrock."""
    root = tmp_path / "devlink"
    linked = agent_source(None).replace(
        "REPLY = None",
        "import os\nREPLY = None\nPREFIX = os.environ['STRANDS_LINK_TICKETS_TABLE'] + ' ' "
        "+ os.environ['STRANDS_SESSIONS_BUCKET'] + ': '",
    )
    plain = "from strands import Agent\n\nagent = Agent(callback_handler=None)\n"  # the default Bedrock model
    for name, source in {"linked": linked, "plain": plain}.items():
        (root / "agents" / name).mkdir(parents=True)
        (root / "agents" / name / "agent.py").write_text(source)
        (root / "agents" / name / "requirements.txt").write_text("strands-agents\n")
    (root / "strands.yaml").write_text(LINKED_PROJECT)
    cli = cli_factory(root, env={"STRANDS_LOCAL_PORT": "0"})
    try:
        deployed = cli("deploy")
        assert deployed.returncode == 0, deployed.stdout + deployed.stderr

        port = free_ports(2)
        dev = DevProcess(root, "--port", str(port), offline=False, env=cli.env)
        dev_runs.append(dev)
        dev.wait_output(lambda o: o.count("ready") >= 2)

        url = f"http://127.0.0.1:{port}/"
        first = ask(url, "one", session_id="s1")["response"]
        assert first == "devlink-local-tickets devlink-local-sessions-123456789012: one"
        # sessions go to the deployed bucket (in the local cloud), like the deployed function's
        assert ask(url, "two", session_id="s1")["response"].endswith(": one | two")
        assert not (root / ".strands" / "dev" / "sessions").exists()

        assert ask(f"http://127.0.0.1:{port + 1}/", "hello there")["response"] == "echo: hello there"

        dev.proc.send_signal(signal.SIGINT)
        assert dev.proc.wait(timeout=30) == 0, dev.output
    finally:
        cli("local", "stop", timeout=60)
