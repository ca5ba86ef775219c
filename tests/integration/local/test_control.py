"""Starting, finding, stopping and resetting a project's local cloud (control API and CLI)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from strands_deploy.errors import StrandsDeployError
from strands_deploy.local import control
from tests.integration.local.conftest import make_zip


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # an exited child not yet reaped by its parent is gone for our purposes
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][:1] != "Z"
    except OSError:
        return True


def _wait_dead(pid: int, timeout: float = 10) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        time.sleep(0.05)
    return False


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Path]:
    """A project folder whose local cloud, if any test started one, is stopped by pid afterwards."""
    yield tmp_path
    info = (
        json.loads((tmp_path / ".strands/local/endpoint.json").read_text())
        if (tmp_path / ".strands/local/endpoint.json").exists()
        else None
    )
    control.stop(tmp_path)
    if info and _alive(int(info["pid"])):  # belt and braces: never leave a server behind
        os.kill(int(info["pid"]), 9)


def _cli(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "strands_deploy", "-C", str(project), "local", *args],
        capture_output=True,
        text=True,
        timeout=90,
    )


def _client(endpoint: str, service: Any) -> Any:
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


@pytest.mark.slow
def test_local_start_twice_is_idempotent(project: Path) -> None:
    first = _cli(project, "start", "--port", "0")
    assert first.returncode == 0, first.stderr
    endpoint = first.stdout.strip()
    assert endpoint.startswith("http://127.0.0.1:")
    port = endpoint.rsplit(":", 1)[1]
    assert f"local cloud started on 127.0.0.1:{port} (stop: strands-deploy local stop)" in first.stderr
    second = _cli(project, "start", "--idle-timeout", "2h")
    assert (second.returncode, second.stdout.strip()) == (0, endpoint)
    assert "local cloud started" not in second.stderr  # only the command that starts it says so
    status = json.loads(_cli(project, "status", "--json").stdout)
    assert status["endpoint"] == endpoint and _alive(status["pid"])
    assert status["port"] == int(port) and status["uptime_seconds"] >= 0
    assert status["rss_bytes"] > 0 and status["workers_rss_bytes"] == 0
    assert status["snapshot"]["restored"] is False and status["idle_timeout_seconds"] == 7200
    text = _cli(project, "status").stdout
    assert "memory" in text and "idle stop: after 2h00m" in text
    recorded = json.loads((project / ".strands/local/endpoint.json").read_text())
    assert {"pid", "port", "started_at"} <= set(recorded)
    assert "running" in _cli(project, "status").stdout
    stopped = _cli(project, "stop")
    assert stopped.returncode == 0 and "stopped" in stopped.stderr
    assert _wait_dead(status["pid"])
    assert "not running" in _cli(project, "status").stdout
    assert "was not running" in _cli(project, "stop").stderr


@pytest.mark.slow
def test_control_api_lifecycle(project: Path) -> None:
    script = project / "model.yaml"
    script.write_text("- match: '.*'\n  reply: scripted {text}\n")
    endpoint = control.ensure_running(project, port=0, model_script=script)
    assert control.ensure_running(project, port=0, model_script=script) == endpoint
    info = control.status(project)
    assert info is not None and info["endpoint"] == endpoint
    port = int(info["port"])

    with pytest.raises(StrandsDeployError) as exc:  # moving a running cloud would lose its resources
        control.ensure_running(project, port=port + 1 if port < 65535 else port - 1)
    assert "already running" in exc.value.what

    br = _client(endpoint, "bedrock-runtime")
    out = br.converse(modelId="m", messages=[{"role": "user", "content": [{"text": "hi"}]}])
    assert out["output"]["message"]["content"] == [{"text": "scripted hi"}]

    iam, lam = _client(endpoint, "iam"), _client(endpoint, "lambda")
    role = iam.create_role(RoleName="r", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    lam.create_function(
        FunctionName="f",
        Runtime="python3.12",
        Role=role,
        Handler="app.handler",
        Code={"ZipFile": make_zip({"app.py": "def handler(e, c):\n    return 1\n"})},
    )
    assert json.loads(lam.invoke(FunctionName="f")["Payload"].read()) == 1
    assert (control.status(project) or {})["workers"] == 1

    control.reset(project)
    assert lam.list_functions()["Functions"] == []
    assert (control.status(project) or {})["workers"] == 0
    assert not (project / ".strands/local/cache").exists()

    lam.create_function(
        FunctionName="g",
        Runtime="python3.12",
        Role=iam.create_role(RoleName="r2", AssumeRolePolicyDocument="{}")["Role"]["Arn"],
        Handler="app.handler",
        Code={"ZipFile": make_zip({"app.py": "def handler(e, c):\n    return 2\n"})},
    )
    lam.invoke(FunctionName="g")
    token = json.loads((project / ".strands/local/endpoint.json").read_text())["token"]
    req = urllib.request.Request(f"{endpoint}/_strands/workers", headers={"X-Strands-Token": token})
    with urllib.request.urlopen(req) as r:
        worker_pid = json.loads(r.read())["workers"][0]["pid"]
    assert control.stop(project) is True
    assert _wait_dead(int(info["pid"]))
    assert _wait_dead(worker_pid)  # its workers went with it
    assert control.status(project) is None
    assert control.stop(project) is False


@pytest.mark.slow
def test_stale_pid_file_is_detected_and_replaced(project: Path) -> None:
    sd = control.state_dir(project)
    sd.mkdir(parents=True)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = {"pid": dead.pid, "port": 1, "endpoint": "http://127.0.0.1:1", "started_at": "yesterday"}
    (sd / "endpoint.json").write_text(json.dumps(stale))
    assert control.status(project) is None

    # a stale file naming a live process that is not a local cloud (this test runner): never signalled
    (sd / "endpoint.json").write_text(json.dumps({**stale, "pid": os.getpid()}))
    assert control.status(project) is None
    assert control.stop(project) is False
    assert not (sd / "endpoint.json").exists()

    (sd / "endpoint.json").write_text(json.dumps(stale))
    endpoint = control.ensure_running(project, port=0)
    info = json.loads((sd / "endpoint.json").read_text())
    assert info["pid"] != dead.pid and _alive(info["pid"])
    assert info["endpoint"] == endpoint


@pytest.mark.slow
def test_port_in_use_is_a_clear_error(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        with pytest.raises(StrandsDeployError) as exc:
            control.ensure_running(project, port=port)
        assert f"port {port}" in exc.value.what and "in use" in exc.value.what
        assert exc.value.fix and "--port" in exc.value.fix

        monkeypatch.setenv("STRANDS_LOCAL_PORT", str(port))
        with pytest.raises(StrandsDeployError):
            control.ensure_running(project)

        # the server itself, started by hand on a busy port, exits with a message naming the port
        run = subprocess.run(
            [
                sys.executable,
                "-m",
                "strands_deploy.local.server",
                "--port",
                str(port),
                "--state-dir",
                str(project / "s"),
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert run.returncode == 3
        assert f"port {port}" in run.stderr and "--port" in run.stderr

    monkeypatch.setenv("STRANDS_LOCAL_PORT", "not-a-port")
    with pytest.raises(StrandsDeployError) as exc:
        control.ensure_running(project)
    assert "STRANDS_LOCAL_PORT" in exc.value.what


def test_missing_or_broken_model_script_is_reported_before_start(project: Path) -> None:
    with pytest.raises(StrandsDeployError) as exc:
        control.ensure_running(project, port=0, model_script=project / "nope.yaml")
    assert "not found" in exc.value.what
    bad = project / "bad.yaml"
    bad.write_text("- reply: no match key\n")
    with pytest.raises(StrandsDeployError) as exc:
        control.ensure_running(project, port=0, model_script=bad)
    assert "rule 1" in exc.value.what
    assert not (project / ".strands/local/endpoint.json").exists()
