"""Lambda's limits in the local cloud: timeouts (children included), memory, payloads, files."""

from __future__ import annotations

import base64
import json
import os
import time
import urllib.error
import urllib.request

import pytest
from botocore.exceptions import ClientError

from tests.integration.local.conftest import Cloud, create_function, invoke

CHILD_HOLDS_PIPES = """
import os, subprocess, time

def handler(event, context):
    child = subprocess.Popen(["sleep", "60"])  # inherits stdout/stderr: the log pipe stays open
    with open(os.path.join(os.environ["TMPDIR"], "child.pid"), "w") as fh:
        fh.write(str(child.pid))
    print("child", child.pid, flush=True)
    time.sleep(30)
    return "finished"
"""


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie waiting for its (dead) parent to be reaped counts as gone
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rpartition(")")[2].split()[0] != "Z"
    except OSError:
        return True


def test_timeout_answers_on_time_and_kills_children(cloud: Cloud, role_arn: str) -> None:
    name = create_function(cloud, role_arn, CHILD_HOLDS_PIPES, Timeout=2)
    started = time.monotonic()
    resp, out = invoke(cloud, name, {}, LogType="Tail")
    elapsed = time.monotonic() - started
    assert elapsed < 4.5, elapsed  # worker start + 2 s, not the child's 60 s
    assert resp["FunctionError"] == "Unhandled"
    assert "Task timed out after 2.00 seconds" in out["errorMessage"]
    tail = base64.b64decode(resp["LogResult"]).decode()
    child = int(tail.split("child ", 1)[1].split()[0])
    deadline = time.monotonic() + 3
    while _pid_alive(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _pid_alive(child), f"child {child} outlived the timed-out invocation"


def test_memory_is_enforced(cloud: Cloud, role_arn: str) -> None:
    code = """
def handler(event, context):
    blob = b"x" * (1024 * 1024 * 1024)
    return len(blob)
"""
    name = create_function(cloud, role_arn, code, MemorySize=128)
    resp, out = invoke(cloud, name, {}, LogType="Tail")
    assert resp["FunctionError"] == "Unhandled", out
    assert out["errorType"] == "Runtime.OutOfMemory"
    assert "Runtime exited with error: signal: killed" in out["errorMessage"]
    tail = base64.b64decode(resp["LogResult"]).decode()
    assert "Max Memory Used: 128 MB" in tail
    # the next request gets a fresh worker and works
    small = create_function(cloud, role_arn, "def handler(e, c):\n    return len(bytearray(50 * 2**20))\n")
    resp, out = invoke(cloud, small, {})
    assert "FunctionError" not in resp and out == 50 * 2**20


def test_request_and_response_sizes(cloud: Cloud, role_arn: str) -> None:
    code = """
def handler(event, context):
    return "x" * event.get("size", 1)
"""
    name = create_function(cloud, role_arn, code)
    lam = cloud.client("lambda")
    big = json.dumps({"data": "x" * (7 * 1024 * 1024)}).encode()
    with pytest.raises(ClientError) as err:
        lam.invoke(FunctionName=name, Payload=big)
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 413
    assert err.value.response["Error"]["Code"] == "RequestEntityTooLargeException"  # as AWS answers
    assert "Request must be smaller than 6291456 bytes" in str(err.value)

    medium = json.dumps({"data": "x" * (300 * 1024)}).encode()
    with pytest.raises(ClientError) as err:
        lam.invoke(FunctionName=name, Payload=medium, InvocationType="Event")
    assert err.value.response["Error"]["Code"] == "RequestEntityTooLargeException"
    assert "too large for the Event invocation type (limit 262144 bytes)" in str(err.value)
    assert lam.invoke(FunctionName=name, Payload=medium)["StatusCode"] == 200  # fine synchronously

    resp, out = invoke(cloud, name, {"size": 7 * 1024 * 1024})
    assert resp["FunctionError"] == "Unhandled"
    assert out["errorType"] == "Function.ResponseSizeTooLarge"

    url = lam.create_function_url_config(FunctionName=name, AuthType="NONE")["FunctionUrl"]
    req = urllib.request.Request(url, data=big, method="POST", headers={"Content-Type": "application/json"})
    with pytest.raises(urllib.error.HTTPError) as http_err:
        urllib.request.urlopen(req, timeout=30)
    assert http_err.value.code == 413


FILES = """
import os, tempfile

def handler(event, context):
    result = {"cwd": os.getcwd(), "tmp": tempfile.gettempdir(), "pid": os.getpid()}
    for place in (os.getcwd(), os.path.dirname(os.getcwd())):
        try:
            with open(os.path.join(place, "x.md"), "w") as fh:
                fh.write("nope")
            result.setdefault("wrote", []).append(place)
        except OSError as e:
            result.setdefault("refused", []).append(type(e).__name__)
    try:
        with open(os.path.join(os.getcwd(), "app.py"), "a") as fh:
            fh.write("# changed")
        result["changed_code"] = True
    except OSError:
        result["changed_code"] = False
    with open(os.path.join(tempfile.gettempdir(), "scratch.txt"), "w") as fh:
        fh.write("ok")
    result["scratch"] = os.listdir(tempfile.gettempdir())
    return result
"""


def test_code_is_read_only_and_tmp_is_per_worker(cloud: Cloud, role_arn: str) -> None:
    name = create_function(cloud, role_arn, FILES)
    _, first = invoke(cloud, name, {})
    assert "wrote" not in first, first
    assert first["changed_code"] is False
    assert first["scratch"] == ["scratch.txt"]
    assert os.path.isfile(os.path.join(first["cwd"], "app.py"))  # cwd is the code folder
    # another worker of the same function (a new code version) gets its own, empty, temp folder
    cloud.client("lambda").update_function_configuration(FunctionName=name, MemorySize=256)
    _, second = invoke(cloud, name, {})
    assert second["pid"] != first["pid"]
    assert second["tmp"] != first["tmp"]
    assert second["scratch"] == ["scratch.txt"]
    assert not os.path.exists(first["tmp"])  # removed when its worker stopped
