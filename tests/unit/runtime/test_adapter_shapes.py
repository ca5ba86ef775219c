"""Real agents deploy unchanged: every shape of entry a Strands project uses, through the adapter.

Lambda handlers, ASGI apps (a real FastAPI app through Mangum), structured output, a custom
callback handler, prints without a newline, tools that raise, and import errors in helper modules.
"""

from __future__ import annotations

import io
import json
import sys
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from strands_deploy.runtime import adapter
from strands_deploy.runtime.adapter import handler
from tests.unit.runtime.scripted import texts
from tests.unit.runtime.test_adapter import AgentDir, log_lines, url_event


@pytest.fixture
def agent_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[AgentDir]:
    monkeypatch.delenv("STRANDS_SESSIONS_BUCKET", raising=False)
    monkeypatch.delenv("STRANDS_SESSIONS_DIR", raising=False)
    monkeypatch.delenv("STRANDS_TRIGGERS", raising=False)
    yield AgentDir(tmp_path, monkeypatch)
    # helper packages of the agent folder (tools/...) must not leak into the next test's imports
    root = str(tmp_path)
    for name, module in list(sys.modules.items()):
        if str(getattr(module, "__file__", None) or "").startswith(root) or _namespace_under(module, root):
            del sys.modules[name]


def _namespace_under(module: Any, root: str) -> bool:
    paths = getattr(module, "__path__", None)
    try:
        return paths is not None and any(str(p).startswith(root) for p in paths)
    except TypeError:
        return False


def records(out: str, msg: str) -> list[dict[str, Any]]:
    found = []
    for line in out.splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict) and record.get("msg") == msg:
            found.append(record)
    return found


def line_of(path: Path, needle: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if needle in line)


CONTEXT = SimpleNamespace(aws_request_id="req-9", function_name="fn")


# -- 1. Lambda handler entries --------------------------------------------------------------------


def test_sync_lambda_handler_gets_every_event_as_is(
    agent_dir: AgentDir, capsys: pytest.CaptureFixture[str]
) -> None:
    agent_dir.write(
        """
        SEEN = []

        def handler(event, context):
            SEEN.append((event, context))
            return {"statusCode": 201, "body": "custom", "echo": event, "rid": context.aws_request_id}
        """,
        header=False,
    )
    agent_dir.entry("agent.py:handler")
    direct = {"prompt": "hi", "session_id": "s"}
    assert handler(direct, CONTEXT) == {"statusCode": 201, "body": "custom", "echo": direct, "rid": "req-9"}

    http = url_event({"prompt": "hi"})
    assert handler(http, CONTEXT)["echo"] == http  # not parsed, not wrapped

    queue = {"Records": [{"eventSource": "aws:sqs", "body": "x", "messageId": "m1"}]}
    assert handler(queue, CONTEXT)["echo"] == queue  # a handler sees trigger events raw, too
    assert [e for e, _ in agent_dir.module().SEEN] == [direct, http, queue]
    assert all(c is CONTEXT for _, c in agent_dir.module().SEEN)

    lines = log_lines(capsys.readouterr().out)
    assert [(r["level"], r["status"], r["request_id"]) for r in lines] == [("INFO", 200, "req-9")] * 3
    assert all(isinstance(r["duration_ms"], float) for r in lines)


def test_lambda_handler_returning_anything(agent_dir: AgentDir) -> None:
    agent_dir.write("def lambda_handler(event, context=None):\n    return 'plain text'\n", header=False)
    agent_dir.entry("agent.py:lambda_handler")
    assert handler({"anything": 1}) == "plain text"


def test_async_lambda_handler_runs_with_asyncio(agent_dir: AgentDir) -> None:
    agent_dir.write(
        """
        import asyncio

        async def handler(event, context):
            await asyncio.sleep(0)
            return [event.get("prompt"), asyncio.get_running_loop() is not None]
        """,
        header=False,
    )
    agent_dir.entry("agent.py:handler")
    assert handler({"prompt": "a"}, CONTEXT) == ["a", True]
    assert handler(url_event({"prompt": "b"}), CONTEXT) == [None, True]


def test_lambda_handler_exception_propagates_after_one_error_line(
    agent_dir: AgentDir, capsys: pytest.CaptureFixture[str]
) -> None:
    path = agent_dir.write(
        """
        def handler(event, context):
            order = event["order"]
            raise ValueError(f"order {order} is not valid")
        """,
        header=False,
    )
    agent_dir.entry("agent.py:handler")
    with pytest.raises(ValueError, match="order 7 is not valid"):
        handler({"order": 7}, CONTEXT)
    [rec] = log_lines(capsys.readouterr().out)
    assert rec["level"] == "ERROR" and rec["status"] == 500 and rec["request_id"] == "req-9"
    assert rec["error"] == "ValueError: order 7 is not valid"
    assert (rec["file"], rec["line"]) == ("agent.py", line_of(path, "raise ValueError"))
    assert "Traceback" in rec["traceback"] and "order 7 is not valid" in rec["traceback"]


def test_factory_is_not_mistaken_for_a_lambda_handler(agent_dir: AgentDir) -> None:
    agent_dir.write(
        """
        def make(session_manager=None):
            return Agent(model=ScriptedModel(["factory"]), callback_handler=None)
        """
    )
    agent_dir.entry("agent.py:make")
    assert handler({"prompt": "hi"})["response"] == "factory"


# -- 2. ASGI apps ------------------------------------------------------------------------------------

FASTAPI_APP = """
from fastapi import FastAPI, Response
from pydantic import BaseModel

app = FastAPI()


class Chat(BaseModel):
    prompt: str


@app.post("/chat")
def chat(req: Chat, response: Response):
    response.headers["x-app"] = "yes"
    return {"answer": req.prompt.upper()}


@app.get("/boom")
def boom():
    raise RuntimeError("app bug")
"""


def http_v1_event(path: str, body: Any, method: str = "POST") -> dict[str, Any]:
    """An HTTP API (payload format 1.0) event, as in the AWS docs."""
    return {
        "version": "1.0",
        "resource": path,
        "path": path,
        "httpMethod": method,
        "headers": {"content-type": "application/json", "host": "abc.execute-api.us-east-1.amazonaws.com"},
        "multiValueHeaders": {
            "content-type": ["application/json"],
            "host": ["abc.execute-api.us-east-1.amazonaws.com"],
        },
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abc",
            "httpMethod": method,
            "identity": {"sourceIp": "192.0.2.1"},
            "path": path,
            "requestId": "v1-req",
            "resourcePath": path,
            "stage": "$default",
        },
        "pathParameters": None,
        "stageVariables": None,
        "body": json.dumps(body),
        "isBase64Encoded": False,
    }


def url_v2_event(path: str, body: Any, method: str = "POST") -> dict[str, Any]:
    event = url_event(body, method=method)
    event["rawPath"] = path
    event["requestContext"]["http"]["path"] = path
    event["headers"]["host"] = "abc.lambda-url.us-east-1.on.aws"
    return event


def test_fastapi_app_through_a_function_url_event(
    agent_dir: AgentDir, capsys: pytest.CaptureFixture[str]
) -> None:
    agent_dir.write(FASTAPI_APP, header=False)
    agent_dir.entry("agent.py:app")
    out = handler(url_v2_event("/chat", {"prompt": "hello"}))
    assert out["statusCode"] == 200
    assert out["headers"]["content-type"] == "application/json"
    assert out["headers"]["x-app"] == "yes"
    assert json.loads(out["body"]) == {"answer": "HELLO"}

    missing = handler(url_v2_event("/nope", {}))
    assert missing["statusCode"] == 404
    [ok, not_found] = log_lines(capsys.readouterr().out)
    assert (ok["status"], ok["level"], ok["request_id"]) == (200, "INFO", "req-from-url")
    assert not_found["status"] == 404


def test_fastapi_app_through_an_http_api_v1_event(agent_dir: AgentDir) -> None:
    agent_dir.write(FASTAPI_APP, header=False)
    agent_dir.entry("agent.py:app")
    out = handler(http_v1_event("/chat", {"prompt": "v1"}))
    assert out["statusCode"] == 200
    assert out["headers"]["content-type"] == "application/json"
    assert out["headers"]["x-app"] == "yes"
    assert json.loads(out["body"]) == {"answer": "V1"}
    assert out["isBase64Encoded"] is False


def test_asgi_app_error_is_a_500_logged_at_the_users_line(
    agent_dir: AgentDir, capsys: pytest.CaptureFixture[str]
) -> None:
    path = agent_dir.write(FASTAPI_APP, header=False)
    agent_dir.entry("agent.py:app")
    out = handler(url_v2_event("/boom", None, method="GET"))
    assert out["statusCode"] == 500
    [rec] = log_lines(capsys.readouterr().out)
    assert rec["level"] == "ERROR" and rec["status"] == 500
    assert (rec["file"], rec["line"]) == ("agent.py", line_of(path, 'raise RuntimeError("app bug")'))
    assert "RuntimeError: app bug" in rec["error"]


def test_plain_asgi_function_is_an_app(agent_dir: AgentDir) -> None:
    agent_dir.write(
        """
        async def app(scope, receive, send):
            await send({"type": "http.response.start", "status": 202, "headers": [[b"content-type", b"text/plain"]]})
            await send({"type": "http.response.body", "body": scope["path"].encode()})
        """,
        header=False,
    )
    agent_dir.entry("agent.py:app")
    out = handler(url_v2_event("/raw", None, method="GET"))
    assert (out["statusCode"], out["body"]) == (202, "/raw")


def test_direct_invoke_to_an_asgi_app_is_a_clear_400(agent_dir: AgentDir) -> None:
    agent_dir.write(FASTAPI_APP, header=False)
    agent_dir.entry("agent.py:app")
    out = handler({"prompt": "hi"})
    assert out["status"] == 400
    assert "HTTP app" in out["error"] and "URL" in out["error"]


def test_asgi_app_without_mangum_installed_is_a_500_saying_what_to_add(
    agent_dir: AgentDir, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "mangum", None)  # import mangum -> ImportError
    agent_dir.write(FASTAPI_APP, header=False)
    agent_dir.entry("agent.py:app")
    out = handler(url_v2_event("/chat", {"prompt": "x"}))
    assert out["statusCode"] == 500
    error = json.loads(out["body"])["error"]
    assert "mangum" in error and "requirements.txt" in error


def test_runtime_handle_serves_asgi_apps_from_worker_threads(agent_dir: AgentDir) -> None:
    """`strands-deploy dev` calls Runtime.handle from a thread per request (no event loop there)."""
    agent_dir.write(FASTAPI_APP, header=False)
    agent_dir.entry("agent.py:app")
    runtime = adapter.current_runtime()
    results: list[Any] = []
    threads = [
        threading.Thread(
            target=lambda i=i: results.append(runtime.handle(url_v2_event("/chat", {"prompt": f"t{i}"})))
        )
        for i in range(3)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(json.loads(r["body"])["answer"] for r in results) == ["T0", "T1", "T2"]


# -- 3. structured output -------------------------------------------------------------------------

STRUCTURED = """
import datetime
from pydantic import BaseModel


class Forecast(BaseModel):
    city: str
    high_c: float
    day: datetime.date


model = ScriptedModel(default={"tool": "Forecast", "input": {"city": "Paris", "high_c": 21.5, "day": "2024-06-01"}})
"""


def test_structured_output_is_a_json_object_in_the_answer(
    agent_dir: AgentDir, capsys: pytest.CaptureFixture[str]
) -> None:
    agent_dir.write(
        STRUCTURED + "agent = Agent(model=model, structured_output_model=Forecast, callback_handler=None)\n"
    )
    out = handler({"prompt": "Weather in Paris?"})
    assert out["structured"] == {"city": "Paris", "high_c": 21.5, "day": "2024-06-01"}
    assert out["stop_reason"] == "end_turn"
    assert isinstance(out["response"], str)
    assert log_lines(capsys.readouterr().out)[0]["stop_reason"] == "end_turn"

    http = handler(url_event({"prompt": "again"}))
    assert json.loads(http["body"])["structured"]["city"] == "Paris"


def test_structured_output_from_a_factory_agent(agent_dir: AgentDir) -> None:
    agent_dir.write(
        STRUCTURED
        + """
def make(session_manager=None):
    return Agent(model=model, structured_output_model=Forecast, callback_handler=None)
"""
    )
    agent_dir.entry("agent.py:make")
    assert handler({"prompt": "x"})["structured"]["high_c"] == 21.5


def test_plain_answers_have_no_structured_field(agent_dir: AgentDir) -> None:
    agent_dir.write("agent = Agent(model=ScriptedModel(['text']), callback_handler=None)\n")
    out = handler({"prompt": "hi"})
    assert "structured" not in out and "tool_errors" not in out


# -- 4. custom callback handler ------------------------------------------------------------------


def test_custom_callback_handler_is_kept(agent_dir: AgentDir) -> None:
    agent_dir.write(
        """
        EVENTS = []

        def record(**kwargs):
            if "data" in kwargs:
                EVENTS.append(kwargs["data"])

        agent = Agent(model=ScriptedModel(default="streamed answer"), callback_handler=record)
        """
    )
    handler({"prompt": "hi"})
    handler({"prompt": "again"})
    assert agent_dir.module().EVENTS == ["streamed answer", "streamed answer"]


def test_callable_object_callback_handler_is_kept(agent_dir: AgentDir) -> None:
    agent_dir.write(
        """
        class Recorder:
            def __init__(self):
                self.calls = 0

            def __call__(self, **kwargs):
                self.calls += 1

        recorder = Recorder()
        agent = Agent(model=ScriptedModel(["x"]), callback_handler=recorder)
        """
    )
    handler({"prompt": "hi"})
    assert agent_dir.module().recorder.calls > 0


def test_default_printing_handler_is_still_dropped(
    agent_dir: AgentDir, capsys: pytest.CaptureFixture[str]
) -> None:
    agent_dir.write("agent = Agent(model=ScriptedModel(['do not print me']))\n")
    assert handler({"prompt": "hi"})["response"] == "do not print me"
    assert "do not print me" not in capsys.readouterr().out


# -- 5. one JSON line per request, never glued to a print ----------------------------------------


def test_json_line_is_never_glued_to_a_print_without_newline(
    agent_dir: AgentDir, capsys: pytest.CaptureFixture[str]
) -> None:
    agent_dir.write(
        """
        def echo(**kwargs):
            if "data" in kwargs:
                print("echo: " + kwargs["data"], end="")

        agent = Agent(model=ScriptedModel(default="streamed"), callback_handler=echo)
        """
    )
    handler({"prompt": "one"}, SimpleNamespace(aws_request_id="r1"))
    handler({"prompt": "two"}, SimpleNamespace(aws_request_id="r2"))
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == lines[2] == "echo: streamed"
    assert [json.loads(lines[i])["request_id"] for i in (1, 3)] == ["r1", "r2"]
    assert len(lines) == 4


def test_line_tracking_stdout_is_thread_safe() -> None:
    inner = io.StringIO()
    out = adapter._LineTrackingStdout(inner)

    def worker(i: int) -> None:
        for _ in range(50):
            out.write(f"partial {i}")
            out.write_record(json.dumps({"msg": "request", "n": i}))

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    lines = inner.getvalue().splitlines()
    records = [json.loads(line) for line in lines if line.startswith("{")]
    assert len(records) == 200
    assert all(line.startswith("{") or "{" not in line for line in lines)


def test_stdout_wrapper_is_installed_once_and_delegates(capsys: pytest.CaptureFixture[str]) -> None:
    first = adapter._stdout()
    assert adapter._stdout() is first is sys.stdout
    assert first.encoding == sys.__stdout__.encoding or isinstance(first.encoding, str)
    print("x", end="")
    adapter._log({"msg": "hello"})
    assert capsys.readouterr().out == 'x\n{"msg":"hello"}\n'


# -- 6. tool errors -------------------------------------------------------------------------------

CARDS_TOOL = """
from strands import tool


@tool
def lookup_card(card: str) -> str:
    \"\"\"Look up a card.\"\"\"
    raise LookupError(f"no card {card}")
"""


def test_tool_exception_is_logged_counted_and_returned(
    agent_dir: AgentDir, capsys: pytest.CaptureFixture[str]
) -> None:
    (agent_dir.root / "tools").mkdir()
    cards = agent_dir.write(CARDS_TOOL, name="tools/cards.py", header=False)
    agent_dir.write(
        """
        from tools.cards import lookup_card

        model = ScriptedModel([{"tool": "lookup_card", "input": {"card": "x9"}}, "Sorry, no such card."])
        agent = Agent(model=model, tools=[lookup_card], callback_handler=None)
        """
    )
    out = handler({"prompt": "card x9?"}, SimpleNamespace(aws_request_id="req-t"))
    line = line_of(cards, "raise LookupError")
    assert out["response"] == "Sorry, no such card."
    assert out["tool_errors"] == [
        {"tool": "lookup_card", "error": "LookupError: no card x9", "file": "tools/cards.py", "line": line}
    ]
    # the model still got the error as the tool's result
    assert "no card x9" in json.dumps(agent_dir.module().model.calls[1]["messages"][-1])

    stdout = capsys.readouterr().out
    [tool_line] = records(stdout, "tool error")
    assert tool_line["level"] == "ERROR" and tool_line["tool"] == "lookup_card"
    assert tool_line["request_id"] == "req-t"
    assert (tool_line["file"], tool_line["line"]) == ("tools/cards.py", line)
    assert f'cards.py", line {line}' in tool_line["traceback"]
    [request] = log_lines(stdout)
    assert request["tool_errors"] == 1 and request["status"] == 200


def test_tool_errors_are_collected_on_factory_agents(agent_dir: AgentDir) -> None:
    agent_dir.write(
        """
        @tool
        def divide(a: int, b: int) -> float:
            \"\"\"Divide.\"\"\"
            return a / b

        model = ScriptedModel(
            [{"tool": "divide", "input": {"a": 1, "b": 0}}, {"tool": "divide", "input": {"a": 2, "b": 0}}, "no"],
            default="done",
        )

        def make(session_manager=None):
            return Agent(model=model, tools=[divide], callback_handler=None, session_manager=session_manager)
        """
    )
    agent_dir.entry("agent.py:make")
    out = handler({"prompt": "1/0"})
    assert [e["error"] for e in out["tool_errors"]] == ["ZeroDivisionError: division by zero"] * 2
    assert {e["file"] for e in out["tool_errors"]} == {"agent.py"}
    assert "tool_errors" not in handler({"prompt": "fine"})  # a new agent: a new count


# -- 7. errors point at the user's file ------------------------------------------------------------


def test_missing_environment_variable_in_a_helper_module_points_at_it(
    agent_dir: AgentDir, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MISSING_CARDS_KEY", raising=False)
    monkeypatch.chdir(agent_dir.root)  # Lambda's working directory is the package root
    (agent_dir.root / "tools").mkdir()
    cards = agent_dir.write(
        'import os\n\n\nAPI_KEY = os.environ["MISSING_CARDS_KEY"]\n', name="tools/cards.py", header=False
    )
    agent_dir.write("from tools.cards import API_KEY\nagent = None\n", header=False)
    out = handler({"prompt": "hi"})
    assert out["status"] == 500
    assert "KeyError" in out["error"] and "MISSING_CARDS_KEY" in out["error"]
    assert (out["file"], out["line"]) == ("tools/cards.py", line_of(cards, "os.environ"))


def test_installed_packages_inside_the_agent_folder_are_not_the_users_line(agent_dir: AgentDir) -> None:
    site = agent_dir.root / ".venv" / "lib" / "python3.11" / "site-packages"
    site.mkdir(parents=True)
    (site / "vendored_lib_x.py").write_text("def connect():\n    raise ConnectionError('no network')\n")
    path = agent_dir.write(
        textwrap.dedent(
            """\
            import sys
            from pathlib import Path

            sys.path.insert(0, str(Path(__file__).parent / ".venv/lib/python3.11/site-packages"))
            import vendored_lib_x

            vendored_lib_x.connect()
            """
        ),
        header=False,
    )
    out = handler({"prompt": "hi"})
    assert (out["file"], out["line"]) == ("agent.py", line_of(path, "vendored_lib_x.connect()"))
    sys.modules.pop("vendored_lib_x", None)


def test_agent_creation_error_points_at_the_helper(
    agent_dir: AgentDir, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MISSING_MODEL_ID", raising=False)
    monkeypatch.chdir(agent_dir.root)
    helper = agent_dir.write(
        'import os\n\n\ndef model_id():\n    return os.environ["MISSING_MODEL_ID"]\n',
        name="settings_helper_x.py",
        header=False,
    )
    agent_dir.write(
        """
        import settings_helper_x

        def make(session_manager=None):
            return Agent(model=settings_helper_x.model_id(), callback_handler=None)
        """
    )
    agent_dir.entry("agent.py:make")
    out = handler({"prompt": "hi"})
    assert out["status"] == 500 and "while creating the agent" in out["error"]
    assert (out["file"], out["line"]) == ("settings_helper_x.py", line_of(helper, "os.environ"))


# -- 9. plain agents are unchanged ----------------------------------------------------------------


def test_plain_agent_answer_keys_are_unchanged(agent_dir: AgentDir) -> None:
    agent_dir.write("agent = Agent(model=ScriptedModel(['same']), callback_handler=None)\n")
    out = handler({"prompt": "hi", "session_id": "s-1"})
    assert set(out) == {"response", "session_id", "stop_reason", "usage", "tools"}
    assert out["tools"] == []  # always there, empty when the turn called no tool
    assert texts(agent_dir.module().agent.model.calls[0]["messages"]) == ["hi"]


# -- `invoke` shows the new fields ------------------------------------------------------------------


def test_invoke_renders_structured_output_and_tool_errors(capsys: pytest.CaptureFixture[str]) -> None:
    from strands_deploy.cli.invoke_cmd import render_answer

    render_answer(
        {
            "response": '{"city":"Paris"}',
            "structured": {"city": "Paris"},
            "tool_errors": [
                {
                    "tool": "lookup_card",
                    "error": "LookupError: no [card]",
                    "file": "tools/cards.py",
                    "line": 7,
                }
            ],
        },
        folder="agents/shop",
    )
    out, err = capsys.readouterr()
    assert json.loads(out) == {"city": "Paris"}  # once, as JSON: not the same text twice
    assert "tool lookup_card failed: LookupError: no [card]  at agents/shop/tools/cards.py:7" in err

    render_answer({"response": "It is sunny.", "structured": {"sky": "clear"}})
    out, _ = capsys.readouterr()
    assert out.startswith("It is sunny.\n") and json.loads(out.partition("\n")[2]) == {"sky": "clear"}

    render_answer({"response": "plain"})
    assert capsys.readouterr() == ("plain\n", "")
