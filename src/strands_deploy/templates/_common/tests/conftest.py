"""Test helpers: load an agent file like strands-deploy does, and a scripted model instead of Bedrock.

The scripted model makes the tests run offline: no network, no AWS account.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from collections.abc import AsyncGenerator, AsyncIterable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from strands.models.model import Model

PROJECT = Path(__file__).resolve().parents[1]


def load_agent(name: str) -> ModuleType:
    """Import agents/<name>/agent.py the way strands-deploy does (its folder is the import root)."""
    folder = PROJECT / "agents" / name
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))
    spec = importlib.util.spec_from_file_location(f"{name.replace('-', '_')}_agent", folder / "agent.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class ScriptedModel(Model):
    """Answers from a script: a string is a text reply, {"tool": name, "input": {...}} a tool call."""

    def __init__(self, script: list[Any]) -> None:
        self.script = list(script)
        self.calls: list[list[dict[str, Any]]] = []  # the messages of every model call

    def update_config(self, **model_config: Any) -> None:
        return None

    def get_config(self) -> dict[str, Any]:
        return {}

    async def structured_output(self, *args: Any, **kwargs: Any) -> AsyncGenerator[dict[str, Any], None]:
        raise NotImplementedError
        yield {}

    async def stream(
        self, messages: Any, tool_specs: Any = None, system_prompt: Any = None, **kwargs: Any
    ) -> AsyncIterable[Any]:
        self.calls.append(json.loads(json.dumps(messages, default=str)))
        step = self.script.pop(0) if self.script else "done"
        yield {"messageStart": {"role": "assistant"}}
        if isinstance(step, dict):
            start = {"toolUse": {"toolUseId": f"call-{len(self.calls)}", "name": step["tool"]}}
            yield {"contentBlockStart": {"start": start}}
            yield {"contentBlockDelta": {"delta": {"toolUse": {"input": json.dumps(step.get("input", {}))}}}}
            yield {"contentBlockStop": {}}
            yield {"messageStop": {"stopReason": "tool_use"}}
        else:
            yield {"contentBlockStart": {"start": {}}}
            yield {"contentBlockDelta": {"delta": {"text": step}}}
            yield {"contentBlockStop": {}}
            yield {"messageStop": {"stopReason": "end_turn"}}
        yield {
            "metadata": {
                "usage": {"inputTokens": 1, "outputTokens": 1, "totalTokens": 2},
                "metrics": {"latencyMs": 0},
            }
        }


def tool_result(model: ScriptedModel, call: int) -> dict[str, Any]:
    """The tool result the model received at the start of model call number ``call``."""
    return model.calls[call][-1]["content"][0]["toolResult"]


@pytest.fixture
def load() -> Any:
    """``load("assistant")`` imports agents/assistant/agent.py."""
    return load_agent


@pytest.fixture
def scripted() -> Any:
    """``scripted([...])`` makes a ScriptedModel."""
    return ScriptedModel


@pytest.fixture
def result_of() -> Any:
    """``result_of(model, n)``: the tool result the model received in call n."""
    return tool_result
