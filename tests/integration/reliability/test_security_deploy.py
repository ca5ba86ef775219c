"""Issue 11 through a real deploy against moto: alarms notify (email, SNS, webhook forwarder),
an inline policy added by hand to an agent's role is shown by plan and removed by deploy, and
each agent has its own role holding only its own links."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest

from strands_deploy import services as svc
from tests.helpers import write_project

PROJECT = """\
project: sec
agents:
  reader: {{path: agents/reader, link: [{{to: tickets, access: read}}]}}
  writer: {{path: agents/writer, alarms: false, link: [jobs]}}
resources:
  tickets: {{type: table, key: id}}
  jobs: {{type: queue}}
  hook: {{type: secret, from_env: SEC_HOOK}}
environments:
  local:
    endpoint: "{endpoint}"
    alarms: {{notify: [{{email: ops@example.com}}, {{webhook: {{secret: hook}}}}, {{sns: "arn:aws:sns:us-east-1:123456789012:pager"}}]}}
"""


def client(service: str, endpoint: str) -> Any:
    return boto3.client(service, endpoint_url=endpoint, region_name="us-east-1")


@pytest.fixture
def project(tmp_path: Path, moto: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SEC_HOOK", "https://hooks.example.com/T000/B000/secret")
    root = write_project(
        tmp_path / "p",
        PROJECT.format(endpoint=moto),
        agents={"reader": "agent = 1\n", "writer": "agent = 2\n"},
        requirements="",
    )
    outcome = svc.deploy(svc.open_services(root, "local"))
    assert outcome is not None and outcome.result.ok, outcome.result.to_json() if outcome else None
    return root


def test_alarms_notify_every_target(project: Path, moto: str) -> None:
    alarm = client("cloudwatch", moto).describe_alarms(AlarmNames=["sec-local-reader-errors"])[
        "MetricAlarms"
    ][0]
    topic = next(
        t["TopicArn"]
        for t in client("sns", moto).list_topics()["Topics"]
        if t["TopicArn"].endswith(":sec-local-alarms")
    )
    assert sorted(alarm["AlarmActions"]) == sorted([topic, "arn:aws:sns:us-east-1:123456789012:pager"])
    subs = client("sns", moto).list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    assert sorted(s["Protocol"] for s in subs) == ["email", "lambda"]
    forwarder = client("lambda", moto).get_function(FunctionName="sec-local-notify-hook")["Configuration"]
    assert forwarder["Handler"] == "notify.handler"
    assert "hooks.example.com" not in json.dumps(forwarder)  # the URL stays in the secret


def test_each_agent_has_its_own_role_and_only_its_links(project: Path, moto: str) -> None:
    iam = client("iam", moto)
    reader = iam.get_role_policy(RoleName="sec-local-reader", PolicyName="sec-local-reader")["PolicyDocument"]
    text = json.dumps(reader)
    assert "sec-local-tickets" in text and "sec-local-jobs" not in text and "dynamodb:PutItem" not in text
    writer = json.dumps(
        iam.get_role_policy(RoleName="sec-local-writer", PolicyName="sec-local-writer")["PolicyDocument"]
    )
    assert "sec-local-jobs" in writer and "sec-local-tickets" not in writer


def test_an_inline_policy_added_by_hand_is_shown_and_removed(project: Path, moto: str) -> None:
    iam = client("iam", moto)
    doc = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
    iam.put_role_policy(RoleName="sec-local-reader", PolicyName="backdoor", PolicyDocument=json.dumps(doc))
    plan = svc.make_plan(svc.open_services(project, "local")).plan
    role = next(c for c in plan.actionable if c.address == "agent.reader.role")
    assert role.reason == "changed outside strands-deploy" and "inline_policies" in role.diff
    # a deploy reads in full only what it changes: the role's grants are read by `plan` and by
    # `deploy --refresh-all`, which removes them
    outcome = svc.deploy(svc.open_services(project, "local"), refresh_scope="all")
    assert outcome is not None and outcome.result.ok
    assert iam.list_role_policies(RoleName="sec-local-reader")["PolicyNames"] == ["sec-local-reader"]


def test_grants_made_by_hand_on_a_function_are_shown_and_removed(project: Path, moto: str) -> None:
    lam = client("lambda", moto)
    lam.add_permission(
        FunctionName="sec-local-reader",
        StatementId="anyone",
        Action="lambda:InvokeFunction",
        Principal="*",
    )
    lam.add_permission(
        FunctionName="sec-local-reader",
        Qualifier="live",
        StatementId="other-account",
        Action="lambda:InvokeFunction",
        Principal="111122223333",
    )
    queue = client("sqs", moto).get_queue_attributes(
        QueueUrl=client("sqs", moto).get_queue_url(QueueName="sec-local-jobs")["QueueUrl"],
        AttributeNames=["QueueArn"],
    )["Attributes"]["QueueArn"]
    lam.create_event_source_mapping(FunctionName="sec-local-reader", EventSourceArn=queue)
    plan = svc.make_plan(svc.open_services(project, "local")).plan
    fn = next(c for c in plan.actionable if c.address == "agent.reader.function")
    assert fn.reason == "changed outside strands-deploy" and fn.diff["exclusive_access"] == (False, True)
    outcome = svc.deploy(svc.open_services(project, "local"), refresh_scope="all")
    assert outcome is not None and outcome.result.ok, outcome.result.to_json()
    for qualifier in ({}, {"Qualifier": "live"}):
        try:
            statements = json.loads(lam.get_policy(FunctionName="sec-local-reader", **qualifier)["Policy"])[
                "Statement"
            ]
        except lam.exceptions.ResourceNotFoundException:
            statements = []
        assert all(s["Sid"].startswith("strands-") for s in statements), statements
    assert lam.list_event_source_mappings(FunctionName="sec-local-reader")["EventSourceMappings"] == []
    assert not svc.make_plan(svc.open_services(project, "local")).plan.has_changes()
