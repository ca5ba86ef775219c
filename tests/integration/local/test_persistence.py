"""The local cloud keeps its resources across restarts (snapshots), and stops itself when idle."""

from __future__ import annotations

import json
import os
import signal
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import stop_process
from tests.integration.local.conftest import Cloud, create_function, invoke, start_server

CODE = "def handler(event, context):\n    return {'statusCode': 200, 'body': 'persisted'}\n"


def _role(cloud: Cloud) -> str:
    iam = cloud.client("iam")
    return str(iam.create_role(RoleName="r", AssumeRolePolicyDocument="{}")["Role"]["Arn"])


def _stop(cloud: Cloud) -> None:
    cloud.proc.send_signal(signal.SIGTERM)
    cloud.proc.wait(timeout=30)


def _wait_saved(state: Path, after: float) -> None:
    deadline = time.monotonic() + 15
    path = state / "snapshot.pickle"
    while time.monotonic() < deadline:
        if path.exists() and path.stat().st_mtime > after:
            return
        time.sleep(0.1)
    raise AssertionError("no snapshot was written")


@pytest.mark.slow
def test_state_survives_stop_kill_and_reset(tmp_path: Path) -> None:
    state, log = tmp_path / "state", tmp_path / "server.log"
    cloud = start_server(state, log)
    try:
        ddb, s3 = cloud.client("dynamodb"), cloud.client("s3")
        ddb.create_table(
            TableName="t",
            KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        ddb.put_item(TableName="t", Item={"k": {"S": "a"}})
        s3.create_bucket(Bucket="kept-bucket")
        s3.put_object(Bucket="kept-bucket", Key="o", Body=b"hello")
        fn = create_function(cloud, _role(cloud), CODE, name="f")
        lam = cloud.client("lambda")
        lam.publish_version(FunctionName=fn)
        lam.create_alias(FunctionName=fn, Name="live", FunctionVersion="1")
        url = lam.create_function_url_config(FunctionName=fn, AuthType="NONE", Qualifier="live")[
            "FunctionUrl"
        ]
        api_id = cloud.client("apigatewayv2").create_api(Name="a", ProtocolType="HTTP")["ApiId"]
    finally:
        _stop(cloud)
    assert (state / "snapshot.pickle").exists()

    cloud = start_server(state, log)
    try:
        health = cloud.get("/_strands/health")
        assert health["snapshot"]["restored"] is True and health["snapshot"]["taken_at"]
        ddb, s3, lam = cloud.client("dynamodb"), cloud.client("s3"), cloud.client("lambda")
        assert ddb.scan(TableName="t")["Items"] == [{"k": {"S": "a"}}]
        assert s3.get_object(Bucket="kept-bucket", Key="o")["Body"].read() == b"hello"
        config = lam.get_function_url_config(FunctionName="f")
        assert config["FunctionUrl"].rsplit("/lambda-url/", 1)[1] == url.rsplit("/lambda-url/", 1)[1]
        assert config["FunctionArn"].endswith(":live")  # the local cloud's own record survived too
        assert lam.get_alias(FunctionName="f", Name="live")["FunctionVersion"] == "1"
        assert cloud.client("apigatewayv2").get_api(ApiId=api_id)["Name"] == "a"
        assert invoke(cloud, "f")[1]["body"] == "persisted"
        with urllib.request.urlopen(config["FunctionUrl"], timeout=30) as r:
            assert r.read() == b"persisted"

        # a change, saved within seconds; then kill -9: the snapshot is readable on the next start
        before = time.time()
        ddb.put_item(TableName="t", Item={"k": {"S": "b"}})
        _wait_saved(state, before)
        os.kill(cloud.proc.pid, signal.SIGKILL)
        cloud.proc.wait(timeout=10)
    finally:
        stop_process(cloud.proc)

    cloud = start_server(state, log)
    try:
        ddb = cloud.client("dynamodb")
        assert sorted(i["k"]["S"] for i in ddb.scan(TableName="t")["Items"]) == ["a", "b"]
        req = urllib.request.Request(
            f"{cloud.endpoint}/_strands/reset",
            method="POST",
            data=b"",
            headers={"X-Strands-Token": cloud.token},
        )
        urllib.request.urlopen(req, timeout=30).read()
        assert not (state / "snapshot.pickle").exists()
        assert ddb.list_tables()["TableNames"] == []
    finally:
        _stop(cloud)
    cloud = start_server(state, log)  # reset: starts empty
    try:
        assert cloud.client("dynamodb").list_tables()["TableNames"] == []
    finally:
        _stop(cloud)


@pytest.mark.slow
def test_damaged_snapshot_starts_empty_with_a_message(tmp_path: Path) -> None:
    state, log = tmp_path / "state", tmp_path / "server.log"
    cloud = start_server(state, log)
    try:
        cloud.client("sqs").create_queue(QueueName="q")
    finally:
        _stop(cloud)
    snap = state / "snapshot.pickle"
    data = snap.read_bytes()
    snap.write_bytes(data[:-20] + b"x" * 20)
    cloud = start_server(state, log)
    try:
        assert cloud.client("sqs").list_queues().get("QueueUrls", []) == []
        info = cloud.get("/_strands/health")["snapshot"]
        assert info["restored"] is False and "could not be restored" in info["error"]
        assert Path(info["kept_aside"]).exists() and not snap.exists()
    finally:
        _stop(cloud)
    assert "could not be restored" in log.read_text()


@pytest.mark.slow
def test_idle_server_saves_and_stops_itself(tmp_path: Path) -> None:
    state, log = tmp_path / "state", tmp_path / "server.log"
    state.mkdir()
    (state / "config.json").write_text(json.dumps({"idle_timeout_seconds": 2}))
    cloud = start_server(state, log)
    try:
        cloud.client("secretsmanager").create_secret(Name="s", SecretString="v")
        assert cloud.proc.wait(timeout=20) == 0
    finally:
        stop_process(cloud.proc)
    assert "idle for" in log.read_text()
    (state / "config.json").write_text(json.dumps({"idle_timeout_seconds": 0}))
    cloud = start_server(state, log)
    try:
        value = cloud.client("secretsmanager").get_secret_value(SecretId="s")["SecretString"]
        assert value == "v"
    finally:
        _stop(cloud)
