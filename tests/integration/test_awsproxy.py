"""The AWS latency proxy (benchmarks/awsproxy): counts calls, plays IAM propagation, Lambda and
DynamoDB readiness, rate limits and injected throttles, in each service's own error format.

Every test runs at a small scale (waits and latencies x0.1) so the file stays fast.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
import urllib.request
import zipfile
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from benchmarks import floor
from benchmarks.awsproxy import AwsProxy, free_port, stop_process
from benchmarks.awsproxy.model import RateLimit, Waits, latency_of

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCALE = 0.1
WAITS = Waits()
TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
)


def _zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("h.py", "def handler(event, context):\n    return 1\n")
    return buf.getvalue()


@pytest.fixture(scope="module")
def proxy() -> Iterator[AwsProxy]:
    p = AwsProxy(scale=SCALE, seed=7).start()
    try:
        yield p
    finally:
        p.stop()


@pytest.fixture
def cloud(proxy: AwsProxy) -> AwsProxy:
    proxy.configure(throttle_rate=0.0, limits=True, latency=True, waits=True, scale=SCALE)
    proxy.reset()
    return proxy


def client(p: AwsProxy, service: str, attempts: int = 1, mode: str = "standard") -> Any:
    # total_max_attempts counts the first try (botocore's max_attempts does not)
    retries: Any = {"mode": mode, "total_max_attempts": attempts}
    make: Any = boto3.client
    return make(
        service,
        endpoint_url=p.endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries=retries),
    )


def make_role(p: AwsProxy, name: str = "bench-role") -> str:
    return str(client(p, "iam").create_role(RoleName=name, AssumeRolePolicyDocument=TRUST)["Role"]["Arn"])


def create_function(p: AwsProxy, role: str, name: str = "fn") -> dict[str, Any]:
    lam = client(p, "lambda")
    deadline = time.monotonic() + 10
    while True:  # the role may still be propagating
        try:
            resp: dict[str, Any] = lam.create_function(
                FunctionName=name,
                Runtime="python3.12",
                Role=role,
                Handler="h.handler",
                Code={"ZipFile": _zip()},
            )
            return resp
        except ClientError as e:
            if e.response["Error"]["Code"] != "InvalidParameterValueException" or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def wait_active(p: AwsProxy, name: str) -> None:
    lam = client(p, "lambda")
    deadline = time.monotonic() + 10
    while True:
        conf = lam.get_function_configuration(FunctionName=name)
        if conf["State"] == "Active" and conf["LastUpdateStatus"] == "Successful":
            return
        assert time.monotonic() < deadline, conf
        time.sleep(0.05)


def test_calls_go_through_and_are_counted_by_service_and_operation(cloud: AwsProxy) -> None:
    client(cloud, "sts").get_caller_identity()
    make_role(cloud)  # query protocol
    ddb = client(cloud, "dynamodb")  # JSON protocol
    ddb.create_table(
        TableName="t",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    client(cloud, "s3").create_bucket(Bucket="bench-bucket")  # REST-XML
    client(cloud, "s3").head_bucket(Bucket="bench-bucket")
    client(cloud, "cloudwatch").describe_alarms(AlarmNames=["x"])  # Smithy RPC v2 CBOR
    client(cloud, "lambda").list_functions()  # REST-JSON
    stats = cloud.stats()
    assert stats["calls"] == {
        "cloudwatch:DescribeAlarms": 1,
        "dynamodb:CreateTable": 1,
        "iam:CreateRole": 1,
        "lambda:ListFunctions": 1,
        "s3:CreateBucket": 1,
        "s3:HeadBucket": 1,
        "sts:GetCallerIdentity": 1,
    }
    assert stats["writes"] == 3 and stats["reads"] == 4
    assert stats["injected"] == {}
    assert stats["modeled_seconds"] > 0
    # the same numbers over HTTP, and reset clears them
    with urllib.request.urlopen(f"{cloud.endpoint}/_proxy/stats") as resp:
        assert json.load(resp)["calls"]["iam:CreateRole"] == 1
    urllib.request.urlopen(urllib.request.Request(f"{cloud.endpoint}/_proxy/reset", method="POST")).read()
    assert cloud.stats()["total"] == 0
    with pytest.raises(ClientError):  # moto was reset too
        client(cloud, "s3").head_bucket(Bucket="bench-bucket")


def test_calls_take_the_modeled_latency(cloud: AwsProxy) -> None:
    iam = client(cloud, "iam")
    started = time.monotonic()
    iam.create_role(RoleName="slow", AssumeRolePolicyDocument=TRUST)
    took = time.monotonic() - started
    assert took >= latency_of("iam", "CreateRole") * SCALE * 0.85


def test_create_function_is_refused_until_the_new_role_has_propagated(cloud: AwsProxy) -> None:
    role = make_role(cloud)
    created = time.monotonic()
    lam = client(cloud, "lambda")
    with pytest.raises(ClientError) as info:
        lam.create_function(
            FunctionName="early",
            Runtime="python3.12",
            Role=role,
            Handler="h.handler",
            Code={"ZipFile": _zip()},
        )
    err = info.value.response
    assert err["Error"]["Code"] == "InvalidParameterValueException"
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert "cannot be assumed by Lambda" in err["Error"]["Message"]
    time.sleep(max(0.0, WAITS.iam_propagation * SCALE - (time.monotonic() - created)) + 0.05)
    lam.create_function(
        FunctionName="early", Runtime="python3.12", Role=role, Handler="h.handler", Code={"ZipFile": _zip()}
    )
    assert cloud.stats()["injected"] == {"iam_propagation": 1}


def test_a_new_function_reads_pending_then_active(cloud: AwsProxy) -> None:
    cloud.configure(waits=False)
    role = make_role(cloud)  # recorded while waits are off: usable at once
    cloud.configure(waits=True)
    created = create_function(cloud, role)
    assert created["State"] == "Pending"
    lam = client(cloud, "lambda")
    conf = lam.get_function_configuration(FunctionName="fn")
    assert (conf["State"], conf["LastUpdateStatus"]) == ("Pending", "InProgress")
    assert lam.get_function(FunctionName="fn")["Configuration"]["State"] == "Pending"
    time.sleep(WAITS.function_pending * SCALE + 0.05)
    conf = lam.get_function_configuration(FunctionName="fn")
    assert (conf["State"], conf["LastUpdateStatus"]) == ("Active", "Successful")


def test_publish_version_during_an_update_gets_409(cloud: AwsProxy) -> None:
    cloud.configure(waits=False)
    role = make_role(cloud)
    create_function(cloud, role)
    # full scale: the 1 s update window is far longer than the emulator's own time per call
    cloud.configure(waits=True, scale=1.0, latency=False, limits=False)
    lam = client(cloud, "lambda")
    lam.update_function_code(FunctionName="fn", ZipFile=_zip())
    assert lam.get_function_configuration(FunctionName="fn")["LastUpdateStatus"] == "InProgress"
    with pytest.raises(ClientError) as info:
        lam.publish_version(FunctionName="fn")
    err = info.value.response
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 409
    assert err["Error"]["Code"] == "ResourceConflictException"
    assert "An update is in progress for resource: arn:aws:lambda:" in err["Error"]["Message"]
    with pytest.raises(ClientError):  # a second update is refused the same way
        lam.update_function_configuration(FunctionName="fn", Timeout=30)
    wait_active(cloud, "fn")
    assert lam.publish_version(FunctionName="fn")["Version"] == "1"


def test_a_new_table_reads_creating_then_active(cloud: AwsProxy) -> None:
    ddb = client(cloud, "dynamodb")
    resp = ddb.create_table(
        TableName="t",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    assert resp["TableDescription"]["TableStatus"] == "CREATING"
    assert ddb.describe_table(TableName="t")["Table"]["TableStatus"] == "CREATING"  # body CRC still valid
    time.sleep(WAITS.table_creating * SCALE + 0.05)
    assert ddb.describe_table(TableName="t")["Table"]["TableStatus"] == "ACTIVE"


@pytest.fixture
def limited() -> Iterator[AwsProxy]:
    """Tight rate limits, no latency: easy to exceed."""
    p = AwsProxy(
        latency=False,
        rate_limits=(
            RateLimit("alarms", "cloudwatch", 2.0, 2.0, operations=frozenset({"PutMetricAlarm"})),
            RateLimit("lambda", "lambda", 2.0, 2.0),
            RateLimit("apigw", "apigatewayv2", 2.0, 2.0),
        ),
    ).start()
    try:
        yield p
    finally:
        p.stop()


def _codes(fn: Any, n: int) -> list[tuple[str, int]]:
    out = []
    for _ in range(n):
        try:
            fn()
            out.append(("ok", 200))
        except ClientError as e:
            out.append((e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"]))
    return out


def test_rate_limits_answer_each_services_throttling_error(limited: AwsProxy) -> None:
    cw = client(limited, "cloudwatch")

    def alarm() -> None:
        cw.put_metric_alarm(
            AlarmName="a",
            Namespace="AWS/Lambda",
            MetricName="Errors",
            Statistic="Sum",
            Period=60,
            EvaluationPeriods=1,
            Threshold=1,
            ComparisonOperator="GreaterThanThreshold",
        )

    codes = _codes(alarm, 6)
    assert codes[:2] == [("ok", 200), ("ok", 200)]  # the burst
    assert ("Throttling", 400) in codes
    lam = client(limited, "lambda")
    codes = _codes(lam.list_functions, 6)
    assert ("TooManyRequestsException", 429) in codes
    apigw = client(limited, "apigatewayv2")
    codes = _codes(apigw.get_apis, 6)
    assert ("TooManyRequestsException", 429) in codes
    # the bucket refills: after a second, calls go through again
    time.sleep(1.1)
    assert _codes(lam.list_functions, 1) == [("ok", 200)]
    injected = limited.stats()["injected"]
    assert injected["rate_limit"] >= 3


def test_injected_throttle_rate_is_about_right(cloud: AwsProxy) -> None:
    cloud.configure(throttle_rate=0.3, latency=False)
    sts = client(cloud, "sts")
    codes = _codes(sts.get_caller_identity, 300)
    throttled = sum(1 for c, _ in codes if c == "Throttling")
    assert 0.2 * 300 < throttled < 0.4 * 300
    assert cloud.stats()["injected"] == {"throttle": throttled}
    assert cloud.stats()["errors"] == {"sts:GetCallerIdentity": {"Throttling": throttled}}


def test_botocore_standard_retry_recovers_from_injected_throttles(cloud: AwsProxy) -> None:
    cloud.configure(throttle_rate=0.2, latency=False)
    lam = client(cloud, "lambda", attempts=10)
    ddb = client(cloud, "dynamodb", attempts=10)
    cw = client(cloud, "cloudwatch", attempts=10)
    for _ in range(8):
        lam.list_functions()
        ddb.list_tables()
        cw.describe_alarms()
    stats = cloud.stats()
    assert stats["injected"]["throttle"] > 0
    assert stats["total"] == 24 + stats["injected"]["throttle"]


def test_the_proxy_runs_standalone() -> None:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.awsproxy", "--port", str(port), "--scale", "0.05", "--no-latency"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().decode()
        assert f"http://127.0.0.1:{port}" in line, line
        endpoint = f"http://127.0.0.1:{port}"
        p = AwsProxy(moto_endpoint="unused")
        p.port = port  # only to build clients against the standalone proxy
        client(p, "sts").get_caller_identity()
        with urllib.request.urlopen(f"{endpoint}/_proxy/stats") as resp:
            stats = json.load(resp)
        assert stats["calls"] == {"sts:GetCallerIdentity": 1}
        assert stats["config"]["scale"] == 0.05 and stats["config"]["latency"] is False
    finally:
        stop_process(proc)  # SIGTERM: the proxy stops its own moto server by pid
    assert proc.returncode == 0


def test_floor_of_a_first_deploy_is_the_chain_or_the_rate_bound() -> None:
    one = floor.first_deploy(1)
    expected_chain = (
        latency_of("iam", "CreateRole")
        + WAITS.iam_propagation
        + latency_of("lambda", "CreateFunction")
        + WAITS.function_pending
        + latency_of("lambda", "GetFunction")
        + latency_of("lambda", "PublishVersion")
        + latency_of("lambda", "CreateAlias")
        + 2 * latency_of("lambda", "AddPermission")
    )
    assert one.seconds == pytest.approx(expected_chain)
    assert one.bound_by == "critical chain"
    many = floor.first_deploy(100)
    assert many.bound_by.startswith("rate limit: cloudwatch PutMetricAlarm")
    assert many.seconds == pytest.approx((300 - 3) / 3 + latency_of("cloudwatch", "PutMetricAlarm"))
    assert floor.first_deploy(100, scale=0.5).seconds == pytest.approx(many.seconds * 0.5)
