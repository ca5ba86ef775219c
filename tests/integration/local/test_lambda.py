"""Lambda in the local cloud: real worker processes behind boto3's Invoke."""

from __future__ import annotations

import base64
import json
import os
import signal
import threading
import time
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.integration.local.conftest import Cloud, create_function, invoke, make_zip, unique

PLAIN = """
import os, time

def handler(event, context):
    print("handling", event.get("tag", ""))
    if event.get("boom"):
        raise ValueError("boom: " + event["boom"])
    time.sleep(event.get("sleep", 0))
    return {
        "greeting": os.environ.get("GREETING"),
        "endpoint": os.environ.get("AWS_ENDPOINT_URL"),
        "region": os.environ.get("AWS_REGION"),
        "name": os.environ.get("AWS_LAMBDA_FUNCTION_NAME"),
        "version": os.environ.get("AWS_LAMBDA_FUNCTION_VERSION"),
        "memory": os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE"),
        "ctx_name": context.function_name,
        "request_id": context.aws_request_id,
        "remaining": context.get_remaining_time_in_millis(),
        "pid": os.getpid(),
        "event": event,
    }
"""


def test_invoke_returns_result_and_environment(cloud: Cloud, role_arn: str) -> None:
    name = create_function(
        cloud, role_arn, PLAIN, MemorySize=256, Environment={"Variables": {"GREETING": "hello"}}
    )
    resp, out = invoke(cloud, name, {"tag": "first"}, LogType="Tail")
    assert resp["StatusCode"] == 200
    assert "FunctionError" not in resp
    assert resp["ExecutedVersion"] == "$LATEST"
    assert out["greeting"] == "hello"
    assert out["endpoint"] == cloud.endpoint
    assert (out["region"], out["name"], out["ctx_name"]) == ("us-east-1", name, name)
    assert (out["version"], out["memory"]) == ("$LATEST", "256")
    assert 0 < out["remaining"] <= 10_000
    assert out["event"] == {"tag": "first"}
    tail = base64.b64decode(resp["LogResult"]).decode()
    assert f"START RequestId: {out['request_id']}" in tail
    assert "handling first" in tail
    assert f"REPORT RequestId: {out['request_id']}" in tail
    # warm: the same worker answers the next request
    _, again = invoke(cloud, name, {})
    assert again["pid"] == out["pid"]


def test_exception_is_a_function_error(cloud: Cloud, role_arn: str) -> None:
    name = create_function(cloud, role_arn, PLAIN)
    resp, out = invoke(cloud, name, {"boom": "bad input"})
    assert resp["StatusCode"] == 200
    assert resp["FunctionError"] == "Unhandled"
    assert out["errorType"] == "ValueError"
    assert out["errorMessage"] == "boom: bad input"
    assert any("app.py" in frame and "handler" in frame for frame in out["stackTrace"])
    # the worker survives a handled exception
    resp, out = invoke(cloud, name, {})
    assert "FunctionError" not in resp


@pytest.mark.slow
def test_timeout_then_next_invoke_works(cloud: Cloud, role_arn: str) -> None:
    name = create_function(cloud, role_arn, PLAIN, Timeout=1)
    started = time.monotonic()
    resp, out = invoke(cloud, name, {"sleep": 60})
    assert time.monotonic() - started < 30  # killed at 1 s (+ worker start), not after 60
    assert resp["FunctionError"] == "Unhandled"
    assert out["errorType"] == "Sandbox.Timedout"
    assert "Task timed out after 1.00 seconds" in out["errorMessage"]
    resp, out = invoke(cloud, name, {"sleep": 0})
    assert "FunctionError" not in resp
    assert out["event"] == {"sleep": 0}


def test_code_update_starts_a_new_worker(cloud: Cloud, role_arn: str) -> None:
    code = "import os\ndef handler(e, c):\n    return {'v': %d, 'pid': os.getpid()}\n"
    name = create_function(cloud, role_arn, code % 1)
    _, first = invoke(cloud, name)
    cloud.client("lambda").update_function_code(FunctionName=name, ZipFile=make_zip({"app.py": code % 2}))
    _, second = invoke(cloud, name)
    assert (first["v"], second["v"]) == (1, 2)
    assert first["pid"] != second["pid"]
    pids = {w["pid"] for w in cloud.get("/_strands/workers")["workers"] if w["function"] == name}
    assert first["pid"] not in pids  # the old worker was retired, by pid


def test_alias_runs_its_version(cloud: Cloud, role_arn: str) -> None:
    lam = cloud.client("lambda")
    code = "def handler(e, c):\n    return 'v%d'\n"
    name = create_function(cloud, role_arn, code % 1)
    version = lam.publish_version(FunctionName=name)["Version"]
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion=version)
    lam.update_function_code(FunctionName=name, ZipFile=make_zip({"app.py": code % 2}))
    resp, out = invoke(cloud, name, Qualifier="live")
    assert (out, resp["ExecutedVersion"]) == ("v1", version)
    resp, out = invoke(cloud, name)
    assert (out, resp["ExecutedVersion"]) == ("v2", "$LATEST")


@pytest.mark.slow
def test_killed_worker_returns_error_and_next_request_succeeds(cloud: Cloud, role_arn: str) -> None:
    name = create_function(cloud, role_arn, PLAIN, Timeout=30)
    result: dict[str, Any] = {}

    def call() -> None:
        result["resp"], result["out"] = invoke(cloud, name, {"sleep": 20})

    thread = threading.Thread(target=call)
    thread.start()
    pid = None
    deadline = time.monotonic() + 30
    while pid is None and time.monotonic() < deadline:
        busy = [w for w in cloud.get("/_strands/workers")["workers"] if w["function"] == name and w["busy"]]
        pid = busy[0]["pid"] if busy else None
        time.sleep(0.05)
    assert pid is not None
    time.sleep(0.3)  # let the handler start sleeping
    os.kill(pid, signal.SIGKILL)  # the worker this test's server started, by its pid
    thread.join(timeout=60)
    assert result["resp"]["FunctionError"] == "Unhandled"
    assert result["out"]["errorType"] == "Runtime.ExitError"
    assert "signal: killed" in result["out"]["errorMessage"]
    resp, out = invoke(cloud, name, {})
    assert "FunctionError" not in resp
    assert out["pid"] != pid


@pytest.mark.parametrize(
    ("code", "handler", "error_type", "needle"),
    [
        (
            "import os\nimport not_a_module_xyz\n",
            "app.handler",
            "Runtime.ImportModuleError",
            "app.py, line 2",
        ),
        (
            "def handler(e, c):\n    return (\n",
            "app.handler",
            "Runtime.UserCodeSyntaxError",
            "app.py, line 2",
        ),
        (
            "x = 1\nraise RuntimeError('init failed')\n",
            "app.handler",
            "Runtime.ImportModuleError",
            "app.py, line 2",
        ),
        ("def other(e, c):\n    return 1\n", "app.handler", "Runtime.HandlerNotFound", "Handler 'handler'"),
        ("def handler(e, c):\n    return 1\n", "missing.handler", "Runtime.ImportModuleError", "missing.py"),
    ],
)
def test_handler_that_does_not_import(
    cloud: Cloud, role_arn: str, code: str, handler: str, error_type: str, needle: str
) -> None:
    name = create_function(cloud, role_arn, code, Handler=handler)
    resp, out = invoke(cloud, name)
    assert resp["FunctionError"] == "Unhandled"
    assert out["errorType"] == error_type
    assert needle in out["errorMessage"]
    assert cloud.get("/_strands/health")["ok"]  # the server keeps serving


def test_non_json_payload_is_rejected(cloud: Cloud, role_arn: str) -> None:
    name = create_function(cloud, role_arn, PLAIN)
    with pytest.raises(ClientError) as exc:
        cloud.client("lambda").invoke(FunctionName=name, Payload=b"not json {")
    err = exc.value.response
    assert err["Error"]["Code"] == "InvalidRequestContentException"
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert "Could not parse request body into json" in err["Error"]["Message"]


def test_unknown_function_is_resource_not_found(cloud: Cloud) -> None:
    with pytest.raises(ClientError) as exc:
        cloud.client("lambda").invoke(FunctionName=unique("nope"), Payload=b"{}")
    assert exc.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_event_invocation_runs_in_background(cloud: Cloud, role_arn: str) -> None:
    name = create_function(cloud, role_arn, PLAIN)
    resp = cloud.client("lambda").invoke(
        FunctionName=name, InvocationType="Event", Payload=b'{"tag": "async-1"}'
    )
    assert resp["StatusCode"] == 202
    logs = cloud.client("logs")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            events = logs.filter_log_events(logGroupName=f"/aws/lambda/{name}")["events"]
        except ClientError:
            events = []
        if any("handling async-1" in e["message"] for e in events):
            return
        time.sleep(0.1)
    pytest.fail("the Event invocation never ran")


def test_layers_are_on_sys_path(cloud: Cloud, role_arn: str) -> None:
    lam = cloud.client("lambda")
    layer = lam.publish_layer_version(
        LayerName=unique("layer"),
        Content={"ZipFile": make_zip({"python/greetlib.py": "WORD = 'from-layer'\n"})},
    )
    code = "import greetlib\ndef handler(e, c):\n    return greetlib.WORD\n"
    name = create_function(cloud, role_arn, code, Layers=[layer["LayerVersionArn"]])
    _, out = invoke(cloud, name)
    assert out == "from-layer"


def test_logs_land_in_cloudwatch(cloud: Cloud, role_arn: str) -> None:
    name = create_function(cloud, role_arn, PLAIN)
    custom = create_function(
        cloud, role_arn, PLAIN, LoggingConfig={"LogGroup": f"/custom/{name}", "LogFormat": "Text"}
    )
    _, out = invoke(cloud, name, {"tag": "to-cloudwatch"})
    invoke(cloud, custom, {"tag": "to-custom-group"})
    logs = cloud.client("logs")
    events = logs.filter_log_events(logGroupName=f"/aws/lambda/{name}")["events"]
    messages = [e["message"] for e in events]
    assert any("handling to-cloudwatch" in m for m in messages)
    assert f"START RequestId: {out['request_id']} Version: $LATEST" in messages
    assert f"END RequestId: {out['request_id']}" in messages
    streams = logs.describe_log_streams(logGroupName=f"/aws/lambda/{name}")["logStreams"]
    assert any("/[$LATEST]" in s["logStreamName"] for s in streams)
    stream = streams[0]["logStreamName"]
    got = logs.get_log_events(logGroupName=f"/aws/lambda/{name}", logStreamName=stream)["events"]
    assert any("handling to-cloudwatch" in e["message"] for e in got)
    custom_events = logs.filter_log_events(logGroupName=f"/custom/{name}")["events"]
    assert any("handling to-custom-group" in e["message"] for e in custom_events)
    cfg = cloud.client("lambda").get_function_configuration(FunctionName=custom)
    assert cfg["LoggingConfig"]["LogGroup"] == f"/custom/{name}"


def test_sqs_event_source_mapping_invokes_the_function(cloud: Cloud, role_arn: str) -> None:
    name = create_function(cloud, role_arn, "def handler(e, c):\n    print('got', e['Records'][0]['body'])\n")
    sqs = cloud.client("sqs")
    url = sqs.create_queue(QueueName=unique("q"))["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    cloud.client("lambda").create_event_source_mapping(EventSourceArn=arn, FunctionName=name)
    sqs.send_message(QueueUrl=url, MessageBody="job-42")
    events = cloud.client("logs").filter_log_events(logGroupName=f"/aws/lambda/{name}")["events"]
    assert any("got job-42" in e["message"] for e in events)


def test_result_that_is_not_json_serializable(cloud: Cloud, role_arn: str) -> None:
    name = create_function(cloud, role_arn, "def handler(e, c):\n    return {1, 2}\n")
    resp, out = invoke(cloud, name)
    assert resp["FunctionError"] == "Unhandled"
    assert out["errorType"] == "Runtime.MarshalError"
    assert json.dumps(out)


def test_worker_that_exits_during_init(cloud: Cloud, role_arn: str) -> None:
    name = create_function(cloud, role_arn, "import os\nprint('about to exit')\nos._exit(3)\n")
    resp, out = invoke(cloud, name, LogType="Tail")
    assert resp["FunctionError"] == "Unhandled"
    assert out["errorType"] == "Runtime.ExitError"
    assert "exit status 3" in out["errorMessage"]
    assert "about to exit" in base64.b64decode(resp["LogResult"]).decode()
