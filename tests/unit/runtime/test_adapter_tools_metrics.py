"""Tool calls in every answer, and the request line as a CloudWatch Embedded Metric Format record
(``Strands/Agent`` metrics per function version), on a real strands Agent with a scripted model."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from strands_deploy.cost.actual import parse_request
from strands_deploy.local.routing import emf_metrics
from strands_deploy.runtime import adapter
from strands_deploy.runtime.adapter import handler
from tests.unit.runtime.emf import emf_problems
from tests.unit.runtime.test_adapter import AgentDir, log_lines
from tests.unit.runtime.test_adapter import agent_dir as agent_dir  # noqa: F401 - the fixture

TOOLS = """
@tool
def add(a: int, b: int) -> int:
    \"\"\"Add two integers.\"\"\"
    return a + b


@tool
def divide(a: int, b: int) -> float:
    \"\"\"Divide a by b.\"\"\"
    return a / b


model = ScriptedModel([
    {"tool": "add", "input": {"a": 2, "b": 3}},
    {"tool": "divide", "input": {"a": 1, "b": 0}},
    {"tool": "missing", "input": {}},
    "done",
])
agent = Agent(model=model, tools=[add, divide], callback_handler=None)
"""

ARN = "arn:aws:lambda:us-east-1:123456789012:function:support-fn"


def lambda_context(version: str | None = "7", qualifier: str = "live", name: str = "support-fn") -> Any:
    ctx = SimpleNamespace(
        aws_request_id="req-1", function_name=name, invoked_function_arn=f"{ARN}:{qualifier}"
    )
    if version is not None:
        ctx.function_version = version
    return ctx


@pytest.fixture(autouse=True)
def _outside_lambda(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only the context given to the handler says which function runs (as in Lambda, where these
    variables describe the same function)."""
    monkeypatch.delenv("AWS_LAMBDA_FUNCTION_NAME", raising=False)
    monkeypatch.delenv("AWS_LAMBDA_FUNCTION_VERSION", raising=False)
    monkeypatch.delenv("STRANDS_TRIGGERS", raising=False)


def request_line(out: str) -> dict[str, Any]:
    records = log_lines(out)
    assert len(records) == 1, records
    return records[0]


# -- tools in the answer ----------------------------------------------------------------------------


def test_the_answer_lists_every_tool_call_of_the_turn(
    agent_dir: AgentDir, capsys: pytest.CaptureFixture[str]
) -> None:
    agent_dir.write(TOOLS)
    out = handler({"prompt": "compute"})

    assert out["response"] == "done"
    assert [(t["name"], t["status"]) for t in out["tools"]] == [
        ("add", "success"),
        ("divide", "error"),  # raised
        ("missing", "error"),  # not a tool of the agent (the SDK reports it as an exception too)
    ]
    assert all(isinstance(t["duration_ms"], float) and t["duration_ms"] >= 0 for t in out["tools"])
    assert [e["tool"] for e in out["tool_errors"]] == ["divide", "missing"]
    line = request_line(capsys.readouterr().out)
    assert (line["tool_calls"], line["tool_errors"]) == (3, 2)


def test_tools_are_those_of_this_turn_only_with_sessions(
    agent_dir: AgentDir, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STRANDS_SESSIONS_DIR", str(tmp_path / "sessions"))
    agent_dir.write(
        """
        @tool
        def lookup_order(order: str) -> str:
            \"\"\"Find an order.\"\"\"
            return "shipped"

        model = ScriptedModel([{"tool": "lookup_order", "input": {"order": "A1"}}, "It shipped.", "You're welcome."])
        agent = Agent(model=model, tools=[lookup_order], callback_handler=None)
        """
    )
    first = handler({"prompt": "where is A1?", "session_id": "s-1"})
    second = handler({"prompt": "thanks", "session_id": "s-1"})

    assert [t["name"] for t in first["tools"]] == ["lookup_order"]
    assert second["response"] == "You're welcome."
    assert second["tools"] == []  # the restored conversation holds the first turn's call: not this turn's
    history = agent_dir.module().model.calls[-1]["messages"]
    assert any("toolUse" in block for m in history for block in m["content"])


def test_the_structured_output_tool_is_not_a_tool_call(agent_dir: AgentDir) -> None:
    agent_dir.write(
        """
        from pydantic import BaseModel

        class Verdict(BaseModel):
            ok: bool

        model = ScriptedModel([{"tool": "Verdict", "input": {"ok": True}}])
        agent = Agent(model=model, structured_output_model=Verdict, callback_handler=None)
        """
    )
    out = handler({"prompt": "ok?"})
    assert out["structured"] == {"ok": True}
    assert out["tools"] == []


def test_a_failed_turn_still_counts_the_tool_calls_it_made(
    agent_dir: AgentDir, capsys: pytest.CaptureFixture[str]
) -> None:
    agent_dir.write(
        """
        @tool
        def ping() -> str:
            \"\"\"Ping.\"\"\"
            return "pong"

        def fail(messages):
            raise RuntimeError("model down")

        model = ScriptedModel([{"tool": "ping"}, fail])
        agent = Agent(model=model, tools=[ping], callback_handler=None)
        """
    )
    out = handler({"prompt": "ping"}, lambda_context())
    assert out["status"] == 500 and "model down" in out["error"]
    line = request_line(capsys.readouterr().out)
    assert (line["tool_calls"], line["ToolCalls"], line["Errors"]) == (1, 1, 1)


# -- the request line is an EMF record --------------------------------------------------------------


def test_the_request_line_is_an_emf_record_per_function_version(
    agent_dir: AgentDir, capsys: pytest.CaptureFixture[str]
) -> None:
    agent_dir.write(TOOLS)
    handler({"prompt": "compute"}, lambda_context(version="7"))
    raw = [line for line in capsys.readouterr().out.splitlines() if '"msg":"request"' in line]
    assert len(raw) == 1
    line = json.loads(raw[0])

    assert emf_problems(line) == []
    directive = line["_aws"]["CloudWatchMetrics"][0]
    assert directive["Namespace"] == "Strands/Agent"
    assert directive["Dimensions"] == [["FunctionName", "Version"]]
    assert [m["Name"] for m in directive["Metrics"]] == [
        "InputTokens",
        "OutputTokens",
        "ToolCalls",
        "ToolErrors",
        "Errors",
    ]  # no cache metrics: the model reported no cache tokens
    assert (line["FunctionName"], line["Version"]) == ("support-fn", "7")
    assert (line["InputTokens"], line["OutputTokens"]) == (40, 20)  # four model calls
    assert (line["ToolCalls"], line["ToolErrors"], line["Errors"]) == (3, 2, 0)
    # still the readable request line, which cost's log reader prices
    assert (line["msg"], line["status"], line["agent"]) == ("request", 200, "assistant")
    assert parse_request(raw[0])["usage"]["inputTokens"] == 40  # type: ignore[index]

    # what CloudWatch Logs extracts from it (the local cloud does the same)
    [(namespace, data)] = emf_metrics(raw[0])
    assert namespace == "Strands/Agent"
    by_name = {d["MetricName"]: d for d in data}
    assert by_name["InputTokens"]["Value"] == 40.0
    assert by_name["ToolErrors"]["Dimensions"] == [
        {"Name": "FunctionName", "Value": "support-fn"},
        {"Name": "Version", "Value": "7"},
    ]


def test_cache_tokens_are_published_when_the_model_reports_them(
    agent_dir: AgentDir, capsys: pytest.CaptureFixture[str]
) -> None:
    agent_dir.write(
        """
        class CachingModel(ScriptedModel):
            async def stream(self, *args, **kwargs):
                async for event in super().stream(*args, **kwargs):
                    if "metadata" in event:
                        event["metadata"]["usage"].update(cacheReadInputTokens=300, cacheWriteInputTokens=12)
                    yield event

        agent = Agent(model=CachingModel(["hi"]), callback_handler=None)
        """
    )
    out = handler({"prompt": "hello"}, lambda_context())
    assert out["usage"]["cacheReadInputTokens"] == 300
    line = request_line(capsys.readouterr().out)
    assert emf_problems(line) == []
    assert (line["CacheReadTokens"], line["CacheWriteTokens"]) == (300, 12)
    names = [m["Name"] for m in line["_aws"]["CloudWatchMetrics"][0]["Metrics"]]
    assert {"CacheReadTokens", "CacheWriteTokens"} <= set(names)


@pytest.mark.parametrize(
    ("payload", "status"),
    [({"prompt": ""}, 400), ({"session_id": "x"}, 400), ({"prompt": "boom"}, 500)],
)
def test_answered_errors_count_in_the_errors_metric(
    agent_dir: AgentDir, capsys: pytest.CaptureFixture[str], payload: dict[str, Any], status: int
) -> None:
    agent_dir.write(
        """
        def fail(messages):
            raise RuntimeError("model down")

        agent = Agent(model=ScriptedModel(default=fail), callback_handler=None)
        """
    )
    out = handler(payload, lambda_context())
    assert out["status"] == status
    line = request_line(capsys.readouterr().out)
    assert emf_problems(line) == []
    assert (line["Errors"], line["InputTokens"], line["ToolCalls"]) == (1, 0, 0)


def test_a_failed_trigger_record_is_left_to_lambdas_errors(
    agent_dir: AgentDir, capsys: pytest.CaptureFixture[str]
) -> None:
    agent_dir.write(
        """
        def fail(messages):
            raise RuntimeError("model down")

        agent = Agent(model=ScriptedModel(default=fail), callback_handler=None)
        """
    )
    event = {
        "Records": [{"messageId": "m0", "eventSource": "aws:sqs", "body": "hi", "messageAttributes": {}}]
    }
    with pytest.raises(adapter.AgentError):
        handler(event, lambda_context())  # the invocation fails: Lambda's Errors counts it once
    line = request_line(capsys.readouterr().out)
    assert (line["status"], line["Errors"], line["trigger"]) == (500, 0, "queue")

    # a record the runtime cannot accept (4xx) is answered, not retried: the runtime counts it
    capsys.readouterr()
    out = handler({"Records": [{**event["Records"][0], "body": '{"prompt": 42}'}]}, lambda_context())
    assert out["answers"][0]["status"] == 400
    assert request_line(capsys.readouterr().out)["Errors"] == 1


def test_the_version_comes_from_the_context(
    agent_dir: AgentDir, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    agent_dir.write("agent = Agent(model=ScriptedModel(), callback_handler=None)\n")
    handler({"prompt": "a"}, lambda_context(version=None, qualifier="3"))
    assert request_line(capsys.readouterr().out)["Version"] == "3"  # the invoked ARN's qualifier
    handler({"prompt": "b"}, lambda_context(version=None, qualifier="live"))
    assert request_line(capsys.readouterr().out)["Version"] == "$LATEST"  # an alias says nothing
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "env-fn")
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_VERSION", "12")
    handler({"prompt": "c"}, SimpleNamespace(aws_request_id="r"))
    line = request_line(capsys.readouterr().out)
    assert (line["FunctionName"], line["Version"]) == ("env-fn", "12")


def test_outside_lambda_the_line_carries_no_metrics(
    agent_dir: AgentDir, capsys: pytest.CaptureFixture[str]
) -> None:
    agent_dir.write("agent = Agent(model=ScriptedModel(), callback_handler=None)\n")
    handler({"prompt": "hi"})
    line = request_line(capsys.readouterr().out)
    assert "_aws" not in line and "InputTokens" not in line
    assert line["usage"]["inputTokens"] == 10


def test_the_local_cloud_reads_only_valid_emf() -> None:
    good = {
        "_aws": {
            "Timestamp": 1_700_000_000_000,
            "CloudWatchMetrics": [{"Namespace": "N", "Dimensions": [["F"]], "Metrics": [{"Name": "M"}]}],
        },
        "F": "fn",
        "M": [1, 2],
    }
    [(namespace, data)] = emf_metrics(json.dumps(good))
    assert namespace == "N" and [d["Value"] for d in data] == [1.0, 2.0]
    missing_dimension = {**good, "F": 3}
    no_timestamp = {**good, "_aws": {"CloudWatchMetrics": good["_aws"]["CloudWatchMetrics"]}}  # type: ignore[index]
    for bad in (missing_dimension, no_timestamp):
        assert emf_metrics(json.dumps(bad)) == []
    assert emf_metrics("START RequestId: x") == [] and emf_metrics('{"_aws": ') == []


# -- the eval expectation reads the answer's tools ---------------------------------------------------


def test_eval_tool_called_reads_the_tools_list(agent_dir: AgentDir) -> None:
    from strands_deploy.rollout.evals import Case, check

    agent_dir.write(TOOLS)
    answer = handler({"prompt": "compute"})
    assert check(Case("one", "x", expect={"tool_called": "add"}), answer, 1, None) == []
    assert check(Case("all", "x", expect={"tool_called": ["add", "missing"]}), answer, 1, None) == []
    assert check(Case("no", "x", expect={"tool_called": ["add", "search"]}), answer, 1, None) == [
        "tool 'search' was not called (called: add, divide, missing)"
    ]
    older = {"response": "done", "usage": {}}  # a runtime from before `tools`
    [problem] = check(Case("old", "x", expect={"tool_called": "add"}), older, 1, None)
    assert "no `tools` list" in problem
