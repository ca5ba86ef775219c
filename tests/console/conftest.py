"""Fixtures for the console: a project on disk and the console's ASGI app behind a test client."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.helpers import AGENT_NO_LAYER, write_project

PORT = 8765
BASE = f"http://127.0.0.1:{PORT}"

PROJECT = """\
# The support desk (a comment that must survive every edit)
project: desk
region: us-east-1

agents:
  support:
    path: agents/support
    memory: 512  # small on purpose
    expose: url
    link: [tickets]
  triage:
    path: agents/triage
    trigger: jobs

resources:
  tickets: {type: table, key: id}  # the tickets
  jobs: {type: queue}

environments:
  local: {}
  prod: {account: "123456789012", protect: true}
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return write_project(
        tmp_path / "desk",
        PROJECT,
        agents={"support": AGENT_NO_LAYER, "triage": AGENT_NO_LAYER},
        requirements="",
    )


def make_client(root: Path, env: str = "local") -> tuple[Any, TestClient]:
    from strands_deploy.console.app import Console, create_app

    console = Console(root=root, env=env, port=PORT)
    client = TestClient(create_app(console), base_url=BASE)
    client.cookies.set("strands_console", console.keys.token)
    client.headers["X-CSRF-Token"] = console.keys.csrf
    return console, client


@pytest.fixture
def console_client(project: Path) -> Iterator[tuple[Any, TestClient]]:
    console, client = make_client(project)
    with client:
        yield console, client


@pytest.fixture(scope="session")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One local cloud (a real server process, stopped by pid) for the console's deploy tests."""
    from tests.conftest import stop_process
    from tests.integration.local.conftest import start_server

    root = tmp_path_factory.mktemp("console-cloud")
    server = start_server(root / "state", root / "server.log")
    try:
        yield server
    finally:
        stop_process(server.proc)


DEPLOYABLE = """\
# Built for the console's deploy tests
project: {name}
region: us-east-1
agents:
  support:
    path: agents/support
    link: [tickets]
  writer:
    path: agents/writer
resources:
  tickets: {{type: table, key: id, retain: false}}
environments:
  local: {{endpoint: "{endpoint}"}}
  prod: {{endpoint: "{endpoint}", protect: true}}
"""


def deployable(root: Path, name: str, endpoint: str) -> Path:
    return write_project(
        root,
        DEPLOYABLE.format(name=name, endpoint=endpoint),
        agents={"support": AGENT_NO_LAYER, "writer": AGENT_NO_LAYER},
        requirements="",
    )
