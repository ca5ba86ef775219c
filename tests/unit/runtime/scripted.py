"""A scripted strands Model for tests: replies from a list, records every call it receives."""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, AsyncIterable, Callable
from typing import Any

from strands.models.model import Model

# A reply is text, a tool call {"tool": name, "input": {...}}, or a function of the messages.
Reply = str | dict[str, Any] | Callable[[list[dict[str, Any]]], str]


class ScriptedModel(Model):
    def __init__(self, replies: list[Reply] | None = None, default: Reply = "ok") -> None:
        self.replies = list(replies or [])
        self.default = default
        self.calls: list[dict[str, Any]] = []

    def update_config(self, **model_config: Any) -> None:
        return None

    def get_config(self) -> dict[str, Any]:
        return {}

    async def structured_output(  # type: ignore[override]
        self, output_model: Any, prompt: Any, system_prompt: str | None = None, **kwargs: Any
    ) -> AsyncGenerator[dict[str, Any], None]:
        raise NotImplementedError("ScriptedModel has no structured output")
        yield {}

    async def stream(  # type: ignore[override]
        self,
        messages: list[dict[str, Any]],
        tool_specs: list[dict[str, Any]] | None = None,
        system_prompt: str | None = None,
        **kwargs: Any,
    ) -> AsyncIterable[dict[str, Any]]:
        snapshot = json.loads(json.dumps(messages, default=str))
        self.calls.append(
            {
                "messages": snapshot,
                "system_prompt": system_prompt,
                "tools": [spec["name"] for spec in tool_specs or []],
            }
        )
        reply = self.replies.pop(0) if self.replies else self.default
        if callable(reply):
            reply = reply(snapshot)
        yield {"messageStart": {"role": "assistant"}}
        if isinstance(reply, dict):
            yield {
                "contentBlockStart": {
                    "start": {"toolUse": {"toolUseId": f"t{len(self.calls)}", "name": reply["tool"]}}
                }
            }
            yield {"contentBlockDelta": {"delta": {"toolUse": {"input": json.dumps(reply.get("input", {}))}}}}
            yield {"contentBlockStop": {}}
            yield {"messageStop": {"stopReason": "tool_use"}}
        else:
            yield {"contentBlockStart": {"start": {}}}
            yield {"contentBlockDelta": {"delta": {"text": reply}}}
            yield {"contentBlockStop": {}}
            yield {"messageStop": {"stopReason": "end_turn"}}
        yield {
            "metadata": {
                "usage": {"inputTokens": 10, "outputTokens": 5, "totalTokens": 15},
                "metrics": {"latencyMs": 1},
            }
        }


def texts(messages: list[dict[str, Any]]) -> list[str]:
    """Every text block of a message list, in order."""
    return [block["text"] for m in messages for block in m.get("content", []) if "text" in block]


# A self-contained model for agent files run outside the test process (a subprocess, `dev`):
# it answers REPLY (a module global), or when REPLY is None echoes the conversation's user texts
# (after PREFIX, if the module defines one).
INLINE_MODEL = """
import json as _json
from strands.models.model import Model as _Model


class FixedModel(_Model):
    def update_config(self, **kw):
        return None

    def get_config(self):
        return {}

    async def structured_output(self, *args, **kwargs):
        raise NotImplementedError
        yield {}

    async def stream(self, messages, tool_specs=None, system_prompt=None, **kwargs):
        users = [b["text"] for m in messages if m["role"] == "user" for b in m["content"] if "text" in b]
        text = REPLY if REPLY is not None else globals().get("PREFIX", "") + " | ".join(users)
        yield {"messageStart": {"role": "assistant"}}
        yield {"contentBlockStart": {"start": {}}}
        yield {"contentBlockDelta": {"delta": {"text": text}}}
        yield {"contentBlockStop": {}}
        yield {"messageStop": {"stopReason": "end_turn"}}
        yield {"metadata": {"usage": {"inputTokens": 1, "outputTokens": 1, "totalTokens": 2}, "metrics": {"latencyMs": 0}}}
"""
