"""Triggers on the local cloud: a project whose agents are triggered by a topic, a bucket (prefix and
suffix), a schedule, an event pattern and a table stream, deployed to the local cloud; each event
reaches its agent's function once (its log shows one request per event). Then the events' shapes,
with a function that prints what it gets."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from strands_deploy.services import deploy, open_services
from tests.helpers import AGENT_NO_LAYER, write_project
from tests.integration.local.conftest import Cloud, create_function, unique

PROJECT = """\
project: {project}
region: us-east-1
agents:
  on-topic:
    path: agents/on-topic
    triggers: [{{topic: news, prompt: "News: {{{{ sns.message }}}}"}}]
  on-bucket:
    path: agents/on-bucket
    triggers: [{{bucket: docs, prefix: in/, suffix: .txt}}]
  on-schedule:
    path: agents/on-schedule
    triggers: [{{schedule: "rate(1 minute)"}}]
  on-pattern:
    path: agents/on-pattern
    triggers: [{{pattern: {{source: [acme.orders], detail-type: [created]}}}}]
  on-table:
    path: agents/on-table
    triggers: [{{table: tickets}}]
resources:
  news: {{type: topic}}
  docs: {{type: bucket, retain: false}}
  tickets: {{type: table, key: id, retain: false}}
environments:
  local: {{endpoint: "{endpoint}"}}
"""
AGENT = AGENT_NO_LAYER
AGENTS = ["on-topic", "on-bucket", "on-schedule", "on-pattern", "on-table"]
ACCOUNT = "123456789012"

PRINT_EVENT = """
import json

def handler(event, context):
    print("EVENT " + json.dumps(event))
    return {"ok": True}
"""


@pytest.fixture
def fast_schedules(cloud: Cloud) -> Iterator[None]:
    """rate(1 minute) fires every second (config.json `schedule_speed`, re-read by the server)."""
    cloud.set_config(schedule_speed=60)
    try:
        yield
    finally:
        cloud.set_config(schedule_speed=None)


def log_lines(cloud: Cloud, group: str, prefix: str) -> list[str]:
    logs = cloud.client("logs")
    try:
        pages = logs.get_paginator("filter_log_events").paginate(logGroupName=group)
        return [e["message"] for page in pages for e in page["events"] if e["message"].startswith(prefix)]
    except logs.exceptions.ResourceNotFoundException:
        return []


def wait_for(cloud: Cloud, group: str, prefix: str, count: int, timeout: float = 90) -> list[str]:
    """At least ``count`` lines starting with ``prefix`` in the group (polled)."""
    deadline = time.monotonic() + timeout
    while True:
        lines = log_lines(cloud, group, prefix)
        if len(lines) >= count or time.monotonic() > deadline:
            return lines
        time.sleep(0.3)


def requests(cloud: Cloud, function: str) -> int:
    return len(log_lines(cloud, f"/aws/lambda/{function}", "START RequestId"))


def test_every_trigger_kind_delivers_to_its_agent(cloud: Cloud, tmp_path: Path, fast_schedules: None) -> None:
    project = unique("trg")
    root = write_project(
        tmp_path / "p",
        PROJECT.format(project=project, endpoint=cloud.endpoint),
        agents=dict.fromkeys(AGENTS, AGENT),
        requirements="",
    )
    services = open_services(root, "local")
    outcome = deploy(services)
    assert outcome is not None and outcome.result.ok, outcome and outcome.result
    fn = {a: f"{project}-local-{a}" for a in AGENTS}
    lam = cloud.client("lambda")
    env = lam.get_function_configuration(FunctionName=fn["on-topic"])["Environment"]["Variables"]
    assert json.loads(env["STRANDS_TRIGGERS"]) == [
        {"kind": "topic", "source": f"{project}-local-news", "prompt": "News: {{ sns.message }}"}
    ]

    # the schedule fires on its own (every second, sped up), through the rule and its permission
    assert len(wait_for(cloud, f"/aws/lambda/{fn['on-schedule']}", "START RequestId", 2)) >= 2

    topic_arn = f"arn:aws:sns:us-east-1:{ACCOUNT}:{project}-local-news"
    cloud.client("sns").publish(TopicArn=topic_arn, Message="hello", Subject="greeting")

    s3 = cloud.client("s3")
    bucket = f"{project}-local-docs-{ACCOUNT}"
    s3.put_object(Bucket=bucket, Key="in/report.txt", Body=b"x")
    s3.put_object(Bucket=bucket, Key="in/photo.png", Body=b"x")  # suffix filtered out
    s3.put_object(Bucket=bucket, Key="out/report.txt", Body=b"x")  # prefix filtered out

    events = cloud.client("events")
    events.put_events(
        Entries=[
            {"Source": "acme.orders", "DetailType": "created", "Detail": json.dumps({"id": 1})},
            {"Source": "acme.orders", "DetailType": "deleted", "Detail": json.dumps({"id": 2})},  # no match
            {"Source": "other", "DetailType": "created", "Detail": "{}"},  # no match
        ]
    )

    cloud.client("dynamodb").put_item(TableName=f"{project}-local-tickets", Item={"id": {"S": "t-1"}})

    for agent in ("on-topic", "on-bucket", "on-pattern", "on-table"):
        assert len(wait_for(cloud, f"/aws/lambda/{fn[agent]}", "START RequestId", 1)) >= 1, agent
    time.sleep(2)  # anything extra (a filtered object or event) would have arrived by now
    for agent in ("on-topic", "on-bucket", "on-pattern", "on-table"):
        assert requests(cloud, fn[agent]) == 1, agent


def test_event_shapes(cloud: Cloud, role_arn: str, fast_schedules: None) -> None:
    """What each service sends, as AWS sends it (the runtime renders prompts from these)."""
    lam = cloud.client("lambda")
    name = create_function(cloud, role_arn, PRINT_EVENT)
    version = lam.publish_version(FunctionName=name)["Version"]
    alias_arn = lam.create_alias(FunctionName=name, Name="live", FunctionVersion=version)["AliasArn"]
    group = f"/aws/lambda/{name}"

    def events_seen(count: int) -> list[dict[str, Any]]:
        lines = wait_for(cloud, group, "EVENT ", count)
        return [json.loads(line[len("EVENT ") :]) for line in lines]

    sns = cloud.client("sns")
    topic_arn = sns.create_topic(Name=unique("topic"))["TopicArn"]
    sns.subscribe(TopicArn=topic_arn, Protocol="lambda", Endpoint=alias_arn)
    sns.publish(
        TopicArn=topic_arn,
        Message="hello",
        Subject="greeting",
        MessageAttributes={"kind": {"DataType": "String", "StringValue": "note"}},
    )
    record = events_seen(1)[0]["Records"][0]
    assert record["EventSource"] == "aws:sns" and record["EventSubscriptionArn"].startswith(topic_arn + ":")
    assert record["Sns"]["TopicArn"] == topic_arn
    assert (record["Sns"]["Message"], record["Sns"]["Subject"]) == ("hello", "greeting")
    assert record["Sns"]["MessageAttributes"] == {"kind": {"Type": "String", "Value": "note"}}
    assert not record["Sns"]["Timestamp"].startswith("1970")

    events = cloud.client("events")
    rule = unique("rule")
    events.put_rule(Name=rule, EventPattern=json.dumps({"source": ["acme.shapes"]}))
    events.put_targets(Rule=rule, Targets=[{"Id": "agent", "Arn": alias_arn}])
    events.put_events(Entries=[{"Source": "acme.shapes", "DetailType": "created", "Detail": '{"id": 7}'}])
    event = events_seen(2)[1]
    assert (event["source"], event["detail-type"], event["detail"]) == ("acme.shapes", "created", {"id": 7})
    assert event["time"].endswith("Z") and "ingestion-time" not in event
    events.remove_targets(Rule=rule, Ids=["agent"])

    schedule = unique("every-minute")
    events.put_rule(Name=schedule, ScheduleExpression="rate(1 minute)")
    events.put_targets(Rule=schedule, Targets=[{"Id": "agent", "Arn": alias_arn}])
    scheduled = next(e for e in events_seen(3)[2:] if e.get("detail-type") == "Scheduled Event")
    assert scheduled["source"] == "aws.events" and scheduled["detail"] == {}
    assert scheduled["resources"] == [events.describe_rule(Name=schedule)["Arn"]]
    assert scheduled["time"].endswith("Z")
    events.remove_targets(Rule=schedule, Ids=["agent"])
    events.delete_rule(Name=schedule)
    seen = len(events_seen(3))

    s3 = cloud.client("s3")
    bucket = unique("shapes")
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_notification_configuration(
        Bucket=bucket,
        NotificationConfiguration={
            "LambdaFunctionConfigurations": [
                {"Id": "strands-x", "LambdaFunctionArn": alias_arn, "Events": ["s3:ObjectCreated:*"]}
            ]
        },
    )
    s3.put_object(Bucket=bucket, Key="in/my file.txt", Body=b"12345")
    s3_event = next(e for e in events_seen(seen + 1)[seen:] if "Records" in e)["Records"][0]
    assert s3_event["eventSource"] == "aws:s3" and s3_event["eventName"] == "ObjectCreated:Put"
    assert s3_event["s3"]["bucket"]["name"] == bucket
    assert (s3_event["s3"]["object"]["key"], s3_event["s3"]["object"]["size"]) == ("in/my+file.txt", 5)
