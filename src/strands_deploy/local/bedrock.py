"""A fake Bedrock Runtime: ``Converse``, ``ConverseStream``, ``InvokeModel`` (and its stream),
answered from the model script.

Shapes follow botocore's ``bedrock-runtime`` service model (the ground truth): Converse returns
``{output: {message}, stopReason, usage, metrics}``; ConverseStream returns an event stream of
``messageStart``, (``contentBlockStart`` for a tool use), ``contentBlockDelta``...,
``contentBlockStop``, ``messageStop`` and ``metadata``. ``InvokeModel`` takes and returns the
Anthropic messages format (``{anthropic_version, messages, max_tokens, tools?, tool_choice?}`` ->
``{content, stop_reason, usage: {input_tokens, output_tokens}}``); its stream sends ``chunk`` events.
``toolConfig.toolChoice`` (``tool_choice``) forcing a tool is honoured. Usage counts ~1 token per 4
characters of the whole request (system, tools, every message). See :mod:`.model_script`.

The first echo answer of a server without a model script carries, once, a note saying where the
answer comes from, in a ``reasoningContent`` block (a ``thinking`` block for InvokeModel): the SDK's
``str(AgentResult)`` keeps only text blocks, so answers stay exactly ``echo: ...``.
"""

from __future__ import annotations

import base64
import json
import logging
import re
import secrets
import string
import threading
import time
from typing import Any

from werkzeug.wrappers import Response

from strands_deploy.local import eventstream
from strands_deploy.local.model_script import Decision, ScriptCache, decide
from strands_deploy.local.settings import ConfigReader

log = logging.getLogger("strands_deploy.local.bedrock")

CONVERSE_PATH = re.compile(
    r"^/model/(?P<model>.+)/(?P<op>converse|converse-stream|invoke|invoke-with-response-stream)/?$"
)
ECHO_NOTE = (
    "(local cloud) This answer comes from the local model, not a real one: without a script it "
    "echoes your message. Script its answers and tool calls with `model_script:` under "
    "environments.local in strands.yaml - see docs/local-cloud.md (The local model)."
)
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
    return set(_tool_schemas(body))


def _tool_schemas(body: dict[str, Any]) -> dict[str, Any]:
    tools = (body.get("toolConfig") or {}).get("tools") or []
    return {
        t["toolSpec"]["name"]: ((t["toolSpec"].get("inputSchema") or {}).get("json") or {"type": "object"})
        for t in tools
        if isinstance(t, dict) and "toolSpec" in t
    }


def _forced_tool(body: dict[str, Any]) -> str | None:
    """The tool ``toolConfig.toolChoice`` forces: its name, ``"*"`` for ``any``, None for ``auto``."""
    choice = (body.get("toolConfig") or {}).get("toolChoice") or {}
    if isinstance(choice.get("tool"), dict):
        return str(choice["tool"].get("name", ""))
    if "any" in choice:
        return "*"
    return None


def _earlier_texts(messages: list[Any]) -> tuple[str, ...]:
    """The text of each earlier user message (tool results left out), newest first."""
    out: list[str] = []
    for message in reversed(messages):
        if isinstance(message, dict) and message.get("role") == "user":
            texts = [
                t
                for block in message.get("content") or []
                if isinstance(block, dict) and "toolResult" not in block
                for t in [_block_text(block)]
                if t
            ]
            if texts:
                out.append("\n".join(texts))
    return tuple(out)


def tokens(text: str) -> int:
    """About one token per 4 characters, as a rough stand-in for a real tokenizer."""
    return max(1, (len(text) + 3) // 4)


def count_input_tokens(body: dict[str, Any]) -> int:
    """Input tokens of a request: everything the model reads (system, tools, the whole history)."""
    parts = [body.get(k) for k in ("system", "messages", "toolConfig", "tools") if body.get(k)]
    return tokens(json.dumps(parts, separators=(",", ":"), ensure_ascii=False))


def _from_anthropic(body: dict[str, Any]) -> dict[str, Any]:
    """An Anthropic messages body as the Converse request it means (for the shared logic)."""
    messages: list[dict[str, Any]] = []
    for message in body.get("messages") or []:
        if not isinstance(message, dict):
            continue
        content = message.get("content")
        blocks: list[dict[str, Any]] = []
        for block in [{"type": "text", "text": content}] if isinstance(content, str) else content or []:
            kind = block.get("type") if isinstance(block, dict) else None
            if kind == "text":
                blocks.append({"text": str(block.get("text", ""))})
            elif kind == "tool_use":
                blocks.append(
                    {
                        "toolUse": {
                            "toolUseId": block.get("id"),
                            "name": block.get("name"),
                            "input": block.get("input"),
                        }
                    }
                )
            elif kind == "tool_result":
                inner = block.get("content")
                parts = (
                    [{"text": inner}]
                    if isinstance(inner, str)
                    else [{"text": str(p.get("text", ""))} for p in inner or [] if isinstance(p, dict)]
                )
                blocks.append({"toolResult": {"toolUseId": block.get("tool_use_id"), "content": parts}})
        messages.append({"role": message.get("role"), "content": blocks})
    tools = [
        {"toolSpec": {"name": t.get("name"), "inputSchema": {"json": t.get("input_schema") or {}}}}
        for t in body.get("tools") or []
        if isinstance(t, dict) and t.get("name")
    ]
    converse: dict[str, Any] = {"messages": messages}
    if tools:
        choice = body.get("tool_choice") or {}
        tool_choice: dict[str, Any] = {"auto": {}}
        if choice.get("type") == "any":
            tool_choice = {"any": {}}
        elif choice.get("type") == "tool":
            tool_choice = {"tool": {"name": choice.get("name")}}
        converse["toolConfig"] = {"tools": tools, "toolChoice": tool_choice}
    return converse


class FakeBedrock:
    def __init__(self, config: ConfigReader) -> None:
        self._config = config
        self._scripts = ScriptCache()
        self._note_lock = threading.Lock()
        self._noted = False  # the echo note is given once per server start

    def _echo_note(self, decision: Decision, scripted: bool) -> str | None:
        if scripted or decision.rule is not None or decision.text is None or decision.tool_name:
            return None
        if not decision.text.startswith("echo: "):
            return None
        with self._note_lock:
            if self._noted:
                return None
            self._noted = True
        return ECHO_NOTE

    def handle(self, model_id: str, op: str, raw_body: bytes) -> Response:
        started = time.monotonic()
        try:
            body = json.loads(raw_body or b"{}")
        except ValueError:
            return error_response("ValidationException", "The request body is not valid JSON.")
        if not isinstance(body, dict):
            return error_response("ValidationException", "The request body must be a JSON object.")
        anthropic = op.startswith("invoke")
        request = _from_anthropic(body) if anthropic else body
        messages = request.get("messages")
        if not isinstance(messages, list) or not messages:
            what = "messages" if not anthropic else "messages (the Anthropic messages format)"
            return error_response("ValidationException", f"{what}: at least one message is required.")
        script_path = self._config.model_script()
        script = self._scripts.get(script_path)
        if script.error:
            log.error("%s", script.error)
            return error_response("ValidationException", script.error)
        schemas = _tool_schemas(request)
        forced = _forced_tool(request)
        if forced is not None and not schemas:
            return error_response("ValidationException", "toolChoice is set but toolConfig has no tools.")
        if forced not in (None, "*") and forced not in schemas:
            return error_response(
                "ValidationException",
                f"toolChoice names tool {forced!r}, which toolConfig.tools does not define.",
            )
        text, is_tool_result = last_user_text(messages)
        decision = decide(
            script,
            text,
            is_tool_result,
            set(schemas),
            history=_history(messages[:-1]),
            forced=forced,
            schemas=schemas,
            earlier=_earlier_texts(messages[:-1]),
        )
        note = self._echo_note(decision, bool(script_path))
        log.info(
            "bedrock %s model=%s rule=%s tool=%s forced=%s",
            op,
            model_id,
            decision.rule or ("forced" if forced else "echo"),
            decision.tool_name,
            forced,
        )
        out_text = decision.text if decision.text is not None else json.dumps(decision.tool_input)
        usage = {"inputTokens": count_input_tokens(body), "outputTokens": tokens(out_text)}
        usage["totalTokens"] = usage["inputTokens"] + usage["outputTokens"]
        latency = int((time.monotonic() - started) * 1000)
        if op == "converse":
            return self._converse(decision, usage, latency, note)
        if op == "converse-stream":
            return self._converse_stream(decision, usage, latency, note)
        return self._invoke(model_id, decision, usage, note, stream=op != "invoke")

    @staticmethod
    def _tool_use_id(prefix: str = "tooluse_") -> str:
        return prefix + "".join(secrets.choice(_ID_CHARS) for _ in range(22))

    def _converse(
        self, decision: Decision, usage: dict[str, int], latency: int, note: str | None
    ) -> Response:
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
        if note:
            content.append({"reasoningContent": {"reasoningText": {"text": note}}})
        out = {
            "output": {"message": {"role": "assistant", "content": content}},
            "stopReason": stop,
            "usage": usage,
            "metrics": {"latencyMs": latency},
        }
        return Response(json.dumps(out), status=200, content_type="application/json")

    def _converse_stream(
        self, decision: Decision, usage: dict[str, int], latency: int, note: str | None
    ) -> Response:
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
        if note:
            delta = {"reasoningContent": {"text": note}}
            frames.append(ev("contentBlockDelta", {"delta": delta, "contentBlockIndex": 1}))
            frames.append(ev("contentBlockStop", {"contentBlockIndex": 1}))
        frames.append(ev("messageStop", {"stopReason": stop}))
        frames.append(ev("metadata", {"usage": usage, "metrics": {"latencyMs": latency}}))
        return Response(
            b"".join(frames), status=200, headers={"Content-Type": "application/vnd.amazon.eventstream"}
        )

    def _invoke(
        self, model_id: str, decision: Decision, usage: dict[str, int], note: str | None, *, stream: bool
    ) -> Response:
        content: list[dict[str, Any]] = []
        if note:
            content.append({"type": "thinking", "thinking": note, "signature": ""})
        if decision.tool_name is not None:
            content.append(
                {
                    "type": "tool_use",
                    "id": self._tool_use_id("toolu_"),
                    "name": decision.tool_name,
                    "input": decision.tool_input,
                }
            )
            stop = "tool_use"
        else:
            content.append({"type": "text", "text": decision.text or ""})
            stop = "end_turn"
        anthropic_usage = {"input_tokens": usage["inputTokens"], "output_tokens": usage["outputTokens"]}
        message = {
            "id": self._tool_use_id("msg_"),
            "type": "message",
            "role": "assistant",
            "model": model_id,
            "content": content,
            "stop_reason": stop,
            "stop_sequence": None,
            "usage": anthropic_usage,
        }
        headers = {
            "X-Amzn-Bedrock-Input-Token-Count": str(usage["inputTokens"]),
            "X-Amzn-Bedrock-Output-Token-Count": str(usage["outputTokens"]),
        }
        if not stream:
            return Response(json.dumps(message), status=200, content_type="application/json", headers=headers)
        events: list[dict[str, Any]] = [
            {
                "type": "message_start",
                "message": {
                    **message,
                    "content": [],
                    "stop_reason": None,
                    "usage": {**anthropic_usage, "output_tokens": 0},
                },
            },
        ]
        for i, block in enumerate(content):
            if block["type"] == "text":
                events.append(
                    {"type": "content_block_start", "index": i, "content_block": {"type": "text", "text": ""}}
                )
                for chunk in re.findall(r"\S+\s*|\s+", block["text"]) or [""]:
                    events.append(
                        {
                            "type": "content_block_delta",
                            "index": i,
                            "delta": {"type": "text_delta", "text": chunk},
                        }
                    )
            elif block["type"] == "thinking":
                events.append(
                    {
                        "type": "content_block_start",
                        "index": i,
                        "content_block": {"type": "thinking", "thinking": ""},
                    }
                )
                events.append(
                    {
                        "type": "content_block_delta",
                        "index": i,
                        "delta": {"type": "thinking_delta", "thinking": block["thinking"]},
                    }
                )
            else:
                events.append(
                    {"type": "content_block_start", "index": i, "content_block": {**block, "input": {}}}
                )
                events.append(
                    {
                        "type": "content_block_delta",
                        "index": i,
                        "delta": {"type": "input_json_delta", "partial_json": json.dumps(block["input"])},
                    }
                )
            events.append({"type": "content_block_stop", "index": i})
        events.append(
            {
                "type": "message_delta",
                "delta": {"stop_reason": stop, "stop_sequence": None},
                "usage": {"output_tokens": usage["outputTokens"]},
            }
        )
        events.append(
            {
                "type": "message_stop",
                "amazon-bedrock-invocationMetrics": {
                    "inputTokenCount": usage["inputTokens"],
                    "outputTokenCount": usage["outputTokens"],
                    "invocationLatency": 0,
                    "firstByteLatency": 0,
                },
            }
        )
        frames = [
            eventstream.encode_event("chunk", {"bytes": base64.b64encode(json.dumps(e).encode()).decode()})
            for e in events
        ]
        return Response(
            b"".join(frames),
            status=200,
            headers={
                "Content-Type": "application/vnd.amazon.eventstream",
                "X-Amzn-Bedrock-Content-Type": "application/json",
            },
        )
