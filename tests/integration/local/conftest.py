"""Fixtures for the local cloud: a real server subprocess on a free port, stopped by pid."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import time
import urllib.request
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest

from tests.conftest import stop_process


@dataclass
class Cloud:
    endpoint: str
    state_dir: Path
    proc: subprocess.Popen[bytes]
    token: str = ""  # endpoint.json's control token, sent to /_strands/* routes

    def client(self, service: Any) -> Any:
        from botocore.config import Config

        return boto3.client(
            service,
            endpoint_url=self.endpoint,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            config=Config(retries={"max_attempts": 1}, read_timeout=120),
        )

    def get(self, path: str) -> Any:
        req = urllib.request.Request(f"{self.endpoint}{path}", headers={"X-Strands-Token": self.token})
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.loads(r.read())

    def set_config(self, **values: Any) -> None:
        """Change keys of config.json (the server re-reads it), keeping the others."""
        path = self.state_dir / "config.json"
        data = json.loads(path.read_text()) if path.exists() else {}
        path.write_text(json.dumps({**data, **values}))

    def set_model_script(self, path: Path | None) -> None:
        self.set_config(model_script=str(path) if path else None)


def start_server(state_dir: Path, log: Path) -> Cloud:
    """Start ``python -m strands_deploy.local.server --port 0`` and wait until it answers."""
    with open(log, "wb") as fh:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "strands_deploy.local.server",
                "--port",
                "0",
                "--state-dir",
                str(state_dir),
            ],
            stdout=fh,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"local cloud exited with {proc.returncode}:\n{log.read_text()}")
        try:
            info = json.loads((state_dir / "endpoint.json").read_text())
            if info["pid"] == proc.pid:
                urllib.request.urlopen(f"{info['endpoint']}/_strands/health", timeout=1).read()
                return Cloud(info["endpoint"], state_dir, proc, str(info.get("token") or ""))
        except (OSError, ValueError, KeyError):
            pass
        time.sleep(0.1)
    stop_process(proc)
    raise RuntimeError("local cloud did not start in 60s")


@pytest.fixture(scope="session")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cloud]:
    """One local cloud per test session (per xdist worker); tests use unique resource names."""
    root = tmp_path_factory.mktemp("local-cloud")
    server = start_server(root / "state", root / "server.log")
    try:
        yield server
    finally:
        stop_process(server.proc)


@pytest.fixture
def role_arn(cloud: Cloud) -> str:
    iam = cloud.client("iam")
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
    name = f"role-{uuid.uuid4().hex[:10]}"
    return str(iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"])


def make_zip(files: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, text in files.items():
            zf.writestr(name, text)
    return buf.getvalue()


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def create_function(cloud: Cloud, role: str, code: str, *, name: str | None = None, **kw: Any) -> str:
    name = name or unique("fn")
    params: dict[str, Any] = {
        "FunctionName": name,
        "Runtime": "python3.12",
        "Role": role,
        "Handler": kw.pop("Handler", "app.handler"),
        "Code": {"ZipFile": make_zip({"app.py": code, **kw.pop("extra_files", {})})},
        "Timeout": kw.pop("Timeout", 10),
    }
    params.update(kw)
    cloud.client("lambda").create_function(**params)
    return name


def invoke(cloud: Cloud, name: str, payload: Any = None, **kw: Any) -> tuple[dict[str, Any], Any]:
    body = payload if isinstance(payload, bytes) else json.dumps(payload or {}).encode()
    resp = cloud.client("lambda").invoke(FunctionName=name, Payload=body, **kw)
    return resp, json.loads(resp["Payload"].read() or b"null")
