"""`chat --dev` against an HTTP endpoint answering like `strands-deploy dev` (a real server on
127.0.0.1, started and stopped by the test): JSON answers, server-sent-event streams, the agent's
port chosen as `dev` chooses it, and the errors when nothing answers."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from strands_deploy.cli.chat_session import Conversation, EndpointTarget, Turn, read_events, turn_details
from strands_deploy.cli.main import main
from strands_deploy.errors import StrandsDeployError
from tests.conftest import free_port
from tests.helpers import AGENT_NO_LAYER, write_project


class Agent(BaseHTTPRequestHandler):
    """Answers {"prompt", "session_id"} with "<name>: <prompt>"; streams when the path is /stream."""

    name = "agent"
    seen: list[dict[str, Any]] = []

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.seen.append(body)
        session = body.get("session_id") or f"s-{len(self.seen)}"
        answer: dict[str, Any] = {
            "response": f"{self.name}: {body['prompt']}",
            "session_id": session,
            "usage": {"inputTokens": 3, "outputTokens": 2},
            "tools": {"lookup": 2},
        }
        if body["prompt"] == "fail":
            self.send_response(500)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(json.dumps({"error": "boom"}).encode())
            return
        self.send_response(200)
        if self.path == "/stream" or body["prompt"].startswith("stream"):
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            for word in str(answer["response"]).split(" "):
                self.wfile.write(f"data: {json.dumps({'text': word + ' '})}\n\n".encode())
                self.wfile.flush()
            self.wfile.write(f"data: {json.dumps({**answer, 'response': None, 'done': True})}\n\n".encode())
            return
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(json.dumps(answer).encode())

    def log_message(self, *args: Any) -> None:
        pass


def serve(port: int, name: str) -> ThreadingHTTPServer:
    handler = type(f"Agent_{name}", (Agent,), {"name": name, "seen": []})
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture
def dev_servers() -> Iterator[tuple[int, list[ThreadingHTTPServer]]]:
    """Two agents on consecutive ports, as `strands-deploy dev --port P` serves them."""
    for _ in range(20):
        base = free_port()
        try:
            servers = [serve(base, "first"), serve(base + 1, "second")]
            break
        except OSError:
            continue
    else:  # pragma: no cover - no two free consecutive ports
        pytest.skip("no two consecutive free ports")
    try:
        yield base, servers
    finally:
        for server in servers:
            server.shutdown()
            server.server_close()


PROJECT = """\
project: devchat
agents:
  first: {path: agents/first}
  second: {path: agents/second, sessions: true}
environments:
  local: {}
"""


def test_endpoint_target_json_and_stream(dev_servers: tuple[int, list[ThreadingHTTPServer]]) -> None:
    base, _ = dev_servers
    chunks: list[str] = []
    plain = EndpointTarget(f"http://127.0.0.1:{base}/").ask("hi", None, chunks.append)
    assert plain["response"] == "first: hi" and chunks == ["first: hi"]
    chunks.clear()
    streamed = EndpointTarget(f"http://127.0.0.1:{base}/stream").ask("a b c", "s-9", chunks.append)
    assert chunks == ["first: ", "a ", "b ", "c "]
    assert streamed["response"] == "first: a b c " and streamed["session_id"] == "s-9"
    assert streamed["usage"] == {"inputTokens": 3, "outputTokens": 2}


def test_endpoint_errors_say_what_to_do(dev_servers: tuple[int, list[ThreadingHTTPServer]]) -> None:
    base, _ = dev_servers
    with pytest.raises(StrandsDeployError) as failed:
        EndpointTarget(f"http://127.0.0.1:{base}/").ask("fail", None, lambda _: None)
    assert "answered 500: boom" in failed.value.what
    with pytest.raises(StrandsDeployError) as nothing:
        EndpointTarget(f"http://127.0.0.1:{free_port()}/").ask("hi", None, lambda _: None)
    assert "nothing answers" in nothing.value.what and "strands-deploy dev" in str(nothing.value.fix)


def test_conversation_keeps_the_session_and_new_forgets_it(
    dev_servers: tuple[int, list[ThreadingHTTPServer]],
) -> None:
    base, servers = dev_servers
    ticks = iter([0.0, 1.5, 2.0, 2.25, 3.0, 3.5])
    conversation = Conversation(EndpointTarget(f"http://127.0.0.1:{base}/"), clock=lambda: next(ticks))
    first = conversation.send("one", lambda _: None)
    conversation.send("two", lambda _: None)
    assert first.seconds == 1.5
    seen = servers[0].RequestHandlerClass.seen  # type: ignore[attr-defined]
    assert "session_id" not in seen[0] and seen[1]["session_id"] == first.answer["session_id"]
    conversation.new()
    conversation.send("three", lambda _: None)
    assert "session_id" not in seen[2]
    assert turn_details(first) == "tools: lookup×2 · tokens: 3 in, 2 out · 1.5s"


def test_read_events_without_a_final_event_joins_the_chunks() -> None:
    lines = [
        b'data: {"text": "he"}\n',
        b"\n",
        b": a comment\n",
        b'data: {"text": "llo"}\n',
        b"data: not json\n",
    ]
    got: list[str] = []
    assert read_events(lines, got.append) == {"response": "hello"}
    assert got == ["he", "llo"]
    assert turn_details(Turn({"usage": {"totalTokens": 7}}, 0.25)) == "tokens: 7 · 0.2s"


def test_chat_dev_talks_to_the_agents_port(
    dev_servers: tuple[int, list[ThreadingHTTPServer]],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    base, servers = dev_servers
    root = write_project(tmp_path / "p", PROJECT, agents={"first": AGENT_NO_LAYER, "second": AGENT_NO_LAYER})
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO("hello\nstream this\n"))
    main(["-C", str(root), "chat", "second", "--dev", "--port", str(base)])
    out = capsys.readouterr()
    assert out.out.splitlines() == ["second: hello", "second: stream this "]
    assert out.err.count("tools: lookup×2") == 2
    seen = servers[1].RequestHandlerClass.seen  # type: ignore[attr-defined]
    assert [s["prompt"] for s in seen] == ["hello", "stream this"]
    assert seen[1]["session_id"] == "s-1"  # the agent keeps sessions: the first answer's id is sent


def test_chat_dev_when_nothing_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: Any
) -> None:
    root = write_project(tmp_path / "p", PROJECT, agents={"first": AGENT_NO_LAYER, "second": AGENT_NO_LAYER})
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO("hello\n"))
    with pytest.raises(SystemExit) as done:
        main(["-C", str(root), "chat", "first", "--dev", "--port", str(free_port()), "--json"])
    assert done.value.code == 1
    error = json.loads(capsys.readouterr().out)["error"]
    assert "nothing answers" in error["what"]


def test_turn_details_name_the_tools_of_the_turn() -> None:
    answer = {
        "tools": [
            {"name": "lookup", "status": "success", "duration_ms": 5},
            {"name": "refund", "status": "error"},
        ],
        "tool_errors": [{"tool": "refund", "error": "ValueError: no"}],
        "usage": {"inputTokens": 10, "outputTokens": 4},
    }
    assert turn_details(Turn(answer, 2.0)) == (
        "tools: lookup, refund (error) · failed: refund · tokens: 10 in, 4 out · 2.0s"
    )


@pytest.mark.slow
def test_chat_dev_against_a_running_dev_server(tmp_path: Path) -> None:
    """`dev --offline --json` serves an agent that echoes its session's turns; `chat --dev`
    keeps one session across the piped lines."""
    import signal

    from tests.cli.test_dev import DevProcess, agent_source, free_ports
    from tests.cli.test_dev import write_project as write_dev_project
    from tests.conftest import BIN, stop_process

    write_dev_project(tmp_path, {"alpha": {"source": agent_source(None), "sessions": True}})
    port = free_ports(1)
    dev = DevProcess(tmp_path, "--port", str(port), "--json")
    try:
        out = dev.wait_output(lambda o: '"event": "ready"' in o)
        ready = json.loads(next(line for line in out.splitlines() if '"event": "ready"' in line))
        assert ready == {"event": "ready", "agent": "alpha", "url": f"http://127.0.0.1:{port}/", "ok": True}
        import subprocess

        chat = subprocess.run(
            [str(BIN), "-C", str(tmp_path), "chat", "alpha", "--dev", "--port", str(port)],
            input="one\ntwo\n",
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, "NO_COLOR": "1"},
        )
        assert chat.returncode == 0, chat.stderr
        assert chat.stdout.splitlines() == ["one", "one | two"]
        dev.wait_output(lambda o: '"event": "log"' in o)  # the requests, as JSON lines
        dev.proc.send_signal(signal.SIGTERM)
        assert dev.proc.wait(timeout=30) == 0, dev.output
    finally:
        stop_process(dev.proc)  # type: ignore[arg-type]
