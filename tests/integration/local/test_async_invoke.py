"""Asynchronous invocations on the local cloud (InvocationType=Event and service triggers): queued per
function and run within its concurrency, never dropped for throttling; failures retried, then sent
to the on-failure destination or dead-letter queue; successes to the on-success destination. Retry
delays are shortened through config.json's ``async_retry_delays``."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.integration.local.conftest import Cloud, create_function, unique
from tests.integration.local.test_triggers import log_lines, wait_for

ACCOUNT = "123456789012"

COUNTS = """
import time

def handler(event, context):
    time.sleep(0.05)
    print("RAN %d %s" % (event["n"], context.aws_request_id))
    return {"n": event["n"]}
"""

ALWAYS_FAILS = """
def handler(event, context):
    print("ATTEMPT " + context.aws_request_id)
    if event.get("ok"):
        return {"fine": True}
    raise ValueError("boom on purpose")
"""

FAILS_ONCE = """
calls = 0

def handler(event, context):
    global calls
    calls += 1
    print("ATTEMPT %d" % calls)
    if calls == 1:
        raise RuntimeError("first time fails")
    return {"calls": calls}
"""


@pytest.fixture(autouse=True)
def fast_retries(cloud: Cloud) -> Iterator[None]:
    cloud.set_config(async_retry_delays=[0.3, 0.3])
    try:
        yield
    finally:
        cloud.set_config(async_retry_delays=None)


def make_queue(cloud: Cloud) -> tuple[str, str]:
    sqs = cloud.client("sqs")
    url = sqs.create_queue(QueueName=unique("dlq"))["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return url, arn


def receive(cloud: Cloud, url: str, timeout: float = 20) -> list[dict[str, Any]]:
    sqs = cloud.client("sqs")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"], WaitTimeSeconds=1
        ).get("Messages", [])
        if got:
            return list(got)
    return []


def invoke_event(cloud: Cloud, name: str, payload: Any) -> str:
    resp = cloud.client("lambda").invoke(
        FunctionName=name, InvocationType="Event", Payload=json.dumps(payload)
    )
    assert resp["StatusCode"] == 202
    return str(resp["ResponseMetadata"]["HTTPHeaders"]["x-amzn-requestid"])


def test_fifty_events_all_run_once_within_low_concurrency(cloud: Cloud, role_arn: str) -> None:
    name = create_function(cloud, role_arn, COUNTS)
    cloud.client("lambda").put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=2)
    ids = [invoke_event(cloud, name, {"n": n}) for n in range(50)]
    lines = wait_for(cloud, f"/aws/lambda/{name}", "RAN ", 50, timeout=40)
    time.sleep(1)  # nothing more arrives
    lines = log_lines(cloud, f"/aws/lambda/{name}", "RAN ")
    assert sorted(int(line.split()[1]) for line in lines) == list(range(50))
    assert sorted(line.split()[2] for line in lines) == sorted(ids)  # the 202's request id
    workers = [w for w in cloud.get("/_strands/workers")["workers"] if w.get("function") == name]
    assert len(workers) <= 2, workers


def test_failing_event_is_retried_twice_then_sent_to_the_dead_letter_queue(
    cloud: Cloud, role_arn: str
) -> None:
    url, arn = make_queue(cloud)
    name = create_function(cloud, role_arn, ALWAYS_FAILS, DeadLetterConfig={"TargetArn": arn})
    config = cloud.client("lambda").get_function_configuration(FunctionName=name)
    assert config["DeadLetterConfig"] == {"TargetArn": arn}
    request_id = invoke_event(cloud, name, {"order": 7})
    messages = receive(cloud, url)
    assert len(messages) == 1
    message = messages[0]
    assert json.loads(message["Body"]) == {"order": 7}
    attributes = message["MessageAttributes"]
    assert attributes["RequestID"] == {"StringValue": request_id, "DataType": "String"}
    assert attributes["ErrorCode"] == {"StringValue": "200", "DataType": "Number"}
    assert attributes["ErrorMessage"] == {"StringValue": "boom on purpose", "DataType": "String"}
    attempts = log_lines(cloud, f"/aws/lambda/{name}", "ATTEMPT ")
    assert attempts == [f"ATTEMPT {request_id}"] * 3


def test_destinations_get_the_destination_record(cloud: Cloud, role_arn: str) -> None:
    fail_url, fail_arn = make_queue(cloud)
    ok_url, ok_arn = make_queue(cloud)
    name = create_function(cloud, role_arn, ALWAYS_FAILS)
    lam = cloud.client("lambda")
    lam.put_function_event_invoke_config(
        FunctionName=name,
        MaximumRetryAttempts=1,
        DestinationConfig={"OnFailure": {"Destination": fail_arn}, "OnSuccess": {"Destination": ok_arn}},
    )
    failed_id = invoke_event(cloud, name, {"order": 1})
    ok_id = invoke_event(cloud, name, {"ok": True})
    fn_arn = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:{name}:$LATEST"

    [failure] = receive(cloud, fail_url)
    record = json.loads(failure["Body"])
    assert set(record) == {
        "version",
        "timestamp",
        "requestContext",
        "requestPayload",
        "responseContext",
        "responsePayload",
    }
    assert record["version"] == "1.0"
    assert record["requestContext"] == {
        "requestId": failed_id,
        "functionArn": fn_arn,
        "condition": "RetriesExhausted",
        "approximateInvokeCount": 2,
    }
    assert record["requestPayload"] == {"order": 1}
    assert record["responseContext"] == {
        "statusCode": 200,
        "executedVersion": "$LATEST",
        "functionError": "Unhandled",
    }
    assert record["responsePayload"]["errorMessage"] == "boom on purpose"
    assert record["responsePayload"]["errorType"] == "ValueError"

    [success] = receive(cloud, ok_url)
    record = json.loads(success["Body"])
    assert record["requestContext"] == {
        "requestId": ok_id,
        "functionArn": fn_arn,
        "condition": "Success",
        "approximateInvokeCount": 1,
    }
    assert record["responseContext"] == {"statusCode": 200, "executedVersion": "$LATEST"}
    assert record["responsePayload"] == {"fine": True}
    assert len(log_lines(cloud, f"/aws/lambda/{name}", f"ATTEMPT {failed_id}")) == 2


def test_event_that_fails_once_is_retried_and_not_dead_lettered(cloud: Cloud, role_arn: str) -> None:
    url, arn = make_queue(cloud)
    name = create_function(cloud, role_arn, FAILS_ONCE, DeadLetterConfig={"TargetArn": arn})
    invoke_event(cloud, name, {})
    lines = wait_for(cloud, f"/aws/lambda/{name}", "ATTEMPT ", 2, timeout=20)
    assert lines == ["ATTEMPT 1", "ATTEMPT 2"]
    assert receive(cloud, url, timeout=2) == []
    assert log_lines(cloud, f"/aws/lambda/{name}", "ATTEMPT ") == ["ATTEMPT 1", "ATTEMPT 2"]


def test_sns_delivery_is_retried_and_dead_lettered(cloud: Cloud, role_arn: str) -> None:
    url, arn = make_queue(cloud)
    name = create_function(cloud, role_arn, ALWAYS_FAILS, DeadLetterConfig={"TargetArn": arn})
    sns = cloud.client("sns")
    topic = sns.create_topic(Name=unique("topic"))["TopicArn"]
    sns.subscribe(
        TopicArn=topic, Protocol="lambda", Endpoint=f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:{name}"
    )
    sns.publish(TopicArn=topic, Message="hello")
    [message] = receive(cloud, url)
    event = json.loads(message["Body"])
    assert event["Records"][0]["Sns"]["Message"] == "hello"
    assert event["Records"][0]["Sns"]["TopicArn"] == topic
    assert len(log_lines(cloud, f"/aws/lambda/{name}", "ATTEMPT ")) == 3
