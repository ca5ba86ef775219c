"""aws/waiters.py: bounded backoff with jitter, on the injected sleep."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from strands_deploy.aws.session import AwsContext, AwsSettings
from strands_deploy.aws.waiters import (
    backoff,
    poll,
    retry_while,
    role_not_ready,
    update_in_progress,
    wait_function_ready,
    wait_table_active,
)
from strands_deploy.errors import StrandsDeployError
from strands_deploy.providers.base import ProviderContext
from strands_deploy.providers.registry import get_provider
from tests.integration.providers.conftest import Notes
from tests.integration.providers.helpers import function_props, make_agent, make_role

ADDR = "agent.support.function"


def conflict() -> ClientError:
    return ClientError(
        {"Error": {"Code": "ResourceConflictException", "Message": "An update is in progress"}}, "UpdateAlias"
    )


def test_backoff_grows_with_jitter_and_is_bounded() -> None:
    delays = list(backoff(90, initial=1.0, maximum=8.0))
    assert sum(delays) == pytest.approx(90)
    assert all(0 < d <= 8.0 for d in delays)
    assert delays[0] <= 1.0 and max(delays) > 4.0  # grows
    assert len({round(d, 6) for d in delays}) > 1  # jittered


def test_poll_returns_the_first_result(ctx: ProviderContext, notes: Notes) -> None:
    answers = iter([None, None, "ready"])
    assert poll(ctx, ADDR, lambda: next(answers), timeout=60, what="x", fix="y", note="waiting") == "ready"
    assert len(notes.slept) == 2 and notes.notes == [(ADDR, "waiting")]


def test_poll_gives_up(ctx: ProviderContext, notes: Notes) -> None:
    with pytest.raises(StrandsDeployError) as info:
        poll(ctx, ADDR, lambda: None, timeout=30, what="never ready", fix="look at it")
    assert info.value.where == ADDR and "never ready" in info.value.what and info.value.fix == "look at it"
    assert sum(notes.slept) == pytest.approx(30)


def test_retry_while_retries_only_retryable_errors(ctx: ProviderContext, notes: Notes) -> None:
    attempts: list[int] = []

    def flaky() -> str:
        attempts.append(1)
        if len(attempts) < 4:
            raise conflict()
        return "done"

    assert retry_while(ctx, ADDR, "lambda:UpdateAlias", flaky, update_in_progress) == "done"
    assert len(attempts) == 4 and len(notes.slept) == 3

    def denied() -> str:
        raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "UpdateAlias")

    with pytest.raises(ClientError):
        retry_while(ctx, ADDR, "lambda:UpdateAlias", denied, update_in_progress)


def test_retry_while_converts_the_last_error(ctx: ProviderContext) -> None:
    def always() -> str:
        raise conflict()

    with pytest.raises(StrandsDeployError) as info:
        retry_while(ctx, ADDR, "lambda:UpdateAlias", always, update_in_progress, timeout=10)
    assert "lambda:UpdateAlias" in info.value.what and info.value.where == ADDR


def test_role_not_ready_predicate() -> None:
    err = ClientError(
        {
            "Error": {
                "Code": "InvalidParameterValueException",
                "Message": "The role defined for the function cannot be assumed by Lambda.",
            }
        },
        "CreateFunction",
    )
    assert role_not_ready(err) and not update_in_progress(err)


def test_wait_function_ready_and_table_active(
    ctx: ProviderContext, raw: Callable[[str], Any], tmp_path: Path
) -> None:
    get_provider("aws.lambda.function").create(
        ctx, ADDR, function_props(make_role(raw), make_agent(tmp_path))
    )
    conf = wait_function_ready(ctx, ADDR, "demo-test-support")
    assert conf["State"] == "Active" and conf["LastUpdateStatus"] == "Successful"

    raw("dynamodb").create_table(
        TableName="t",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    assert wait_table_active(ctx, "resource.t.table", "t")["TableStatus"] == "ACTIVE"


def test_wait_function_ready_for_a_missing_function(ctx: ProviderContext) -> None:
    with pytest.raises(StrandsDeployError) as info:
        wait_function_ready(ctx, ADDR, "missing")
    assert "lambda:GetFunction " in info.value.what


class StubLambda:
    """Stands in for boto3's Lambda client: answers GetFunction from a script."""

    def __init__(self, answers: list[dict[str, Any]]) -> None:
        self.answers = answers
        self.meta = None

    def get_function(self, FunctionName: str) -> dict[str, Any]:  # noqa: N803 (boto3 style)
        return {"Configuration": self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]}


def stub_ctx(ctx: ProviderContext, answers: list[dict[str, Any]]) -> ProviderContext:
    aws = AwsContext(AwsSettings(region="us-east-1", local=True))
    aws._clients["lambda"] = StubLambda(answers)
    return dataclasses.replace(ctx, aws=aws)


def test_wait_function_ready_waits_through_pending(ctx: ProviderContext, notes: Notes) -> None:
    stub = stub_ctx(
        ctx,
        [
            {"State": "Pending"},
            {"State": "Active", "LastUpdateStatus": "InProgress"},
            {"State": "Active", "LastUpdateStatus": "Successful", "FunctionName": "f"},
        ],
    )
    assert wait_function_ready(stub, ADDR, "f")["FunctionName"] == "f"
    assert len(notes.slept) == 2


@pytest.mark.parametrize(
    "answer,reason",
    [
        (
            {"State": "Failed", "StateReason": "layer too big", "StateReasonCode": "InvalidConfiguration"},
            "layer too big",
        ),
        (
            {"State": "Active", "LastUpdateStatus": "Failed", "LastUpdateStatusReason": "bad role"},
            "bad role",
        ),
    ],
)
def test_wait_function_ready_reports_failure(
    ctx: ProviderContext, answer: dict[str, Any], reason: str
) -> None:
    with pytest.raises(StrandsDeployError) as info:
        wait_function_ready(stub_ctx(ctx, [answer]), ADDR, "f")
    assert reason in info.value.what and info.value.where == ADDR
