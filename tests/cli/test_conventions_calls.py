"""-v and the progress spinner's source: every AWS call observed through botocore's hooks
(aws/calllog.py), against the shared moto server; a profile that is not configured says how to
configure it."""

from __future__ import annotations

import json
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from strands_deploy.aws.calllog import CallMonitor, CallRecord
from strands_deploy.aws.session import AwsContext, AwsSettings
from strands_deploy.errors import StrandsDeployError
from tests.conftest import free_port


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def observed(endpoint: str, monitor: CallMonitor) -> AwsContext:
    aws = AwsContext(AwsSettings(region="us-east-1", endpoint_url=endpoint, local=True, max_attempts=1))
    monitor.attach(aws.session().events)
    return aws


def test_each_call_is_reported_with_status_and_duration(moto: str) -> None:
    monitor = CallMonitor()
    aws = observed(moto, monitor)
    records: list[CallRecord] = []
    unsubscribe = monitor.subscribe(records.append)
    aws.client("s3").create_bucket(Bucket="calllog-demo")
    with pytest.raises(Exception, match="404|Not Found"):
        aws.client("s3").head_bucket(Bucket="calllog-missing")
    unsubscribe()
    aws.client("s3").list_buckets()  # not reported any more
    assert [(r.service, r.operation, r.status) for r in records] == [
        ("s3", "CreateBucket", 200),
        ("s3", "HeadBucket", 404),
    ]
    assert all(r.seconds >= 0 for r in records)
    assert records[0].describe().startswith("s3 CreateBucket 200 ")
    assert monitor.in_flight() == []


def test_a_call_without_a_response_is_reported_and_leaves_no_call_in_flight() -> None:
    monitor = CallMonitor()
    aws = observed(f"http://127.0.0.1:{free_port()}", monitor)  # nothing listens there
    records: list[CallRecord] = []
    monitor.subscribe(records.append)
    with pytest.raises(Exception, match="[Cc]onnect"):
        aws.client("sqs").list_queues()
    assert len(records) == 1 and records[0].status is None and "Connect" in str(records[0].error)
    assert "no response" in records[0].describe()
    assert monitor.in_flight() == []


def test_slow_calls_are_found_by_the_monitor_clock() -> None:
    clock = FakeClock()
    monitor = CallMonitor(clock=clock)
    first = monitor.start("lambda", "Invoke")
    clock.now += 0.3
    second = monitor.start("s3", "PutObject")
    assert monitor.waiting_longer_than(0.5) is None
    clock.now += 0.3  # the first has waited 0.6 s, the second 0.3 s
    slow = monitor.waiting_longer_than(0.5)
    assert slow is not None and (slow.service, slow.operation) == ("lambda", "Invoke")
    monitor.finish(first, 200, None)
    assert monitor.waiting_longer_than(0.5) is None
    clock.now += 0.3
    assert monitor.waiting_longer_than(0.5) is not None
    monitor.finish(second, 200, None)
    assert monitor.in_flight() == []


def test_the_spinner_text_names_the_slow_call() -> None:
    from strands_deploy.cli.progress import spinner_text

    clock = FakeClock()
    monitor = CallMonitor(clock=clock)
    monitor.start("lambda", "Invoke")
    monitor.start("s3", "PutObject")
    clock.now += 1
    slow = monitor.waiting_longer_than(0.5)
    assert spinner_text(slow, len(monitor.in_flight())) == "waiting for AWS: lambda Invoke (+1 more)…"


def test_a_profile_that_is_not_configured_says_how_to_configure_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty = tmp_path / "aws-config"
    empty.write_text("")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(empty))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(empty))
    aws = AwsContext(AwsSettings(region="us-east-1", profile="nobody-here"))
    with pytest.raises(StrandsDeployError) as info:
        aws.session()
    assert "'nobody-here' is not configured" in info.value.what
    assert "aws configure --profile nobody-here" in str(info.value.fix)
    assert "aws sso login --profile nobody-here" in str(info.value.fix)


PROJECT = """\
project: verb
region: us-east-1
agents: {{}}
environments:
  dev:
    endpoint: "{endpoint}"
    state: {{backend: s3, bucket: verbose-state}}
"""


def test_verbose_prints_each_aws_call_with_its_duration(
    moto: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from strands_deploy.cli.main import main

    root = tmp_path / "p"
    root.mkdir()
    (root / "strands.yaml").write_text(PROJECT.format(endpoint=moto))
    main(["state", "bootstrap", "--env", "dev", "-C", str(root), "--json", "-v"])  # no exit: it worked
    captured = capsys.readouterr()
    assert json.loads(captured.out)["bucket"] == "verbose-state"
    lines = [line for line in captured.err.splitlines() if line.startswith("aws ")]
    assert any(line.startswith("aws s3 CreateBucket 200 ") and line.endswith("s") for line in lines), lines
    # without -v: no call is printed
    main(["state", "bootstrap", "--env", "dev", "-C", str(root), "--json"])
    assert "aws s3" not in capsys.readouterr().err


class Held(BaseHTTPRequestHandler):
    """Holds every request until the test releases it, then answers 403 (an S3 access denial)."""

    release = threading.Event()

    def _answer(self) -> None:
        self.release.wait(timeout=120)
        self.send_response(403)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_HEAD = do_GET = do_PUT = do_POST = _answer  # noqa: N815

    def log_message(self, *args: Any) -> None:
        pass


def test_a_spinner_names_the_call_that_waits_on_a_terminal(tmp_path: Path) -> None:
    from tests.cli.test_chat import Terminal
    from tests.conftest import BIN

    release = threading.Event()
    handler = type("HeldOnce", (Held,), {"release": release})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    root = tmp_path / "p"
    root.mkdir()
    (root / "strands.yaml").write_text(PROJECT.format(endpoint=f"http://127.0.0.1:{server.server_port}"))
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
    # a real terminal type: rich animates nothing on a "dumb" one
    term = Terminal([str(BIN), "-C", str(root), "state", "bootstrap", "--env", "dev"], env, term="xterm")
    try:
        term.expect("waiting for AWS: s3 HeadBucket", timeout=30)  # shown while the call is held
        release.set()
        term.expect("error:")
        assert term.proc.wait(timeout=60) == 1
    finally:
        release.set()
        term.close()
        server.shutdown()
        server.server_close()
