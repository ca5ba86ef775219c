"""`strands-deploy simulate` through the console script, against a local cloud: the sample events
name the agent's deployed trigger sources and reach its `live` alias."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import stop_process
from tests.helpers import AGENT_NO_LAYER, write_project
from tests.integration.local.conftest import Cloud, start_server

PROJECT = """\
project: sim
region: us-east-1
agents:
  bot:
    path: agents/bot
    trigger: jobs
    triggers:
      - {{bucket: docs, prefix: in/, suffix: .txt}}
      - {{topic: news}}
      - {{schedule: "cron(0 9 * * ? *)"}}
      - {{pattern: {{source: [acme.orders], detail-type: [created]}}}}
      - {{table: tickets}}
  plain:
    path: agents/plain
resources:
  jobs: {{type: queue}}
  docs: {{type: bucket, retain: false}}
  news: {{type: topic}}
  tickets: {{type: table, key: id, retain: false}}
environments:
  local: {{endpoint: "{endpoint}"}}
"""
AGENT = AGENT_NO_LAYER
ACCOUNT = "123456789012"


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cloud]:
    root = tmp_path_factory.mktemp("sim-cloud")
    server = start_server(root / "state", root / "server.log")
    try:
        yield server
    finally:
        stop_process(server.proc)


@pytest.fixture(scope="module")
def cli(cloud: Cloud, tmp_path_factory: pytest.TempPathFactory) -> Any:
    from tests.conftest import Cli

    root = write_project(
        tmp_path_factory.mktemp("sim") / "p",
        PROJECT.format(endpoint=cloud.endpoint),
        agents={"bot": AGENT, "plain": AGENT},
        requirements="",
    )
    run = Cli(root)
    deployed = run("deploy", "--json")
    assert deployed.returncode == 0, deployed.stderr + deployed.stdout
    return run


def simulate(cli: Any, *args: str) -> dict[str, Any]:
    proc = cli("simulate", "bot", *args, "--json")
    assert proc.returncode == 0, proc.stderr + proc.stdout
    result: dict[str, Any] = json.loads(proc.stdout)
    return result


def test_s3_events_name_the_deployed_bucket(cli: Any) -> None:
    put = simulate(cli, "s3:put", "--key", "in/report 1.txt")
    record = put["event"]["Records"][0]
    assert record["eventSource"] == "aws:s3" and record["eventName"] == "ObjectCreated:Put"
    assert record["s3"]["bucket"]["name"] == f"sim-local-docs-{ACCOUNT}"
    assert record["s3"]["object"]["key"] == "in/report+1.txt"  # URL-encoded, as S3 sends it
    assert isinstance(put["answer"], dict)  # what the runtime answers is the runtime's

    default = simulate(cli, "s3:delete")["event"]["Records"][0]
    assert default["eventName"] == "ObjectRemoved:Delete"
    assert default["s3"]["object"]["key"].startswith("in/") and default["s3"]["object"]["key"].endswith(
        ".txt"
    )


def test_sns_schedule_event_and_stream_samples(cli: Any) -> None:
    sns = simulate(cli, "sns", "--message", "hello", "--subject", "hi")["event"]["Records"][0]
    assert sns["Sns"]["TopicArn"] == f"arn:aws:sns:us-east-1:{ACCOUNT}:sim-local-news"
    assert (sns["Sns"]["Message"], sns["Sns"]["Subject"]) == ("hello", "hi")
    assert sns["EventSubscriptionArn"].startswith(sns["Sns"]["TopicArn"] + ":")

    schedule = simulate(cli, "schedule")["event"]
    assert schedule["detail-type"] == "Scheduled Event" and schedule["source"] == "aws.events"
    assert schedule["resources"] == [f"arn:aws:events:us-east-1:{ACCOUNT}:rule/sim-local-bot-schedule"]

    event = simulate(cli, "event", "--detail", '{"order": 7}')["event"]
    assert (event["source"], event["detail-type"], event["detail"]) == (
        "acme.orders",
        "created",
        {"order": 7},
    )

    ddb = simulate(cli, "ddb:modify", "--keys", '{"id": "t-1"}', "--new", '{"status": "open", "n": 2}')
    record = ddb["event"]["Records"][0]
    assert record["eventName"] == "MODIFY" and record["eventSource"] == "aws:dynamodb"
    assert record["dynamodb"]["Keys"] == {"id": {"S": "t-1"}}
    assert record["dynamodb"]["NewImage"] == {"id": {"S": "t-1"}, "status": {"S": "open"}, "n": {"N": "2"}}
    assert record["dynamodb"]["OldImage"] == {"id": {"S": "t-1"}}
    assert "/stream/" in record["eventSourceARN"] and "sim-local-tickets" in record["eventSourceARN"]


def test_sqs_message_is_answered_by_the_agent(cli: Any) -> None:
    result = simulate(cli, "sqs", "--body", "Say hi")
    record = result["event"]["Records"][0]
    assert record["eventSourceARN"] == f"arn:aws:sqs:us-east-1:{ACCOUNT}:sim-local-jobs"
    assert record["body"] == "Say hi"
    answers = result["answer"]["answers"]  # the runtime answers queue batches already
    assert len(answers) == 1 and answers[0]["response"]

    plain = cli("simulate", "bot", "sqs", "--body", "Say hi")
    assert plain.returncode == 0 and plain.stdout.strip() == str(answers[0]["response"]).strip()


def test_clear_errors(cli: Any) -> None:
    missing = cli("simulate", "plain", "s3:put")
    assert missing.returncode != 0
    assert "agent 'plain' has no bucket trigger" in missing.stderr and "--bucket" in missing.stderr
    unknown = cli("simulate", "bott", "sns")
    assert unknown.returncode != 0 and "did you mean 'bot'?" in unknown.stderr
    bad = cli("simulate", "bot", "ddb:insert", "--keys", "[1]")
    assert bad.returncode != 0 and "--keys must be a JSON object" in bad.stderr
