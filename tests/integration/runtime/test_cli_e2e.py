"""init -> deploy -> invoke -> logs through the console script, on the project's own local cloud.

The adapter runs inside the local cloud's Lambda, and the template's model script makes the
emulated Bedrock call the agent's tools.
"""

from __future__ import annotations

import json
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import BIN, stop_process

pytestmark = pytest.mark.slow


@pytest.fixture
def project(tmp_path: Path, cli_factory: Any) -> Iterator[tuple[Path, Any]]:
    root = tmp_path / "shop"
    cli = cli_factory(root, env={"STRANDS_LOCAL_PORT": "0"})
    try:
        init = cli("init", "--template", "tools")
        assert init.returncode == 0, init.stderr
        deploy = cli("deploy")
        assert deploy.returncode == 0, deploy.stdout + deploy.stderr
        yield root, cli
    finally:
        cli("local", "stop", timeout=60)


def test_invoke_and_logs(project: tuple[Path, Any]) -> None:
    root, cli = project

    answer = cli("invoke", "assistant", "What is 6 * 7?")
    assert answer.returncode == 0, answer.stderr
    assert answer.stdout.strip() == "echo: 42"  # the model script called the calculator tool
    assert "--session" not in answer.stderr  # the tools template keeps no sessions: no hint (issue 20)

    as_json = cli("invoke", "assistant", "hello", "--json", "--session", "chat-1")
    assert as_json.returncode == 0, as_json.stderr
    body = json.loads(as_json.stdout)
    assert body["session_id"] == "chat-1"
    assert body["response"].startswith("Hello from the local cloud")
    assert body["stop_reason"] == "end_turn" and body["usage"]["totalTokens"] > 0

    piped = cli("invoke", "assistant", "-", input="How many words are in one two three\n")
    assert piped.returncode == 0, piped.stderr
    assert piped.stdout.strip() == "echo: 3"

    typo = cli("invoke", "asistant", "hi")
    assert typo.returncode == 1
    assert "no agent named 'asistant'" in typo.stderr and "did you mean 'assistant'" in typo.stderr

    bad = cli("invoke", "assistant", "hi", "--session", "../../etc")
    assert bad.returncode == 1
    assert "answered 400" in bad.stderr and "session_id" in bad.stderr
    assert "Traceback" not in bad.stderr

    # logs: one JSON line per request; --filter finds them by content
    logs = cli("logs", "assistant", "--filter", '"session_id":"chat-1"')
    assert logs.returncode == 0, logs.stderr
    lines = [line for line in logs.stdout.splitlines() if line.strip()]
    assert len(lines) == 1, logs.stdout
    record = json.loads(lines[0].split("  ", 1)[1])
    assert record["msg"] == "request" and record["agent"] == "assistant" and record["status"] == 200
    everything = cli("logs", "assistant", "--since", "1h")
    assert "START RequestId" in everything.stdout and everything.stdout.count('"msg":"request"') >= 4

    # an agent that is configured but not deployed
    text = (
        (root / "strands.yaml")
        .read_text()
        .replace("agents:\n", "agents:\n  later:\n    path: agents/assistant\n", 1)
    )
    (root / "strands.yaml").write_text(text)
    missing = cli("invoke", "later", "hi")
    assert missing.returncode == 1
    assert "not deployed" in missing.stderr and "strands-deploy deploy --env local" in missing.stderr


def test_logs_follow_and_an_agent_that_fails_to_import(project: tuple[Path, Any]) -> None:
    root, cli = project
    follower = subprocess.Popen(
        [str(BIN), "-C", str(root), "logs", "assistant", "--follow", "--filter", "follow-me"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=cli.env,
    )
    seen: list[str] = []
    reader = threading.Thread(target=lambda: seen.extend(follower.stdout or []), daemon=True)
    reader.start()
    try:
        time.sleep(1.5)  # let it start polling
        assert cli("invoke", "assistant", "hi", "--session", "follow-me").returncode == 0
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not any("follow-me" in line for line in seen):
            time.sleep(0.2)
        assert any('"session_id":"follow-me"' in line for line in seen), seen
        follower.send_signal(signal.SIGINT)
        assert follower.wait(timeout=15) == 0, follower.stderr.read() if follower.stderr else ""
    finally:
        stop_process(follower)  # type: ignore[arg-type]

    # code that raises at import: invoke reports the file and line, not a stack trace
    agent_file = root / "agents" / "assistant" / "agent.py"
    source = agent_file.read_text()
    agent_file.write_text(source + "\nraise RuntimeError('missing configuration')\n")
    line = len((source + "\n").splitlines()) + 1
    assert cli("deploy").returncode == 0
    broken = cli("invoke", "assistant", "hi")
    assert broken.returncode == 1
    assert "answered 500" in broken.stderr and "missing configuration" in broken.stderr
    assert f"agents/assistant/agent.py:{line}" in broken.stderr
    assert "Traceback" not in broken.stderr


def test_read_commands_say_when_the_local_cloud_was_emptied(project: tuple[Path, Any]) -> None:
    _, cli = project
    before = cli("list")
    assert before.returncode == 0 and "emptied" not in before.stderr
    assert cli("local", "reset").returncode == 0
    for args in (("list",), ("outputs",)):
        after = cli(*args)
        assert after.returncode == 0, after.stderr
        assert "the local cloud was emptied" in after.stderr and "strands-deploy deploy" in after.stderr
    assert cli("deploy").returncode == 0
    assert "emptied" not in cli("list").stderr  # deployed again: nothing to say
