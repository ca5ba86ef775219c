"""Realistic agents deploy unchanged (issue 13): the project in tests/agents/realistic holds agents
written the way people write them — an Agent with a custom tool, a factory, an existing Lambda
handler, a FastAPI app, agents as tools, structured output, strands_tools, boto3 to DynamoDB with a
`${resource...}` reference, and an agent with every trigger kind. The whole project is deployed to
its own local cloud through the console script, once, and each agent answers.

The local model answers from the project's model.yaml (tools called by rule, otherwise `echo:`).
"""

from __future__ import annotations

import json
import shutil
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from tests.conftest import Cli

pytestmark = pytest.mark.slow

SOURCE = Path(__file__).resolve().parents[2] / "agents" / "realistic"


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Cli]]:
    root = tmp_path_factory.mktemp("realistic") / "real"
    shutil.copytree(SOURCE, root)
    cli = Cli(root, env={"STRANDS_LOCAL_PORT": "0"})
    try:
        validate = cli("validate")
        assert validate.returncode == 0, validate.stdout + validate.stderr
        deploy = cli("deploy")
        assert deploy.returncode == 0, deploy.stdout + deploy.stderr
        # deploy says where the local cloud is and ends with the endpoints it serves
        assert "local cloud started on 127.0.0.1:" in deploy.stderr
        endpoints = deploy.stderr.split("endpoints:", 1)[-1].split()
        assert endpoints[0] == "agent.webapp" and endpoints[1].startswith("http://127.0.0.1:")
        yield root, cli
    finally:
        cli("local", "stop", timeout=60)


def ask(cli: Cli, agent: str, prompt: str, *extra: str) -> dict[str, Any]:
    proc = cli("invoke", agent, prompt, "--json", *extra)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    answer: dict[str, Any] = json.loads(proc.stdout)
    return answer


def endpoint(root: Path) -> str:
    info = json.loads((root / ".strands" / "local" / "endpoint.json").read_text())
    return str(info["endpoint"])


def test_an_agent_with_a_custom_tool(deployed: tuple[Path, Cli]) -> None:
    _, cli = deployed
    assert ask(cli, "plain", "count the words in one two three")["response"] == "echo: 3"


def test_a_factory_with_sessions(deployed: tuple[Path, Cli]) -> None:
    _, cli = deployed
    first = ask(cli, "factory", "remember me", "--session", "s-1")
    assert first["session_id"] == "s-1" and first["response"] == "echo: remember me"
    second = ask(cli, "factory", "again", "--session", "s-1")
    assert second["usage"]["inputTokens"] > first["usage"]["inputTokens"]  # the history came back


def test_an_existing_lambda_handler_is_called_as_lambda_would(deployed: tuple[Path, Cli]) -> None:
    _, cli = deployed
    answer = ask(cli, "handler", "ignored by this handler")
    raw = answer["raw"]  # the handler's own return value, unchanged
    assert raw["statusCode"] == 200 and raw["answer"] and raw["request"]


def test_a_fastapi_app_behind_its_function_url(deployed: tuple[Path, Cli]) -> None:
    _, cli = deployed
    outputs = json.loads(cli("outputs", "--format", "json").stdout)
    url = str(outputs["agent.webapp"]["url"]).rstrip("/")
    with urllib.request.urlopen(f"{url}/health", timeout=30) as r:
        assert json.loads(r.read()) == {"ok": True}
    request = urllib.request.Request(
        f"{url}/chat",
        data=json.dumps({"text": "hi there"}).encode(),
        headers={"content-type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=60) as r:
        assert r.status == 200 and json.loads(r.read()) == {"answer": "echo: hi there"}
    direct = cli("invoke", "webapp", "hello")
    assert direct.returncode == 1 and "HTTP app" in direct.stderr and "outputs" in direct.stderr


def test_agents_as_tools(deployed: tuple[Path, Cli]) -> None:
    _, cli = deployed
    answer = ask(cli, "orchestrator", "research tides")
    assert answer["response"] == "echo: research notes: echo: tides"


def test_structured_output(deployed: tuple[Path, Cli]) -> None:
    _, cli = deployed
    answer = ask(cli, "structured", "ticket: printer broken")
    assert answer["structured"] == {"title": "printer broken", "priority": 2}


def test_strands_tools(deployed: tuple[Path, Cli]) -> None:
    _, cli = deployed
    answer = ask(cli, "toolbox", "compute 6 * 7")
    assert "42" in answer["response"]


def test_boto3_to_dynamodb_through_a_reference(deployed: tuple[Path, Cli]) -> None:
    root, cli = deployed
    assert "no such promotion" in ask(cli, "promos", "promo SAVE10")["response"]
    ddb = boto3.client("dynamodb", endpoint_url=endpoint(root), region_name="us-east-1")
    ddb.put_item(TableName="real-local-promos", Item={"code": {"S": "SAVE10"}, "discount": {"N": "10"}})
    assert ask(cli, "promos", "promo SAVE10")["response"] == "echo: SAVE10: 10% off"


def test_triggers_simulated(deployed: tuple[Path, Cli]) -> None:
    _, cli = deployed
    proc = cli("simulate", "watcher", "s3:put", "--key", "incoming/a.txt", "--json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "echo: New file incoming/a.txt arrived" in proc.stdout
    proc = cli("simulate", "watcher", "sns", "--message", "disk full", "--json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "echo: Alert: disk full" in proc.stdout
