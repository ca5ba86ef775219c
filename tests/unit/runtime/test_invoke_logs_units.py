"""The pure parts of `invoke` and `logs`: answer checking, --since, --filter, de-duplicated polling."""

from __future__ import annotations

import json
import time

import boto3
import pytest

from strands_deploy.cli.logs_cmd import format_event, parse_since
from strands_deploy.errors import StrandsDeployError
from strands_deploy.operate.invoke import check_answer
from strands_deploy.operate.logs import LogReader, filter_pattern

NOW = 1_700_000_000.0


def test_good_answer_passes_through() -> None:
    payload = {"response": "hi", "session_id": "s", "stop_reason": "end_turn", "usage": {}}
    assert check_answer(payload, None, "a", "local", "agents/a") == payload


def test_function_error_is_a_clear_error() -> None:
    with pytest.raises(StrandsDeployError) as e:
        check_answer(
            {"errorMessage": "Task timed out after 3.00 seconds", "errorType": "Sandbox.Timedout"},
            "Unhandled",
            "a",
            "prod",
            "agents/a",
        )
    assert "Sandbox.Timedout: Task timed out" in e.value.what
    assert e.value.fix == "see strands-deploy logs a --env prod"


def test_import_error_points_at_the_file() -> None:
    with pytest.raises(StrandsDeployError) as e:
        check_answer(
            {"error": "SyntaxError: invalid syntax", "file": "agent.py", "line": 7, "status": 500},
            None,
            "a",
            "local",
            "agents/a",
        )
    assert e.value.where == "agents/a/agent.py:7"
    assert "answered 500" in e.value.what and "deploy --env local" in (e.value.fix or "")


def test_bad_request_is_a_4xx_error() -> None:
    with pytest.raises(StrandsDeployError) as e:
        check_answer({"error": '"prompt" is empty', "status": 400}, None, "a", "local", "agents/a")
    assert "answered 400" in e.value.what


def test_unexpected_payloads() -> None:
    with pytest.raises(StrandsDeployError):
        check_answer("plain string", None, "a", "local", "agents/a")


def test_a_lambda_handler_agent_answers_what_its_handler_returns() -> None:
    # an agent whose entry is its own Lambda handler: its answer is shown as it is
    answer = check_answer({"answer": 42}, None, "a", "local", "agents/a")
    assert answer["raw"] == {"answer": 42} and json.loads(answer["response"]) == {"answer": 42}


@pytest.mark.parametrize(
    ("value", "seconds_ago"),
    [("30s", 30), ("10m", 600), ("10", 600), ("2h", 7200), ("1d", 86400), ("1.5h", 5400)],
)
def test_since_durations(value: str, seconds_ago: int) -> None:
    assert parse_since(value, now=NOW) == int((NOW - seconds_ago) * 1000)


def test_since_iso_and_garbage() -> None:
    assert parse_since("2023-11-14T22:13:20Z", now=NOW) == 1_700_000_000_000
    with pytest.raises(StrandsDeployError) as e:
        parse_since("yesterday")
    assert "--since" in e.value.what


def test_filter_text_is_literal_and_patterns_pass_through() -> None:
    pattern, keep = filter_pattern('"status":500')
    # quotes glued to other text are not a CloudWatch pattern: looked for literally
    assert pattern == '"\\"status\\":500"' and keep('{"status":500}') and not keep('{"status":200}')
    assert filter_pattern('"status 500" ?ERROR')[0] == '"status 500" ?ERROR'  # a pattern: as is
    pattern, keep = filter_pattern("session abc")
    assert pattern == '"session abc"'
    assert keep("x session abc y") and not keep("abc session")
    assert filter_pattern('{ $.level = "ERROR" }')[0] == '{ $.level = "ERROR" }'
    assert filter_pattern(None)[0] is None


def test_format_event_styles() -> None:
    assert format_event({"timestamp": 0, "message": '{"level":"ERROR","msg":"request"}\n'})[1] == "red"
    assert format_event({"timestamp": 0, "message": "START RequestId: 1 Version: 1"})[1] == "dim"
    text, style = format_event({"timestamp": 0, "message": "hello"})
    assert text.endswith("  hello") and style == ""


def test_reader_prints_each_event_once_across_polls(moto: str) -> None:
    logs = boto3.client("logs", endpoint_url=moto, region_name="us-east-1")
    logs.create_log_group(logGroupName="/aws/lambda/fn")
    logs.create_log_stream(logGroupName="/aws/lambda/fn", logStreamName="s1")

    def put(ts: int, message: str) -> None:
        logs.put_log_events(
            logGroupName="/aws/lambda/fn",
            logStreamName="s1",
            logEvents=[{"timestamp": ts, "message": message}],
        )

    base = int(time.time() * 1000) - 60_000  # CloudWatch refuses events older than 14 days
    put(base, "first needle")
    put(base + 1, "other")
    printed: list[str] = []
    pattern, keep = filter_pattern("needle")
    reader = LogReader(logs, "/aws/lambda/fn", pattern, keep, lambda e: printed.append(e["message"]))
    assert reader.poll(base - 1000) == 1
    assert reader.poll(base - 1000) == 0  # nothing new: nothing printed twice
    put(base + 2000, "second needle")
    polls: list[float] = []
    reader.follow(base - 1000, interval=0.01, sleep=polls.append, stop=lambda: len(polls) >= 2)
    assert printed == ["first needle", "second needle"]
