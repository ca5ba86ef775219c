"""Trigger events (SQS, SNS, S3, EventBridge, DynamoDB streams) become prompts for the agent.

The sample events are the shapes from the AWS Lambda documentation.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from strands_deploy.runtime import adapter
from strands_deploy.runtime.adapter import handler, render_prompt, trigger_requests
from tests.unit.runtime.scripted import texts
from tests.unit.runtime.test_adapter import AgentDir, log_lines

S3_PUT = {
    "Records": [
        {
            "eventVersion": "2.1",
            "eventSource": "aws:s3",
            "awsRegion": "us-east-1",
            "eventTime": "2024-05-01T12:00:00.000Z",
            "eventName": "ObjectCreated:Put",
            "userIdentity": {"principalId": "EXAMPLE"},
            "requestParameters": {"sourceIPAddress": "127.0.0.1"},
            "responseElements": {"x-amz-request-id": "EXAMPLE123456789", "x-amz-id-2": "EXAMPLE123/abc"},
            "s3": {
                "s3SchemaVersion": "1.0",
                "configurationId": "testConfigRule",
                "bucket": {
                    "name": "shop-uploads",
                    "ownerIdentity": {"principalId": "EXAMPLE"},
                    "arn": "arn:aws:s3:::shop-uploads",
                },
                "object": {
                    "key": "invoices/My+Report%282024%29.pdf",
                    "size": 1024,
                    "eTag": "0123456789abcdef0123456789abcdef",
                    "sequencer": "0A1B2C3D4E5F678901",
                },
            },
        }
    ]
}

SNS_NOTIFICATION = {
    "Records": [
        {
            "EventVersion": "1.0",
            "EventSubscriptionArn": "arn:aws:sns:us-east-1:123456789012:alerts:21be56ed-a058-49f5-8c98-aedd2564c486",
            "EventSource": "aws:sns",
            "Sns": {
                "SignatureVersion": "1",
                "Timestamp": "2019-01-02T12:45:07.000Z",
                "Signature": "tcc6faL2yUC6dgZdmrwh1Y4cGa/ebXEkAi6RibDsvpi+tE/1+82j...65r==",
                "SigningCertUrl": "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-ac565b8b1a6c5d002d285f9598aa1d9b.pem",
                "MessageId": "95df01b4-ee98-5cb9-9903-4c221d41eb5e",
                "Message": '{"alarm": "HighCPU", "value": 97.5}',
                "MessageAttributes": {
                    "Test": {"Type": "String", "Value": "TestString"},
                    "TestBinary": {"Type": "Binary", "Value": "TestBinary"},
                },
                "Type": "Notification",
                "UnsubscribeUrl": "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe",
                "TopicArn": "arn:aws:sns:us-east-1:123456789012:alerts",
                "Subject": "ALARM",
            },
        }
    ]
}

SQS_MESSAGE = {
    "Records": [
        {
            "messageId": "059f36b4-87a3-44ab-83d2-661975830a7d",
            "receiptHandle": "AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a...",
            "body": "Test message.",
            "attributes": {
                "ApproximateReceiveCount": "1",
                "SentTimestamp": "1545082649183",
                "SenderId": "AIDAIENQZJOLO23YVJ4VO",
                "ApproximateFirstReceiveTimestamp": "1545082649185",
            },
            "messageAttributes": {
                "myAttribute": {
                    "stringValue": "myValue",
                    "stringListValues": [],
                    "binaryListValues": [],
                    "dataType": "String",
                }
            },
            "md5OfBody": "e4e68fb7bd0e697a0ae8f1bb342846b3",
            "eventSource": "aws:sqs",
            "eventSourceARN": "arn:aws:sqs:us-east-2:123456789012:support-tickets",
            "awsRegion": "us-east-2",
        }
    ]
}

SCHEDULED_EVENT = {
    "version": "0",
    "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
    "detail-type": "Scheduled Event",
    "source": "aws.events",
    "account": "123456789012",
    "time": "2015-10-08T16:53:06Z",
    "region": "us-east-1",
    "resources": ["arn:aws:events:us-east-1:123456789012:rule/nightly-report"],
    "detail": {},
}

CUSTOM_EVENT = {
    "version": "0",
    "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
    "detail-type": "Order Placed",
    "source": "com.example.shop",
    "account": "111122223333",
    "time": "2017-12-22T18:43:48Z",
    "region": "us-west-1",
    "resources": [],
    "detail": {"orderId": "o-1", "total": 42.5, "items": [{"sku": "A1", "qty": 2}]},
}

DDB_STREAM = {
    "Records": [
        {
            "eventID": "1",
            "eventVersion": "1.0",
            "dynamodb": {
                "Keys": {"Id": {"N": "101"}},
                "NewImage": {
                    "Message": {"S": "New item!"},
                    "Id": {"N": "101"},
                    "Price": {"N": "9.99"},
                    "Tags": {"SS": ["b", "a"]},
                    "Active": {"BOOL": True},
                    "Meta": {"M": {"count": {"N": "3"}, "none": {"NULL": True}}},
                },
                "StreamViewType": "NEW_AND_OLD_IMAGES",
                "SequenceNumber": "111",
                "SizeBytes": 26,
            },
            "awsRegion": "us-west-2",
            "eventName": "INSERT",
            "eventSourceARN": "arn:aws:dynamodb:us-west-2:111122223333:table/Orders/stream/2015-05-11T21:21:33.291",
            "eventSource": "aws:dynamodb",
        },
        {
            "eventID": "2",
            "eventVersion": "1.0",
            "dynamodb": {
                "OldImage": {"Message": {"S": "New item!"}, "Id": {"N": "101"}},
                "SequenceNumber": "222",
                "Keys": {"Id": {"N": "101"}},
                "SizeBytes": 59,
                "NewImage": {"Message": {"S": "This item has changed"}, "Id": {"N": "101"}},
                "StreamViewType": "NEW_AND_OLD_IMAGES",
            },
            "awsRegion": "us-west-2",
            "eventName": "MODIFY",
            "eventSourceARN": "arn:aws:dynamodb:us-west-2:111122223333:table/Orders/stream/2015-05-11T21:21:33.291",
            "eventSource": "aws:dynamodb",
        },
    ]
}


def warnings(out: str) -> list[dict[str, Any]]:
    found = []
    for line in out.splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict) and record.get("level") == "WARNING":
            found.append(record)
    return found


# -- trigger_requests: recognising each event kind ------------------------------------------------


def test_s3_put_event() -> None:
    [(kind, source, ctx)] = trigger_requests(S3_PUT) or []
    assert (kind, source) == ("bucket", "shop-uploads")
    assert ctx == {
        "s3": {
            "bucket": "shop-uploads",
            "key": "invoices/My Report(2024).pdf",
            "size": 1024,
            "etag": "0123456789abcdef0123456789abcdef",
            "event": "ObjectCreated:Put",
            "time": "2024-05-01T12:00:00.000Z",
        }
    }


def test_sns_notification() -> None:
    [(kind, source, ctx)] = trigger_requests(SNS_NOTIFICATION) or []
    assert (kind, source) == ("topic", "alerts")
    assert ctx["sns"] == {
        "message": '{"alarm": "HighCPU", "value": 97.5}',
        "subject": "ALARM",
        "topic": "alerts",
        "message_id": "95df01b4-ee98-5cb9-9903-4c221d41eb5e",
        "timestamp": "2019-01-02T12:45:07.000Z",
        "attributes": {"Test": "TestString", "TestBinary": "TestBinary"},
        "json": {"alarm": "HighCPU", "value": 97.5},
    }


def test_sqs_message() -> None:
    [(kind, source, ctx)] = trigger_requests(SQS_MESSAGE) or []
    assert (kind, source) == ("queue", "support-tickets")
    assert ctx["sqs"] == {
        "body": "Test message.",
        "message_id": "059f36b4-87a3-44ab-83d2-661975830a7d",
        "queue": "support-tickets",
        "attributes": {"myAttribute": "myValue"},
        "json": None,
    }


def test_scheduled_event() -> None:
    assert trigger_requests(SCHEDULED_EVENT) == [
        (
            "schedule",
            "nightly-report",
            {"schedule": {"time": "2015-10-08T16:53:06Z", "rule": "nightly-report"}},
        )
    ]


def test_custom_eventbridge_event() -> None:
    [(kind, source, ctx)] = trigger_requests(CUSTOM_EVENT) or []
    assert (kind, source) == ("pattern", None)
    assert ctx["detail"] == CUSTOM_EVENT["detail"]
    assert ctx["event"]["detail-type"] == ctx["event"]["detail_type"] == "Order Placed"
    assert ctx["event"]["source"] == "com.example.shop"

    with_rule = {
        **CUSTOM_EVENT,
        "resources": ["arn:aws:events:us-west-1:111122223333:rule/shop-bus/on-order"],
    }
    assert (trigger_requests(with_rule) or [])[0][1] == "on-order"


def test_dynamodb_stream_insert_and_modify() -> None:
    [(k1, t1, insert), (k2, t2, modify)] = trigger_requests(DDB_STREAM) or []
    assert (k1, t1, k2, t2) == ("table", "Orders", "table", "Orders")
    assert insert["ddb"] == {
        "event": "INSERT",
        "keys": {"Id": 101},
        "new": {
            "Message": "New item!",
            "Id": 101,
            "Price": 9.99,
            "Tags": ["a", "b"],
            "Active": True,
            "Meta": {"count": 3, "none": None},
        },
        "old": None,
        "table": "Orders",
    }
    assert modify["ddb"]["event"] == "MODIFY"
    assert modify["ddb"]["old"] == {"Message": "New item!", "Id": 101}
    assert modify["ddb"]["new"] == {"Message": "This item has changed", "Id": 101}
    json.dumps(insert)  # plain JSON: no Decimal, no set


@pytest.mark.parametrize(
    "event",
    [
        {"prompt": "hi"},
        {"Records": []},
        {"Records": [{"eventSource": "aws:kinesis"}]},
        {"Records": [SQS_MESSAGE["Records"][0], {"eventSource": "aws:kinesis"}]},
        "text",
        None,
    ],
)
def test_other_events_are_not_triggers(event: Any) -> None:
    assert trigger_requests(event) is None


# -- render_prompt ------------------------------------------------------------------------------


def ctx_of(event: dict[str, Any], i: int = 0) -> dict[str, Any]:
    return (trigger_requests(event) or [])[i][2]


@pytest.mark.parametrize(
    ("event", "kind", "template", "expected"),
    [
        (S3_PUT, "bucket", "Summarise s3://{{ s3.bucket }}/{{s3.key}} ({{  s3.size  }} bytes, {{ s3.event }})",
         "Summarise s3://shop-uploads/invoices/My Report(2024).pdf (1024 bytes, ObjectCreated:Put)"),
        (SNS_NOTIFICATION, "topic", "[{{ sns.subject }}] {{ sns.json.alarm }} at {{ sns.json.value }} on {{ sns.topic }}",
         "[ALARM] HighCPU at 97.5 on alerts"),
        (SQS_MESSAGE, "queue", "Ticket {{ sqs.message_id }} from {{ sqs.queue }}: {{ sqs.body }} ({{ sqs.attributes }})",
         'Ticket 059f36b4-87a3-44ab-83d2-661975830a7d from support-tickets: Test message. ({"myAttribute":"myValue"})'),
        (SCHEDULED_EVENT, "schedule", "Run {{ schedule.rule }} for {{ schedule.time }}",
         "Run nightly-report for 2015-10-08T16:53:06Z"),
        (CUSTOM_EVENT, "pattern", "{{ event.detail-type }}/{{ event.detail_type }} {{ detail.orderId }}: "
         "{{ detail.items.0.sku }} x{{ detail.items.0.qty }} {{ detail.items }}",
         'Order Placed/Order Placed o-1: A1 x2 [{"sku":"A1","qty":2}]'),
        (DDB_STREAM, "table", "{{ ddb.event }} {{ ddb.table }} {{ ddb.keys.Id }}: {{ ddb.new.Message }} {{ ddb.new.Active }}",
         "INSERT Orders 101: New item! true"),
    ],
)  # fmt: skip
def test_templates_render_each_kind(event: dict[str, Any], kind: str, template: str, expected: str) -> None:
    assert render_prompt(template, kind, ctx_of(event)) == expected


def test_missing_path_renders_empty_and_warns(capsys: pytest.CaptureFixture[str]) -> None:
    out = render_prompt(
        "key={{ s3.nope }};old={{ s3.key.deeper }};ok={{ s3.bucket }}", "bucket", ctx_of(S3_PUT)
    )
    assert out == "key=;old=;ok=shop-uploads"
    found = warnings(capsys.readouterr().out)
    assert [w["path"] for w in found] == ["s3.nope", "s3.key.deeper"]
    assert "s3.nope" in found[0]["msg"] and found[0]["level"] == "WARNING"


def test_null_value_renders_empty_without_warning(capsys: pytest.CaptureFixture[str]) -> None:
    assert render_prompt("old: {{ ddb.old }}", "table", ctx_of(DDB_STREAM)) == "old: "
    assert warnings(capsys.readouterr().out) == []


@pytest.mark.parametrize(
    ("event", "kind", "headline", "key"),
    [
        (S3_PUT, "bucket", "An S3 object event:", "s3"),
        (SNS_NOTIFICATION, "topic", "An SNS notification:", "sns"),
        (SQS_MESSAGE, "queue", "An SQS message:", "sqs"),
        (SCHEDULED_EVENT, "schedule", "A scheduled event:", "schedule"),
        (CUSTOM_EVENT, "pattern", "An EventBridge event:", "event"),
        (DDB_STREAM, "table", "A DynamoDB stream record:", "ddb"),
    ],
)
def test_default_prompt_is_the_record_as_json(
    event: dict[str, Any], kind: str, headline: str, key: str
) -> None:
    ctx = ctx_of(event)
    prompt = render_prompt(None, kind, ctx)
    first, _, rest = prompt.partition("\n")
    assert first == headline
    record = json.loads(rest)
    assert rest.startswith("{\n  ")  # indented
    expected = {k: v for k, v in ctx[key].items() if k not in ("json", "detail_type")}
    assert record == expected
    assert render_prompt("", kind, ctx) == prompt


# -- the handler: {"answers": [...]} --------------------------------------------------------------

ECHO_AGENT = """
from tests.unit.runtime.scripted import texts

model = ScriptedModel(default=lambda messages: "answer to: " + texts(messages)[-1])
agent = Agent(model=model, callback_handler=None)
"""


@pytest.fixture
def agent_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AgentDir:
    monkeypatch.delenv("STRANDS_SESSIONS_BUCKET", raising=False)
    monkeypatch.delenv("STRANDS_SESSIONS_DIR", raising=False)
    monkeypatch.delenv("STRANDS_TRIGGERS", raising=False)
    return AgentDir(tmp_path, monkeypatch)


def set_triggers(monkeypatch: pytest.MonkeyPatch, *triggers: dict[str, Any]) -> None:
    monkeypatch.setenv("STRANDS_TRIGGERS", json.dumps(list(triggers)))


def prompts(agent_dir: AgentDir) -> list[str]:
    return [texts(call["messages"])[-1] for call in agent_dir.module().model.calls]


def test_s3_records_each_answer_with_a_fresh_session(
    agent_dir: AgentDir, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    set_triggers(monkeypatch, {"kind": "bucket", "source": "shop-uploads", "prompt": "Read {{ s3.key }}"})
    agent_dir.write(ECHO_AGENT)
    event = copy.deepcopy(S3_PUT)
    second = copy.deepcopy(event["Records"][0])
    second["s3"]["object"]["key"] = "b.txt"
    event["Records"].append(second)

    out = handler(event)
    assert [a["response"] for a in out["answers"]] == [
        "answer to: Read invoices/My Report(2024).pdf",
        "answer to: Read b.txt",
    ]
    assert out["answers"][0]["session_id"] != out["answers"][1]["session_id"]
    calls = agent_dir.module().model.calls
    assert [len(texts(c["messages"])) for c in calls] == [1, 1]  # no shared conversation
    lines = log_lines(capsys.readouterr().out)
    assert [(r["trigger"], r["source"], r["status"]) for r in lines] == [("bucket", "shop-uploads", 200)] * 2


def test_sqs_without_template_keeps_todays_behaviour_and_with_one_renders_it(
    agent_dir: AgentDir, monkeypatch: pytest.MonkeyPatch
) -> None:
    agent_dir.write(ECHO_AGENT)
    event = copy.deepcopy(SQS_MESSAGE)
    event["Records"].append(
        {**event["Records"][0], "body": json.dumps({"prompt": "json ask", "session_id": "s-9"})}
    )
    out = handler(event)
    assert prompts(agent_dir) == ["Test message.", "json ask"]
    assert out["answers"][1]["session_id"] == "s-9"

    set_triggers(
        monkeypatch,
        {"kind": "queue", "source": "other-queue", "prompt": "wrong {{ sqs.body }}"},
        {"kind": "queue", "source": "support-tickets", "prompt": "Ticket: {{ sqs.body }}"},
    )
    agent_dir.entry("agent.py:agent")  # the new environment: a new container
    handler(SQS_MESSAGE)
    assert prompts(agent_dir)[-1] == "Ticket: Test message."


def test_schedule_matches_its_rule_and_pattern_falls_back_to_the_first(
    agent_dir: AgentDir, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_triggers(
        monkeypatch,
        {"kind": "schedule", "source": "hourly", "prompt": "hourly {{ schedule.time }}"},
        {
            "kind": "schedule",
            "source": "nightly-report",
            "prompt": "Write the nightly report ({{ schedule.rule }})",
        },
        {"kind": "pattern", "source": "on-order", "prompt": "New order {{ detail.orderId }}"},
        {"kind": "pattern", "source": "on-refund", "prompt": "Refund {{ detail.orderId }}"},
    )
    agent_dir.write(ECHO_AGENT)
    handler(SCHEDULED_EVENT)
    handler(CUSTOM_EVENT)
    handler({**CUSTOM_EVENT, "resources": ["arn:aws:events:us-west-1:111122223333:rule/on-refund"]})
    assert prompts(agent_dir) == [
        "Write the nightly report (nightly-report)",
        "New order o-1",
        "Refund o-1",
    ]


def test_events_without_a_trigger_entry_get_the_default_prompt(agent_dir: AgentDir) -> None:
    agent_dir.write(ECHO_AGENT)
    out = handler(SNS_NOTIFICATION)
    [prompt] = prompts(agent_dir)
    assert prompt.startswith("An SNS notification:\n{")
    assert json.loads(prompt.partition("\n")[2])["subject"] == "ALARM"
    assert len(out["answers"]) == 1

    handler(DDB_STREAM)
    assert [p.partition("\n")[0] for p in prompts(agent_dir)[1:]] == ["A DynamoDB stream record:"] * 2


def test_failing_record_raises_so_lambda_retries(agent_dir: AgentDir) -> None:
    agent_dir.write("raise RuntimeError('boom at import')\n", name="broken.py", header=False)
    agent_dir.entry("broken.py:agent")
    with pytest.raises(adapter.AgentError, match="notification 95df01b4.*boom at import"):
        handler(SNS_NOTIFICATION)
    with pytest.raises(adapter.AgentError, match="object s3://shop-uploads/invoices/My Report"):
        handler(S3_PUT)


def test_empty_rendered_prompt_is_a_400_not_retried(
    agent_dir: AgentDir, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_triggers(monkeypatch, {"kind": "bucket", "source": "shop-uploads", "prompt": "{{ s3.missing }}"})
    agent_dir.write(ECHO_AGENT)
    out = handler(S3_PUT)
    assert out["answers"][0]["status"] == 400


def test_bad_triggers_variable_is_ignored_with_a_warning(
    agent_dir: AgentDir, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("STRANDS_TRIGGERS", "{not json")
    agent_dir.write(ECHO_AGENT)
    assert handler(SCHEDULED_EVENT)["answers"][0]["response"].startswith("answer to: A scheduled event:")
    assert any("STRANDS_TRIGGERS" in w["msg"] for w in warnings(capsys.readouterr().out))


def test_direct_invokes_still_answer_directly(agent_dir: AgentDir, monkeypatch: pytest.MonkeyPatch) -> None:
    set_triggers(monkeypatch, {"kind": "bucket", "source": "shop-uploads", "prompt": "x"})
    agent_dir.write(ECHO_AGENT)
    out = handler({"prompt": "hello", "session_id": "s-1"})
    assert out["response"] == "answer to: hello" and out["session_id"] == "s-1"
