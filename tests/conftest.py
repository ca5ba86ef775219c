"""Shared fixtures: a real moto server over HTTP, started and stopped by pid."""

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

import pytest

from strands_deploy.aws.session import AwsContext, AwsSettings

REPO = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_http(url: str, timeout: float = 30.0, proc: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited early with code {proc.returncode}")
        try:
            urllib.request.urlopen(url, timeout=1).read()
            return
        except Exception:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer in {timeout}s")


def stop_process(proc: subprocess.Popen[bytes]) -> None:
    """Stop exactly this process (by pid): SIGTERM, then SIGKILL."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@pytest.fixture(autouse=True)
def _aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test may reach real AWS: dummy credentials, and no profile from the developer's machine."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)


@pytest.fixture(autouse=True, scope="session")
def _shared_layer_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Layer zips built for AWS go to a cache shared between projects (the user cache folder):
    tests share one of their own, never the developer's ~/.cache."""
    previous = os.environ.get("STRANDS_DEPLOY_CACHE_DIR")
    os.environ["STRANDS_DEPLOY_CACHE_DIR"] = str(tmp_path_factory.mktemp("layer-cache"))
    yield
    if previous is None:
        os.environ.pop("STRANDS_DEPLOY_CACHE_DIR", None)
    else:
        os.environ["STRANDS_DEPLOY_CACHE_DIR"] = previous


@pytest.fixture(scope="session")
def moto_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real moto server in its own process, for this test session (one per xdist worker)."""
    port = free_port()
    log = tmp_path_factory.mktemp("moto") / "moto.log"
    env = {**os.environ, "MOTO_ALLOW_NONEXISTENT_REGION": "false"}
    with open(log, "wb") as fh:
        proc = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=fh,
            stderr=subprocess.STDOUT,
            env=env,
        )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        wait_http(f"{endpoint}/moto-api/", proc=proc)
        yield endpoint
    finally:
        stop_process(proc)


@pytest.fixture
def moto(moto_server: str) -> str:
    """The moto endpoint, reset to empty before the test."""
    req = urllib.request.Request(f"{moto_server}/moto-api/reset", method="POST")
    urllib.request.urlopen(req, timeout=10).read()
    return moto_server


@pytest.fixture
def aws(moto: str) -> AwsContext:
    return AwsContext(AwsSettings(region="us-east-1", endpoint_url=moto, local=True, max_attempts=3))


BIN = Path(sys.executable).parent / "strands-deploy"


class Cli:
    def __init__(self, root: Path, env: dict[str, str] | None = None) -> None:
        self.root = root
        self.env = {
            **os.environ,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
            "NO_COLOR": "1",
            "COLUMNS": "200",
            **(env or {}),
        }
        self.env.pop("AWS_PROFILE", None)

    def __call__(
        self, *args: str, input: str | None = None, timeout: float = 240
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(BIN), "-C", str(self.root), *args],
            capture_output=True,
            text=True,
            env=self.env,
            input=input,
            timeout=timeout,
        )

    def json(self, *args: str) -> Any:
        proc = self(*args, "--json")
        assert proc.returncode in (0, 2), proc.stderr + proc.stdout
        return json.loads(proc.stdout)


@pytest.fixture
def cli_factory() -> Any:
    return Cli
