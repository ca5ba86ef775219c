"""The runtime adapter, called in-process the way Lambda calls it, on a real strands Agent."""

from __future__ import annotations

import ast
import base64
import json
import sys
import textwrap
import uuid
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from strands_deploy.runtime import adapter
from strands_deploy.runtime.adapter import handler
from tests.unit.runtime.scripted import texts

ADAPTER_FILE = Path(adapter.__file__)

HEADER = """\
from strands import Agent, tool
from tests.unit.runtime.scripted import ScriptedModel
"""


class AgentDir:
    def __init__(self, root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.root = root
        self.monkeypatch = monkeypatch
        monkeypatch.setenv("LAMBDA_TASK_ROOT", str(root))
        monkeypatch.setenv("STRANDS_AGENT_NAME", "assistant")
        self.entry("agent.py:agent")

    def entry(self, entry: str) -> None:
        # A new entry value gives a new Runtime (fresh import), like a new container.
        self.monkeypatch.setenv("STRANDS_ENTRY", entry)

    def write(self, body: str, name: str = "agent.py", header: bool = True) -> Path:
        path = self.root / name
        path.write_text((HEADER if header else "") + textwrap.dedent(body))
        return path

    def module(self, name: str = "agent") -> Any:
        return sys.modules[name]


@pytest.fixture
def agent_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AgentDir:
    monkeypatch.delenv("STRANDS_SESSIONS_BUCKET", raising=False)
    monkeypatch.delenv("STRANDS_SESSIONS_DIR", raising=False)
    # tmp_path is unique per test, so every test gets its own Runtime.
    return AgentDir(tmp_path, monkeypatch)


def url_event(body: Any, *, method: str = "POST", b64: bool = False) -> dict[str, Any]:
    raw = body if isinstance(body, str) else json.dumps(body)
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": "/",
        "rawQueryString": "",
        "headers": {"content-type": "application/json"},
        "requestContext": {
            "http": {"method": method, "path": "/", "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1"},
            "requestId": "req-from-url",
        },
        "body": base64.b64encode(raw.encode()).decode() if b64 else raw,
        "isBase64Encoded": b64,
    }


def log_lines(out: str) -> list[dict[str, Any]]:
    lines = []
    for line in out.splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict) and record.get("msg") == "request":
            lines.append(record)
    return lines


def test_direct_invoke_answers_and_logs_one_json_line(
    agent_dir: AgentDir, capsys: pytest.CaptureFixture[str]
) -> None:
    agent_dir.write(
        """
        model = ScriptedModel(["Hello there!"])
        agent = Agent(model=model, system_prompt="Be brief.", callback_handler=None)
        """
    )
    out = handler({"prompt": "Hi"}, SimpleNamespace(aws_request_id="req-1"))

    assert out["response"] == "Hello there!"
    assert out["stop_reason"] == "end_turn"
    assert out["usage"]["inputTokens"] == 10 and out["usage"]["outputTokens"] == 5
    uuid.UUID(out["session_id"])  # generated
    call = agent_dir.module().model.calls[0]
    assert call["system_prompt"] == "Be brief."
    assert texts(call["messages"]) == ["Hi"]

    records = log_lines(capsys.readouterr().out)
    assert len(records) == 1
    rec = records[0]
    assert rec["level"] == "INFO"
    assert rec["request_id"] == "req-1"
    assert rec["session_id"] == out["session_id"]
    assert rec["agent"] == "assistant"
    assert rec["stop_reason"] == "end_turn"
    assert rec["usage"]["totalTokens"] == 15
    assert isinstance(rec["duration_ms"], float)


def test_given_session_id_is_returned(agent_dir: AgentDir) -> None:
    agent_dir.write("agent = Agent(model=ScriptedModel(), callback_handler=None)\n")
    out = handler({"prompt": "Hi", "session_id": "user-42"})
    assert out["session_id"] == "user-42"


def test_tools_run_and_usage_covers_every_model_call(agent_dir: AgentDir) -> None:
    agent_dir.write(
        """
        @tool
        def add(a: int, b: int) -> int:
            \"\"\"Add two integers.\"\"\"
            return a + b

        model = ScriptedModel([{"tool": "add", "input": {"a": 2, "b": 3}}, "It is 5."])
        agent = Agent(model=model, tools=[add], callback_handler=None)
        """
    )
    out = handler({"prompt": "2+3?"})
    assert out["response"] == "It is 5."
    model = agent_dir.module().model
    assert model.calls[0]["tools"] == ["add"]
    tool_result = model.calls[1]["messages"][-1]["content"][0]["toolResult"]
    assert tool_result["content"][0]["text"] == "5"
    assert out["usage"]["inputTokens"] == 20  # two model calls in this request


def test_each_request_gets_a_fresh_agent_without_sessions(agent_dir: AgentDir) -> None:
    agent_dir.write(
        """
        model = ScriptedModel()
        agent = Agent(model=model, callback_handler=None, messages=[
            {"role": "user", "content": [{"text": "preloaded question"}]},
            {"role": "assistant", "content": [{"text": "preloaded answer"}]},
        ])
        """
    )
    handler({"prompt": "first secret"})
    handler({"prompt": "second"})
    module = agent_dir.module()
    calls = module.model.calls
    assert texts(calls[1]["messages"]) == ["preloaded question", "preloaded answer", "second"]
    assert len(module.agent.messages) == 2  # the template itself is never used for a conversation


def test_function_url_event(agent_dir: AgentDir) -> None:
    agent_dir.write("agent = Agent(model=ScriptedModel(['from url']), callback_handler=None)\n")
    out = handler(url_event({"prompt": "Hi", "session_id": "abc"}))
    assert out["statusCode"] == 200
    assert out["headers"]["content-type"] == "application/json"
    assert out["headers"]["x-strands-session-id"] == "abc"
    body = json.loads(out["body"])
    assert body["response"] == "from url"
    assert body["session_id"] == "abc"
    assert body["stop_reason"] == "end_turn"


def test_function_url_event_with_base64_body(agent_dir: AgentDir, capsys: pytest.CaptureFixture[str]) -> None:
    agent_dir.write("agent = Agent(model=ScriptedModel(['decoded']), callback_handler=None)\n")
    out = handler(url_event({"prompt": "Grüße"}, b64=True))
    assert out["statusCode"] == 200, out
    assert json.loads(out["body"])["response"] == "decoded"
    assert texts(agent_dir.module().agent.model.calls[0]["messages"]) == ["Grüße"]
    assert log_lines(capsys.readouterr().out)[0]["request_id"] == "req-from-url"


@pytest.mark.parametrize(
    ("payload", "needle"),
    [
        ({}, 'missing "prompt"'),
        ({"prompt": 42}, '"prompt" must be a string'),
        ({"prompt": ["a"]}, '"prompt" must be a string'),
        ({"prompt": "   "}, '"prompt" is empty'),
        ({"prompt": "hi", "session_id": 7}, '"session_id" must be a string'),
        ({"prompt": "hi", "session_id": "../etc"}, '"session_id" must be 1-128 characters'),
        ("just text", "JSON object"),
    ],
)
def test_bad_direct_requests_are_400_with_a_message(agent_dir: AgentDir, payload: Any, needle: str) -> None:
    agent_dir.write("agent = Agent(model=ScriptedModel(), callback_handler=None)\n")
    out = handler(payload)
    assert out["status"] == 400
    assert needle in out["error"]
    assert "Traceback" not in json.dumps(out)


@pytest.mark.parametrize(
    ("event", "status", "needle"),
    [
        (url_event({"message": "hi"}), 400, 'missing "prompt"'),
        (url_event({"prompt": None}), 400, 'missing "prompt"'),
        (url_event({"prompt": {"text": "x"}}), 400, "must be a string"),
        (url_event("{not json"), 400, "not valid JSON"),
        (url_event("[1, 2]"), 400, "JSON object"),
        (url_event(""), 400, "empty body"),
        (url_event({"prompt": "hi"}, method="GET"), 405, "use POST"),
    ],
)
def test_bad_http_requests(agent_dir: AgentDir, event: dict[str, Any], status: int, needle: str) -> None:
    agent_dir.write("agent = Agent(model=ScriptedModel(), callback_handler=None)\n")
    out = handler(event)
    assert out["statusCode"] == status
    body = json.loads(out["body"])
    assert needle in body["error"]
    assert "Traceback" not in out["body"]


def test_syntax_error_is_a_500_with_file_and_line(
    agent_dir: AgentDir, capsys: pytest.CaptureFixture[str]
) -> None:
    agent_dir.write(
        "import os\n\nagent = Agent(model=ScriptedModel(\n\ndef broken(:\n    pass\n", header=False
    )
    out = handler({"prompt": "hi"})
    assert out["status"] == 500
    assert out["error"].startswith("SyntaxError")
    assert out["file"] == "agent.py"
    assert out["line"] in (3, 5)

    http = handler(url_event({"prompt": "hi"}))  # the container keeps answering
    assert http["statusCode"] == 500
    assert json.loads(http["body"])["file"] == "agent.py"
    records = log_lines(capsys.readouterr().out)
    assert [r["level"] for r in records] == ["ERROR", "ERROR"]


def test_exception_at_import_points_at_the_users_line(agent_dir: AgentDir) -> None:
    agent_dir.write('import json\n\nconfig = json.loads("{}")\nvalue = config["missing_key"]\n', header=False)
    out = handler({"prompt": "hi"})
    assert out["status"] == 500
    assert "KeyError" in out["error"] and "missing_key" in out["error"]
    assert (out["file"], out["line"]) == ("agent.py", 4)


def test_error_in_an_imported_sibling_module_points_there(agent_dir: AgentDir) -> None:
    agent_dir.write("X = 1\nraise RuntimeError('bad helper')\n", name="helpers_broken_mod.py", header=False)
    agent_dir.write("import helpers_broken_mod\nagent = None\n", header=False)
    out = handler({"prompt": "hi"})
    assert out["status"] == 500
    assert "bad helper" in out["error"]
    assert (out["file"], out["line"]) == ("helpers_broken_mod.py", 2)


def test_missing_entry_symbol_and_file(agent_dir: AgentDir) -> None:
    agent_dir.write("my_agent = Agent(model=ScriptedModel(), callback_handler=None)\n")
    out = handler({"prompt": "hi"})
    assert out["status"] == 500 and "defines no 'agent'" in out["error"]

    agent_dir.entry("nope.py:agent")
    out = handler({"prompt": "hi"})
    assert out["status"] == 500 and "nope.py not found" in out["error"]


def test_entry_that_is_not_an_agent(agent_dir: AgentDir) -> None:
    agent_dir.write("agent = 'a string'\n")
    out = handler({"prompt": "hi"})
    assert out["status"] == 500
    assert "not a strands Agent" in out["error"]


def test_factory_without_session_manager_is_called_once(agent_dir: AgentDir) -> None:
    agent_dir.write(
        """
        CALLS = []
        model = ScriptedModel(default="from factory")

        def make():
            CALLS.append(1)
            return Agent(model=model, callback_handler=None)
        """
    )
    agent_dir.entry("agent.py:make")
    assert handler({"prompt": "a"})["response"] == "from factory"
    handler({"prompt": "b"})
    module = agent_dir.module()
    assert module.CALLS == [1]
    assert texts(module.model.calls[1]["messages"]) == ["b"]  # still a fresh conversation


def test_factory_with_session_manager_is_called_per_request(agent_dir: AgentDir) -> None:
    agent_dir.write(
        """
        SEEN = []
        model = ScriptedModel(default="per request")

        def make(session_manager=None):
            SEEN.append(session_manager)
            return Agent(model=model, callback_handler=None, session_manager=session_manager)
        """
    )
    agent_dir.entry("agent.py:make")
    handler({"prompt": "a"})
    handler({"prompt": "b"})
    assert agent_dir.module().SEEN == [None, None]  # sessions are off


def test_factory_returning_something_else_is_a_500(agent_dir: AgentDir) -> None:
    agent_dir.write("def make(**kwargs):\n    return 42\n")
    agent_dir.entry("agent.py:make")
    out = handler({"prompt": "a"})
    assert out["status"] == 500 and "not a strands Agent" in out["error"]


def test_failing_model_is_a_500_without_a_stack_trace_in_the_answer(
    agent_dir: AgentDir, capsys: pytest.CaptureFixture[str]
) -> None:
    agent_dir.write(
        """
        from strands.agent.agent import ModelRetryStrategy

        def explode(messages):
            raise ValueError("model is down")

        agent = Agent(model=ScriptedModel([explode]), callback_handler=None,
                      retry_strategy=ModelRetryStrategy(max_attempts=1))
        """
    )
    out = handler(url_event({"prompt": "hi"}))
    assert out["statusCode"] == 500
    body = json.loads(out["body"])
    assert "model is down" in body["error"]
    assert "Traceback" not in out["body"]
    record = log_lines(capsys.readouterr().out)[0]
    assert record["level"] == "ERROR" and "Traceback" in record["traceback"]


def test_sessions_in_a_folder_remember_per_session(
    agent_dir: AgentDir, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STRANDS_SESSIONS_DIR", str(tmp_path_factory.mktemp("sessions")))
    agent_dir.write("model = ScriptedModel()\nagent = Agent(model=model, callback_handler=None)\n")
    handler({"prompt": "my name is Ada", "session_id": "s1"})
    handler({"prompt": "what is my name?", "session_id": "s1"})
    handler({"prompt": "who am I?", "session_id": "s2"})
    calls = agent_dir.module().model.calls
    assert texts(calls[1]["messages"]) == ["my name is Ada", "ok", "what is my name?"]
    assert texts(calls[2]["messages"]) == ["who am I?"]


def test_adapter_is_standalone() -> None:
    """It is shipped alone as _strands_runtime.py: stdlib, boto3 and strands only (and mangum,
    imported only inside a function, for ASGI apps)."""
    tree = ast.parse(ADAPTER_FILE.read_text())
    roots: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, "no relative imports"
            roots.add((node.module or "").split(".")[0])
    allowed = set(sys.stdlib_module_names) | {"boto3", "strands", "mangum"}
    assert roots <= allowed, roots - allowed
    top_level = {
        (n.module or "").split(".")[0] if isinstance(n, ast.ImportFrom) else n.names[0].name.split(".")[0]
        for n in tree.body
        if isinstance(n, (ast.Import, ast.ImportFrom))
    }
    assert "mangum" not in top_level, "mangum is imported lazily, for ASGI apps only"


def test_runs_as_the_packaged_file_in_a_fresh_interpreter(tmp_path: Path) -> None:
    """The zip layout: _strands_runtime.py next to the user's code; the entry imported at cold start."""
    import os
    import shutil
    import subprocess

    from tests.unit.runtime.scripted import INLINE_MODEL

    shutil.copy(ADAPTER_FILE, tmp_path / "_strands_runtime.py")
    (tmp_path / "agent.py").write_text(
        "from strands import Agent\nREPLY = 'packaged'\n"
        + INLINE_MODEL
        + "\nagent = Agent(model=FixedModel(), callback_handler=None)\n"
    )
    script = (
        "import json, sys, time\n"
        "t = time.monotonic()\n"
        "import _strands_runtime as rt\n"
        "assert rt.current_runtime()._loaded, 'entry not imported at cold start'\n"
        "print('RESULT ' + json.dumps(rt.handler({'prompt': 'hi'})))\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STRANDS_", "LAMBDA_", "PYTHONPATH"))}
    env.update(
        STRANDS_ENTRY="agent.py:agent",
        STRANDS_AGENT_NAME="packaged",
        LAMBDA_TASK_ROOT=str(tmp_path),
        AWS_LAMBDA_FUNCTION_NAME="fn",
    )
    proc = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    result = next(line for line in proc.stdout.splitlines() if line.startswith("RESULT "))
    assert json.loads(result[len("RESULT ") :])["response"] == "packaged"
    assert log_lines(proc.stdout)[0]["agent"] == "packaged"


def sqs_event(*bodies: str) -> dict[str, Any]:
    return {
        "Records": [
            {"messageId": f"m{i}", "eventSource": "aws:sqs", "body": body, "messageAttributes": {}}
            for i, body in enumerate(bodies)
        ]
    }


def test_queue_messages_are_prompts_and_failures_are_retried(agent_dir: AgentDir) -> None:
    agent_dir.write(
        """
        model = ScriptedModel(["first", "second"])
        agent = Agent(model=model, callback_handler=None)
        """
    )
    out = handler(sqs_event(json.dumps({"prompt": "json prompt", "session_id": "s-1"}), "plain text prompt"))
    assert [a["response"] for a in out["answers"]] == ["first", "second"]
    assert out["answers"][0]["session_id"] == "s-1"
    calls = agent_dir.module().model.calls
    assert [texts(c["messages"])[-1] for c in calls] == ["json prompt", "plain text prompt"]

    # an agent that cannot answer raises, so Lambda retries the message (and, in the end, the DLQ)
    agent_dir.write("raise RuntimeError('boom at import')\n", name="broken.py", header=False)
    agent_dir.entry("broken.py:agent")
    with pytest.raises(adapter.AgentError, match="m0: .*boom at import"):
        handler(sqs_event("hello"))
