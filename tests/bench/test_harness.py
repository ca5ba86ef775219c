"""The benchmark harness's pieces (no timing is asserted anywhere): which resource a call is about,
the floors, the generated projects of S9 and S10, the ratio judgement, what results.json records."""

from __future__ import annotations

import base64
import importlib.util
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import boto3
import pytest

from benchmarks import floor
from benchmarks.awsproxy import AwsProxy
from benchmarks.awsproxy.identify import Operation, resource_of
from benchmarks.local_bench import report_duration_ms, write_local_project
from benchmarks.peer import judge_pair, write_chalice_project, write_plain_project
from benchmarks.run import cpu_model, machine
from benchmarks.scenarios import QUOTA_MULTIPLIER_ENV, Result, set_quota_multiplier, source_version, tool_env
from strands_deploy.config.loader import load_project
from strands_deploy.services import open_services


@pytest.mark.parametrize(
    ("op", "path", "headers", "body", "expected"),
    [
        (
            Operation("lambda", "UpdateFunctionCode", "rest-json"),
            "/2015-03-31/functions/app-a0/code",
            {},
            b"",
            "app-a0",
        ),
        (
            Operation("lambda", "GetFunction", "rest-json"),
            "/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:app-a0:live",
            {},
            b"",
            "app-a0",
        ),
        (
            Operation("lambda", "CreateFunction", "rest-json"),
            "/2015-03-31/functions",
            {},
            b'{"FunctionName": "f1"}',
            "f1",
        ),
        (
            Operation("iam", "CreateRole", "query"),
            "/",
            {},
            b"Action=CreateRole&RoleName=app-a0-role",
            "app-a0-role",
        ),
        (
            Operation("cloudwatch", "PutMetricAlarm", "query"),
            "/",
            {},
            b"Action=PutMetricAlarm&AlarmName=al",
            "al",
        ),
        (Operation("dynamodb", "CreateTable", "json"), "/", {}, b'{"TableName": "t"}', "t"),
        (
            Operation("logs", "CreateLogGroup", "json"),
            "/",
            {},
            b'{"logGroupName": "/aws/lambda/x"}',
            "/aws/lambda/x",
        ),
        (
            Operation("s3", "CreateBucket", "rest-xml"),
            "/bucket-1",
            {"host": "127.0.0.1:4566"},
            b"",
            "bucket-1",
        ),
        (
            Operation("s3", "PutBucketTagging", "rest-xml"),
            "/",
            {"host": "bucket-2.s3.amazonaws.com"},
            b"",
            "bucket-2",
        ),
        (Operation("sts", "GetCallerIdentity", "query"), "/", {}, b"Action=GetCallerIdentity", ""),
        (Operation("cloudwatch", "PutMetricAlarm", "rpc-v2-cbor"), "/service/x", {}, b"\xa1", ""),
        (Operation("dynamodb", "CreateTable", "json"), "/", {}, b"not json", ""),
    ],
)
def test_resource_of_names_what_a_call_is_about(
    op: Operation, path: str, headers: dict[str, str], body: bytes, expected: str
) -> None:
    assert resource_of(op, path, headers, body) == expected


def test_the_proxy_records_the_resource_of_each_call(moto: str) -> None:
    with AwsProxy(moto_endpoint=moto, latency=False, waits=False, limits=False) as proxy:
        iam = boto3.client("iam", endpoint_url=proxy.endpoint, region_name="us-east-1")
        iam.create_role(RoleName="timeline-role", AssumeRolePolicyDocument="{}")
        boto3.client("sts", endpoint_url=proxy.endpoint, region_name="us-east-1").get_caller_identity()
        calls = proxy.calls()
    assert [(c["op"], c.get("resource")) for c in calls] == [
        ("iam:CreateRole", "timeline-role"),
        ("sts:GetCallerIdentity", None),
    ]
    assert all(c["d"] >= 0 and c["status"] == 200 for c in calls)


def test_floor_with_per_agent_roles_keeps_the_chain_and_says_why() -> None:
    shared = floor.first_deploy(20, per_agent_roles=False)
    own = floor.first_deploy(20)
    assert own.seconds == shared.seconds == pytest.approx(19.15)  # PutMetricAlarm's 3/s
    assert own.chain_seconds == pytest.approx(11.18)
    assert not shared.notes and "20 CreateRole" in own.notes[0]
    assert own.to_json()["notes"] == own.notes


def test_floor_of_s8_at_scale_0_2() -> None:
    f = floor.first_deploy(1000, scale=0.2)
    assert f.bound_by.startswith("rate limit: cloudwatch PutMetricAlarm")
    # 3,000 alarms at 3/s × 5 (scale 0.2), the burst of 3 free, plus the last call's 0.15 s × 0.2
    assert f.seconds == pytest.approx((3000 - 3) / 15 + 0.03, abs=1e-3)


def test_plain_floor_for_the_peer_scenario() -> None:
    one = floor.plain_first_deploy(1)
    assert one.chain_seconds == pytest.approx(0.3 + 7 + 0.6 + 2 + 0.08 + 0.3 + 0.3)
    many = floor.plain_first_deploy(100)
    assert many.bound_by == "rate limit: lambda control plane (15/s, burst 15)"
    assert many.seconds == pytest.approx(7.3 + (300 - 15) / 15 + 0.3)


def _load_module(path: Path, name: str) -> Any:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[name]
    return module


def test_chalice_project_has_one_lambda_function_each(tmp_path: Path) -> None:
    root = write_chalice_project(tmp_path / "c", 4)
    app = _load_module(root / "app.py", "bench_chalice_app").app
    names = [f.name for f in app.pure_lambda_functions]
    assert names == ["f0", "f1", "f2", "f3"]
    assert app.pure_lambda_functions[2].func({}, None) == {"function": "f2"}
    config = json.loads((root / ".chalice" / "config.json").read_text())
    assert config["stages"]["dev"]["autogen_policy"] is False
    assert json.loads((root / ".chalice" / "policy-dev.json").read_text())["Statement"]


def test_plain_strands_project_synthesises_plain_functions(tmp_path: Path) -> None:
    root = write_plain_project(tmp_path / "p", "peer", 3, "http://127.0.0.1:1")
    assert sorted(load_project(root).agents) == ["a0", "a1", "a2"]
    svc = open_services(root, "bench", start_local=False)
    svc._account = "123456789012"  # no STS call
    types = Counter(r.type for r in svc.synth().resources.values())
    assert types["aws.lambda.function"] == 3
    assert types["aws.iam.role"] == 3  # each agent its own role, as Chalice gives each function
    assert not [t for t in types if "alarm" in t or t.endswith(".url") or "dynamodb" in t or "s3" in t]


def test_local_project_loads(tmp_path: Path) -> None:
    root = write_local_project(tmp_path / "l", version=3)
    assert list(load_project(root).agents) == ["a0"]
    assert '"code 3"' in (root / "agents" / "a0" / "agent.py").read_text()


def test_report_duration_from_an_invoke_log_tail() -> None:
    tail = "START RequestId: r1\nEND RequestId: r1\nREPORT RequestId: r1\tDuration: 12.34 ms\tBilled Duration: 13 ms\n"
    assert report_duration_ms(base64.b64encode(tail.encode()).decode()) == 12.34
    assert report_duration_ms("") is None


def test_judge_pair_records_the_ratio() -> None:
    ours, theirs = Result("S9 first n=2", "", wall=2.0), Result("S9 first chalice", "", wall=9.0)
    judge_pair(ours, theirs, 3.0)
    assert ours.checks == {"≥ 3× faster than Chalice": True}
    assert ours.extra["speedup_over_chalice"] == 4.5
    assert ours.notes[0].startswith("Chalice 9.00 s / strands-deploy 2.00 s = 4.5×")
    slow = Result("S9 redeploy n=2", "", wall=1.0)
    judge_pair(slow, Result("x", "", wall=5.0), 20.0)
    assert slow.checks == {"≥ 20× faster than Chalice": False}
    broken = Result("S9 redeploy n=2", "", wall=1.0)
    judge_pair(broken, Result("x", "", status="failed", wall=5.0), 20.0)
    assert broken.checks == {"Chalice ran": False}


def test_results_record_machine_commit_and_date() -> None:
    info = machine()
    assert set(info) == {"cpus", "cpu_model", "python", "os"}
    assert info["cpus"] >= 1 and cpu_model()
    version = source_version()
    assert set(version) == {"commit", "dirty", "uncommitted_src_files"}
    assert isinstance(version["dirty"], bool)
    data = Result("S1", "t", target="≤ 1.1× floor").to_json()
    assert data["measured_at"].endswith("Z") and data["target"] == "≤ 1.1× floor"


def test_the_tool_is_told_to_pace_at_the_proxys_scaled_quotas() -> None:
    try:
        set_quota_multiplier(5.0)  # scale 0.2: the proxy's quotas are 5x AWS's
        assert tool_env()[QUOTA_MULTIPLIER_ENV] == "5"
        set_quota_multiplier(1.0)
        assert QUOTA_MULTIPLIER_ENV not in tool_env()
    finally:
        set_quota_multiplier(1.0)
