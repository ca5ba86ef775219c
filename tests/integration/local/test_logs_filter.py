"""FilterLogEvents with AWS's filter pattern semantics: moto finds the events, the pattern engine
(strands_deploy.local.filter_pattern) keeps the matching ones."""

from __future__ import annotations

import io
import json
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from werkzeug.wrappers import Response

from strands_deploy.local import filter_pattern
from tests.integration.local.conftest import Cloud

LINES = [
    '{"level": "INFO", "status": 200, "duration_ms": 12, "path": "/api/items"}',
    '{"level": "ERROR", "status": 500, "duration_ms": 2400, "path": "/api/orders"}',
    '{"level": "WARNING", "status": 400, "duration_ms": 1500, "path": "/api/items/7"}',
    "START RequestId: 1 Version: $LATEST",
    "[ERROR] Throttled: rate exceeded",
    "plain text with ERROR and Exception",
]
CASES = {
    '{ $.level = "ERROR" }': [1],
    "{ $.status = 400 }": [2],
    "{ $.duration_ms > 1000 }": [1, 2],
    '{ $.path = "*items*" && $.status != 200 }': [2],
    "{ $.status >= 400 || $.level = INFO }": [0, 1, 2],
    "ERROR": [1, 4, 5],  # terms match JSON events' text too
    "ERROR -Throttled": [1, 5],
    "?START ?Throttled": [3, 4],
    '"rate exceeded"': [4],
    "": [0, 1, 2, 3, 4, 5],
}


def _moto_app() -> Any:
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    return DomainDispatcherApplication(create_backend_app)


def _target(op: str) -> dict[str, str]:
    return {
        "X-Amz-Target": f"Logs_20140328.{op}",
        "Content-Type": "application/x-amz-json-1.1",
        "Authorization": "AWS4-HMAC-SHA256 Credential=testing/20240101/us-east-1/logs/aws4_request",
    }


def test_the_filter_log_events_answer_over_moto() -> None:
    """The handler server.py routes FilterLogEvents to, over moto's own logs API, in-process."""
    from moto import mock_aws
    from werkzeug.test import Client, EnvironBuilder

    with mock_aws():
        app = _moto_app()
        client = Client(app)
        group = f"/aws/lambda/{uuid.uuid4().hex[:8]}"
        now = int(time.time() * 1000)
        for op, body in [
            ("CreateLogGroup", {"logGroupName": group}),
            ("CreateLogStream", {"logGroupName": group, "logStreamName": "s"}),
            (
                "PutLogEvents",
                {
                    "logGroupName": group,
                    "logStreamName": "s",
                    "logEvents": [{"timestamp": now + i, "message": m} for i, m in enumerate(LINES)],
                },
            ),
        ]:
            assert client.post("/", data=json.dumps(body), headers=_target(op)).status_code == 200

        def call_moto(body: bytes) -> Response:
            env = EnvironBuilder(path="/", method="POST", data=body, headers=_target("FilterLogEvents"))
            environ = env.get_environ()
            environ["wsgi.input"] = io.BytesIO(body)
            return Response.from_app(app, environ)

        for pattern, wanted in CASES.items():
            body = json.dumps({"logGroupName": group, "filterPattern": pattern}).encode()
            answer = filter_pattern.answer_filter_log_events(body, call_moto)
            assert answer.status_code == 200
            got = [e["message"] for e in json.loads(answer.get_data())["events"]]
            assert got == [LINES[i] for i in wanted], pattern

        bad = json.dumps({"logGroupName": group, "filterPattern": "{ $.status > }"}).encode()
        answer = filter_pattern.answer_filter_log_events(bad, call_moto)
        assert answer.status_code == 400
        assert json.loads(answer.get_data())["__type"] == "InvalidParameterException"


def _server_routes_filter_log_events() -> bool:
    from strands_deploy.local import server

    return "answer_filter_log_events" in Path(server.__file__).read_text(encoding="utf-8")


@pytest.mark.skipif(
    not _server_routes_filter_log_events(),
    reason="local/server.py does not route FilterLogEvents to filter_pattern.answer_filter_log_events yet",
)
def test_filter_log_events_through_the_local_cloud(cloud: Cloud) -> None:
    logs = cloud.client("logs")
    group = f"/aws/lambda/{uuid.uuid4().hex[:8]}"
    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName="s")
    now = int(time.time() * 1000)
    events = [{"timestamp": now + i, "message": m} for i, m in enumerate(LINES)]
    logs.put_log_events(logGroupName=group, logStreamName="s", logEvents=events)
    for pattern, wanted in CASES.items():
        pages = logs.get_paginator("filter_log_events").paginate(logGroupName=group, filterPattern=pattern)
        got = [e["message"] for page in pages for e in page["events"]]
        assert got == [LINES[i] for i in wanted], pattern
    with pytest.raises(ClientError) as exc:
        logs.filter_log_events(logGroupName=group, filterPattern='{ $.level = "ERROR"')
    assert exc.value.response["Error"]["Code"] == "InvalidParameterException"
