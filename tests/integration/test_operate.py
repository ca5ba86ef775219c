"""operate/ against a real moto server: real botocore clients, paginators and error responses."""

from __future__ import annotations

import time
from types import SimpleNamespace
from typing import Any

import pytest

from strands_deploy.aws.session import AwsContext
from strands_deploy.config.schema import AgentConfig
from strands_deploy.errors import StrandsDeployError
from strands_deploy.operate import Deployment
from strands_deploy.operate.invoke import invoke
from strands_deploy.operate.logs import LogReader, filter_pattern, open_logs
from strands_deploy.state.model import ResourceState, State

GROUP = "/aws/lambda/proj-local-assistant"


def deployment(aws: AwsContext) -> Deployment:
    resources = {
        "agent.assistant.function": ResourceState("t", "f", {}, {"name": "proj-local-assistant"}),
        "agent.assistant.logs": ResourceState("t", GROUP, {}, {"name": GROUP}),
    }
    project: Any = SimpleNamespace(agents={"assistant": AgentConfig(path="agents/assistant")})
    state = State(environment="local", resources=resources)
    return Deployment(project, "local", lambda: state, lambda: aws)


def test_invoking_a_function_that_does_not_exist_says_not_deployed(aws: AwsContext) -> None:
    with pytest.raises(StrandsDeployError) as e:
        invoke(deployment(aws), "assistant", "hi")
    assert "is not deployed in environment 'local' (function proj-local-assistant not found)" in e.value.what
    assert e.value.fix == "run strands-deploy deploy --env local"


def test_reading_a_log_group_that_does_not_exist(aws: AwsContext) -> None:
    reader = open_logs(deployment(aws), "assistant", None, lambda e: None)
    with pytest.raises(StrandsDeployError) as e:
        reader.poll(0)
    assert e.value.what == f"log group {GROUP} of agent 'assistant' does not exist"


def test_follow_prints_new_events_once_across_many_pages(aws: AwsContext) -> None:
    logs = aws.client("logs")
    logs.create_log_group(logGroupName=GROUP)
    logs.create_log_stream(logGroupName=GROUP, logStreamName="s1")
    base = int(time.time() * 1000) - 60_000  # CloudWatch refuses events older than 14 days
    logs.put_log_events(
        logGroupName=GROUP,
        logStreamName="s1",
        logEvents=[{"timestamp": base + i, "message": f"line {i}"} for i in range(30)],
    )
    printed: list[str] = []
    pattern, keep = filter_pattern(None)
    reader = LogReader(logs, GROUP, pattern, keep, lambda e: printed.append(e["message"]))
    # One event a page: the paginator must follow nextToken to the end.
    original = logs.get_paginator

    class SmallPages:
        def paginate(self, **kwargs: Any) -> Any:
            return original("filter_log_events").paginate(**kwargs, PaginationConfig={"PageSize": 7})

    reader.client = SimpleNamespace(get_paginator=lambda op: SmallPages(), meta=logs.meta)
    assert reader.poll(base - 1000) == 30
    logs.put_log_events(
        logGroupName=GROUP, logStreamName="s1", logEvents=[{"timestamp": base + 100, "message": "late"}]
    )
    polls: list[float] = []
    reader.follow(base - 1000, interval=0.01, sleep=polls.append, stop=lambda: len(polls) >= 2)
    assert printed == [f"line {i}" for i in range(30)] + ["late"]
