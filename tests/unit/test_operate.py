"""operate/: invoke and logs with fake clients passed in (no patching), errors converted once."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from strands_deploy.config.schema import AgentConfig
from strands_deploy.errors import StrandsDeployError
from strands_deploy.operate import Deployment, deployed_output
from strands_deploy.operate.invoke import QUALIFIER, invoke
from strands_deploy.operate.logs import LogReader, fetch, filter_pattern, open_logs
from strands_deploy.state.model import ResourceState, State


def client_error(code: str, message: str, operation: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}}, operation)


class FakeLambda:
    """Answers ``invoke`` with ``answer`` (or raises ``error``) and records the request."""

    meta = SimpleNamespace(
        service_model=SimpleNamespace(service_name="lambda"), method_to_api_mapping={"invoke": "Invoke"}
    )

    def __init__(
        self, answer: Any = None, error: BaseException | None = None, function_error: str = ""
    ) -> None:
        self.answer = answer
        self.error = error
        self.function_error = function_error
        self.requests: list[dict[str, Any]] = []

    def invoke(self, **kwargs: Any) -> dict[str, Any]:
        self.requests.append(kwargs)
        if self.error is not None:
            raise self.error
        resp: dict[str, Any] = {"StatusCode": 200, "Payload": io.BytesIO(json.dumps(self.answer).encode())}
        if self.function_error:
            resp["FunctionError"] = self.function_error
        return resp


class FakePaginator:
    def __init__(self, pages: list[dict[str, Any]], error: BaseException | None, calls: list[dict[str, Any]]):
        self.pages = pages
        self.error = error
        self.calls = calls

    def paginate(self, **kwargs: Any) -> Iterator[dict[str, Any]]:
        self.calls.append(kwargs)
        yield from self.pages
        if self.error is not None:
            raise self.error  # raised while iterating, as botocore does for a later page


class FakeLogs:
    meta = SimpleNamespace(
        service_model=SimpleNamespace(service_name="logs"),
        method_to_api_mapping={"filter_log_events": "FilterLogEvents"},
    )

    def __init__(self, pages: list[dict[str, Any]] | None = None, error: BaseException | None = None) -> None:
        self.pages = pages or []
        self.error = error
        self.calls: list[dict[str, Any]] = []

    def get_paginator(self, operation: str) -> FakePaginator:
        assert operation == "filter_log_events"
        return FakePaginator(self.pages, self.error, self.calls)


class Env:
    """A Deployment over a fixed state and fake clients (this object stands in for the AwsContext)."""

    def __init__(self, outputs: dict[str, dict[str, Any]] | None = None, **clients: Any) -> None:
        resources = {
            address: ResourceState(type="t", physical_id=address, inputs={}, outputs=out)
            for address, out in (outputs or {}).items()
        }
        self.state = State(environment="prod", resources=resources)
        self.clients = clients
        self.state_reads = 0
        self.clients_made: list[str] = []
        project: Any = SimpleNamespace(
            agents={
                "assistant": AgentConfig(path="agents/assistant"),
                "later": AgentConfig(path="agents/later"),
            }
        )
        self.deployment = Deployment(project, "prod", self.read_state, lambda: self)

    def read_state(self) -> State:
        self.state_reads += 1
        return self.state

    def client(self, service: str) -> Any:
        self.clients_made.append(service)
        return self.clients[service]


DEPLOYED = {
    "agent.assistant.function": {"name": "proj-prod-assistant"},
    "agent.assistant.logs": {"name": "/aws/lambda/proj-prod-assistant"},
}


def test_invoke_sends_the_prompt_to_the_live_alias_and_returns_the_answer() -> None:
    answer = {"response": "hi there", "session_id": "s-1", "stop_reason": "end_turn", "usage": {}}
    fake = FakeLambda(answer)
    env = Env(DEPLOYED, **{"lambda": fake})
    assert invoke(env.deployment, "assistant", "hello", session="s-1") == answer
    (request,) = fake.requests
    assert request["FunctionName"] == "proj-prod-assistant" and request["Qualifier"] == QUALIFIER == "live"
    assert request["InvocationType"] == "RequestResponse"
    assert json.loads(request["Payload"]) == {"prompt": "hello", "session_id": "s-1"}


def test_invoke_without_a_session_sends_only_the_prompt() -> None:
    fake = FakeLambda({"response": "ok"})
    invoke(Env(DEPLOYED, **{"lambda": fake}).deployment, "assistant", "hello")
    assert json.loads(fake.requests[0]["Payload"]) == {"prompt": "hello"}


def test_unknown_agent_is_reported_before_reading_state_or_making_a_client() -> None:
    env = Env(DEPLOYED, **{"lambda": FakeLambda()})
    with pytest.raises(StrandsDeployError) as e:
        invoke(env.deployment, "asistant", "hello")
    assert "no agent named 'asistant'" in e.value.what and e.value.fix == "did you mean 'assistant'?"
    assert env.state_reads == 0 and env.clients_made == []


def test_an_agent_absent_from_the_state_is_not_deployed_and_aws_is_not_called() -> None:
    env = Env(DEPLOYED, **{"lambda": FakeLambda()})
    with pytest.raises(StrandsDeployError) as e:
        invoke(env.deployment, "later", "hello")
    assert e.value.what == "agent 'later' is not deployed in environment 'prod'"
    assert e.value.fix == "run strands-deploy deploy --env prod"
    assert env.clients_made == []


def test_deployed_output_reads_the_named_output() -> None:
    env = Env({"agent.assistant.url": {"name": "n", "url": "https://x"}})
    assert deployed_output(env.deployment, "assistant", "url", "url") == "https://x"


def test_a_function_missing_in_aws_is_not_deployed() -> None:
    error = client_error("ResourceNotFoundException", "Function not found: arn:...", "Invoke")
    env = Env(DEPLOYED, **{"lambda": FakeLambda(error=error)})
    with pytest.raises(StrandsDeployError) as e:
        invoke(env.deployment, "assistant", "hello")
    assert e.value.what == (
        "agent 'assistant' is not deployed in environment 'prod' (function proj-prod-assistant not found)"
    )
    assert e.value.fix == "run strands-deploy deploy --env prod"


def test_access_denied_names_the_action_to_grant() -> None:
    message = "User: arn:aws:iam::1:user/u is not authorized to perform: lambda:InvokeFunction on resource"
    env = Env(
        DEPLOYED, **{"lambda": FakeLambda(error=client_error("AccessDeniedException", message, "Invoke"))}
    )
    with pytest.raises(StrandsDeployError) as e:
        invoke(env.deployment, "assistant", "hello")
    assert e.value.where == "agent.assistant"
    assert "AccessDeniedException" in e.value.what
    assert e.value.fix is not None and "grant lambda:InvokeFunction" in e.value.fix


def test_a_function_error_becomes_the_agents_error() -> None:
    fake = FakeLambda(
        {"errorType": "Sandbox.Timedout", "errorMessage": "Task timed out"}, function_error="Unhandled"
    )
    with pytest.raises(StrandsDeployError) as e:
        invoke(Env(DEPLOYED, **{"lambda": fake}).deployment, "assistant", "hello")
    assert "Sandbox.Timedout: Task timed out" in e.value.what
    assert e.value.fix == "see strands-deploy logs assistant --env prod"


def test_an_import_error_points_at_the_agents_file() -> None:
    fake = FakeLambda({"error": "SyntaxError", "file": "agent.py", "line": 3, "status": 500})
    with pytest.raises(StrandsDeployError) as e:
        invoke(Env(DEPLOYED, **{"lambda": fake}).deployment, "assistant", "hello")
    assert e.value.where == "agents/assistant/agent.py:3"


def test_fetch_reads_every_page_with_the_request_it_was_given() -> None:
    client = FakeLogs([{"events": [{"eventId": "1"}]}, {"events": []}, {"events": [{"eventId": "2"}]}])
    assert [e["eventId"] for e in fetch(client, "/g", 5, '"x"', end_ms=9)] == ["1", "2"]
    assert client.calls == [
        {"logGroupName": "/g", "startTime": 5, "interleaved": True, "endTime": 9, "filterPattern": '"x"'}
    ]


def test_reader_emits_each_event_once_in_time_order() -> None:
    pages = [
        {"events": [{"eventId": "b", "timestamp": 2000, "message": "second"}]},
        {"events": [{"eventId": "a", "timestamp": 1000, "message": "first"}]},
    ]
    emitted: list[str] = []
    pattern, keep = filter_pattern(None)
    reader = LogReader(FakeLogs(pages), "/g", pattern, keep, lambda e: emitted.append(e["message"]))
    assert reader.poll(0) == 2 and reader.poll(0) == 0
    assert emitted == ["first", "second"]


def test_open_logs_reads_the_group_from_the_state_and_filters_literally() -> None:
    logs = FakeLogs([{"events": [{"eventId": "1", "timestamp": 1, "message": "abc needle"}]}])
    env = Env(DEPLOYED, logs=logs)
    emitted: list[dict[str, Any]] = []
    reader = open_logs(env.deployment, "assistant", "needle", emitted.append)
    assert reader.poll(0) == 1
    assert logs.calls[0]["logGroupName"] == "/aws/lambda/proj-prod-assistant"
    assert logs.calls[0]["filterPattern"] == '"needle"'


def test_a_missing_log_group_says_to_deploy() -> None:
    error = client_error(
        "ResourceNotFoundException", "The specified log group does not exist.", "FilterLogEvents"
    )
    env = Env(DEPLOYED, logs=FakeLogs(error=error))
    reader = open_logs(env.deployment, "assistant", None, lambda e: None)
    with pytest.raises(StrandsDeployError) as e:
        reader.poll(0)
    assert e.value.what == "log group /aws/lambda/proj-prod-assistant of agent 'assistant' does not exist"
    assert e.value.fix == "run strands-deploy deploy --env prod"


def test_a_failure_on_a_later_page_is_converted_with_the_action() -> None:
    error = client_error("AccessDeniedException", "not allowed", "FilterLogEvents")
    env = Env(DEPLOYED, logs=FakeLogs([{"events": [{"eventId": "1", "timestamp": 1}]}], error=error))
    emitted: list[dict[str, Any]] = []
    reader = open_logs(env.deployment, "assistant", None, emitted.append)
    with pytest.raises(StrandsDeployError) as e:
        reader.poll(0)
    assert e.value.where == "agent.assistant.logs"
    assert "logs:FilterLogEvents" in e.value.what and "AccessDeniedException" in e.value.what
    assert emitted == []  # nothing half-printed from a failed poll


def test_a_network_failure_is_converted_too() -> None:
    env = Env(DEPLOYED, logs=FakeLogs(error=EndpointConnectionError(endpoint_url="http://127.0.0.1:1")))
    reader = open_logs(env.deployment, "assistant", None, lambda e: None)
    with pytest.raises(StrandsDeployError) as e:
        reader.poll(0)
    assert e.value.fix is not None and "network" in e.value.fix


def test_a_bug_is_not_disguised_as_an_aws_error() -> None:
    env = Env(DEPLOYED, logs=FakeLogs(error=KeyError("events")))
    reader = open_logs(env.deployment, "assistant", None, lambda e: None)
    with pytest.raises(KeyError):
        reader.poll(0)
