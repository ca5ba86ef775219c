"""A fake Bedrock Runtime: ``Converse`` and ``ConverseStream`` answered from the model script.

Shapes follow botocore's ``bedrock-runtime`` service model (the ground truth): Converse returns
``{output: {message}, stopReason, usage, metrics}``; ConverseStream returns an event stream of
``messageStart``, (``contentBlockStart`` for a tool use), ``contentBlockDelta``...,
``contentBlockStop``, ``messageStop`` and ``metadata``. See :mod:`.model_script` for the answers.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import string
import time
from typing import Any

from werkzeug.wrappers import Response

from strands_deploy.local import eventstream
from strands_deploy.local.model_script import Decision, ScriptCache, decide
from strands_deploy.local.settings import ConfigReader

log = logging.getLogger("strands_deploy.local.bedrock")

CONVERSE_PATH = re.compile(r"^/model/(?P<model>.+)/(?P<op>converse|converse-stream)/?$")
_ID_CHARS = string.ascii_letters + string.digits


def error_response(code: str, message: str, status: int = 400) -> Response:
    return Response(
        json.dumps({"message": message}),
        status=status,
        headers={"x-amzn-ErrorType": code, "Content-Type": "application/json"},
    )


def _block_text(block: dict[str, Any]) -> str | None:
    if "text" in block:
        return str(block["text"])
    if "json" in block:
        return json.dumps(block["json"])
    return None


def last_user_text(messages: list[dict[str, Any]]) -> tuple[str, bool]:
    """The last user message's text and whether it is a tool result (tool results' text joined)."""
    for message in reversed(messages):
        if message.get("role") != "user":
            continue
        texts: list[str] = []
        results: list[str] = []
        for block in message.get("content") or []:
            if "toolResult" in block:
                for part in block["toolResult"].get("content") or []:
                    t = _block_text(part)
                    if t is not None:
                        results.append(t)
            else:
                t = _block_text(block)
                if t is not None:
                    texts.append(t)
        if results:
            return "\n".join(results), True
        return "\n".join(texts), False
    return "", False


def _history(messages: list[Any]) -> str:
    """The text blocks of earlier user messages (not tool results), oldest first."""
    out: list[str] = []
    for message in messages:
        if isinstance(message, dict) and message.get("role") == "user":
            for block in message.get("content") or []:
                t = _block_text(block) if isinstance(block, dict) and "toolResult" not in block else None
                if t:
                    out.append(t)
    return " | ".join(out)


def _tool_names(body: dict[str, Any]) -> set[str]:
    tools = (body.get("toolConfig") or {}).get("tools") or []
    return {t["toolSpec"]["name"] for t in tools if isinstance(t, dict) and "toolSpec" in t}


def _tokens(text: str) -> int:
    return max(1, len(text.split()))


class FakeBedrock:
    def __init__(self, config: ConfigReader) -> None:
        self._config = config
        self._scripts = ScriptCache()

    def handle(self, model_id: str, op: str, raw_body: bytes) -> Response:
        started = time.monotonic()
        try:
            body = json.loads(raw_body or b"{}")
        except ValueError:
            return error_response("ValidationException", "The request body is not valid JSON.")
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            return error_response("ValidationException", "messages: at least one message is required.")
        script = self._scripts.get(self._config.model_script())
        if script.error:
            log.error("%s", script.error)
            return error_response("ValidationException", script.error)
        text, is_tool_result = last_user_text(messages)
        decision = decide(script, text, is_tool_result, _tool_names(body), history=_history(messages[:-1]))
        log.info(
            "bedrock %s model=%s rule=%s tool=%s", op, model_id, decision.rule or "echo", decision.tool_name
        )
        usage_in = sum(_tokens(json.dumps(m.get("content", ""))) for m in messages)
        out_text = decision.text if decision.text is not None else json.dumps(decision.tool_input)
        usage = {"inputTokens": usage_in, "outputTokens": _tokens(out_text)}
        usage["totalTokens"] = usage["inputTokens"] + usage["outputTokens"]
        latency = int((time.monotonic() - started) * 1000)
        if op == "converse":
            return self._converse(decision, usage, latency)
        return self._converse_stream(decision, usage, latency)

    @staticmethod
    def _tool_use_id() -> str:
        return "tooluse_" + "".join(secrets.choice(_ID_CHARS) for _ in range(22))

    def _converse(self, decision: Decision, usage: dict[str, int], latency: int) -> Response:
        if decision.tool_name is not None:
            content: list[dict[str, Any]] = [
                {
                    "toolUse": {
                        "toolUseId": self._tool_use_id(),
                        "name": decision.tool_name,
                        "input": decision.tool_input,
                    }
                }
            ]
            stop = "tool_use"
        else:
            content, stop = [{"text": decision.text or ""}], "end_turn"
        out = {
            "output": {"message": {"role": "assistant", "content": content}},
            "stopReason": stop,
            "usage": usage,
            "metrics": {"latencyMs": latency},
        }
        return Response(json.dumps(out), status=200, content_type="application/json")

    def _converse_stream(self, decision: Decision, usage: dict[str, int], latency: int) -> Response:
        ev = eventstream.encode_event
        frames = [ev("messageStart", {"role": "assistant"})]
        if decision.tool_name is not None:
            start = {"toolUse": {"toolUseId": self._tool_use_id(), "name": decision.tool_name}}
            frames.append(ev("contentBlockStart", {"start": start, "contentBlockIndex": 0}))
            delta = {"toolUse": {"input": json.dumps(decision.tool_input)}}
            frames.append(ev("contentBlockDelta", {"delta": delta, "contentBlockIndex": 0}))
            stop = "tool_use"
        else:
            # a few word-sized deltas, as a real model streams them
            for chunk in re.findall(r"\S+\s*|\s+", decision.text or "") or [""]:
                frames.append(ev("contentBlockDelta", {"delta": {"text": chunk}, "contentBlockIndex": 0}))
            stop = "end_turn"
        frames.append(ev("contentBlockStop", {"contentBlockIndex": 0}))
        frames.append(ev("messageStop", {"stopReason": stop}))
        frames.append(ev("metadata", {"usage": usage, "metrics": {"latencyMs": latency}}))
        return Response(
            b"".join(frames), status=200, headers={"Content-Type": "application/vnd.amazon.eventstream"}
        )
