"""The webhook forwarder (issue 11, item 12): an SNS alarm record becomes one POST to the webhook
URL read from Secrets Manager; the builtin code is packaged like an agent's."""

from __future__ import annotations

import json
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import boto3
import pytest

from strands_deploy.packaging.build import build_code_zip
from strands_deploy.packaging.hashing import code_hash, code_root
from strands_deploy.runtime.builtin.notify import notify


class Receiver(BaseHTTPRequestHandler):
    bodies: list[dict[str, Any]] = []

    def do_POST(self) -> None:  # noqa: N802
        length = int(self.headers.get("Content-Length", 0))
        Receiver.bodies.append(json.loads(self.rfile.read(length)))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        return None


@pytest.fixture
def receiver() -> Any:
    Receiver.bodies = []
    server = HTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook"
    finally:
        server.shutdown()
        server.server_close()


ALARM = {
    "AlarmName": "acme-prod-support-errors",
    "NewStateValue": "ALARM",
    "NewStateReason": "Threshold Crossed: 1 datapoint [3.0] was >= the threshold (1.0).",
}


def test_alarm_is_forwarded_to_the_webhook(moto: str, receiver: str, monkeypatch: pytest.MonkeyPatch) -> None:
    secrets = boto3.client("secretsmanager", endpoint_url=moto, region_name="us-east-1")
    arn = secrets.create_secret(Name="acme/prod/slack-url", SecretString=receiver)["ARN"]
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto)
    monkeypatch.setenv("STRANDS_WEBHOOK_SECRET_ARN", arn)
    monkeypatch.setattr(notify, "_url", None)
    event = {"Records": [{"Sns": {"Subject": "ALARM", "Message": json.dumps(ALARM)}}]}
    assert notify.handler(event, None) == {"sent": 1}
    [body] = Receiver.bodies
    assert body["text"] == body["content"]
    assert "acme-prod-support-errors is ALARM" in body["text"] and "Threshold Crossed" in body["text"]
    assert receiver not in json.dumps(body)  # the URL itself is never echoed


def test_builtin_code_is_packaged(tmp_path: Path) -> None:
    root = code_root(tmp_path, "builtin:notify")
    digest = code_hash(root)
    zipped = build_code_zip(tmp_path, "builtin:notify", digest, tmp_path / "cache")
    names = zipfile.ZipFile(zipped).namelist()
    assert "notify.py" in names and "_strands_runtime.py" in names
