"""Conversation memory through the SDK's S3SessionManager, against a real moto server."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import boto3
import pytest

from strands_deploy.runtime.adapter import handler
from tests.unit.runtime.scripted import texts

AGENT = """\
from strands import Agent
from tests.unit.runtime.scripted import ScriptedModel

model = ScriptedModel(default=lambda messages: f"turn {sum(m['role'] == 'user' for m in messages)}")
agent = Agent(model=model, system_prompt="Remember things.", callback_handler=None)
"""

FACTORY = """\
from strands import Agent
from tests.unit.runtime.scripted import ScriptedModel

model = ScriptedModel(default="noted")
MANAGERS = []

def build(session_manager=None):
    MANAGERS.append(session_manager)
    return Agent(model=model, callback_handler=None, session_manager=session_manager)
"""


@pytest.fixture
def bucket(moto: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto)
    name = "sessions-test"
    boto3.client("s3", region_name="us-east-1").create_bucket(Bucket=name)
    monkeypatch.setenv("LAMBDA_TASK_ROOT", str(tmp_path))
    monkeypatch.setenv("STRANDS_AGENT_NAME", "assistant")
    monkeypatch.setenv("STRANDS_SESSIONS_BUCKET", name)
    monkeypatch.setenv("STRANDS_SESSIONS_PREFIX", "assistant")
    monkeypatch.delenv("STRANDS_SESSIONS_DIR", raising=False)
    return name


def model_calls() -> list[dict[str, Any]]:
    return list(sys.modules["agent"].model.calls)


def test_same_session_remembers_and_other_sessions_do_not(
    bucket: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "agent.py").write_text(AGENT)
    monkeypatch.setenv("STRANDS_ENTRY", "agent.py:agent")

    first = handler({"prompt": "My favourite colour is teal."})
    sid = first["session_id"]
    assert first["response"] == "turn 1"

    second = handler({"prompt": "What is my favourite colour?", "session_id": sid})
    assert second["session_id"] == sid
    assert second["response"] == "turn 2"
    calls = model_calls()
    assert texts(calls[1]["messages"]) == [
        "My favourite colour is teal.",
        "turn 1",
        "What is my favourite colour?",
    ]
    assert calls[1]["system_prompt"] == "Remember things."

    other = handler({"prompt": "What is my favourite colour?", "session_id": "someone-else"})
    assert other["response"] == "turn 1"
    assert texts(model_calls()[2]["messages"]) == ["What is my favourite colour?"]

    # The memory lives in the bucket under the prefix, in the SDK's own layout.
    keys = [
        o["Key"]
        for o in boto3.client("s3", region_name="us-east-1").list_objects_v2(Bucket=bucket)["Contents"]
    ]
    assert any(k.startswith(f"assistant/session_{sid}/") for k in keys)
    assert any(k.startswith("assistant/session_someone-else/") for k in keys)


def test_memory_survives_a_new_container(
    bucket: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "agent.py").write_text(AGENT)
    monkeypatch.setenv("STRANDS_ENTRY", "agent.py:agent")
    handler({"prompt": "remember 7", "session_id": "durable"})

    # A different entry spelling builds a new Runtime and re-imports the file: a cold start.
    (tmp_path / "agent2.py").write_text(AGENT)
    monkeypatch.setenv("STRANDS_ENTRY", "agent2.py:agent")
    out = handler({"prompt": "what number?", "session_id": "durable"})
    assert out["response"] == "turn 2"
    assert texts(sys.modules["agent2"].model.calls[0]["messages"]) == ["remember 7", "turn 1", "what number?"]


def test_factory_gets_the_session_manager_per_request(
    bucket: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "agent.py").write_text(FACTORY)
    monkeypatch.setenv("STRANDS_ENTRY", "agent.py:build")
    handler({"prompt": "one", "session_id": "f1"})
    out = json.loads(
        handler(
            {
                "version": "2.0",
                "rawPath": "/",
                "requestContext": {"http": {"method": "POST"}},
                "body": json.dumps({"prompt": "two", "session_id": "f1"}),
            }
        )["body"]
    )
    assert out["response"] == "noted"
    module = sys.modules["agent"]
    assert [m.session_id for m in module.MANAGERS] == ["f1", "f1"]
    assert module.MANAGERS[0] is not module.MANAGERS[1]
    assert texts(module.model.calls[1]["messages"]) == ["one", "noted", "two"]
