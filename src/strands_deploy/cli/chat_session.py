"""A conversation with an agent, whatever answers it: the deployed function or a `dev` server.

A :class:`Target` takes one prompt (and the session id, when there is one) and returns the
runtime's answer (``response``, ``session_id``, ``usage``, ``tool_errors``...), passing text to
``on_text`` as it arrives: all at once for a target that does not stream, chunk by chunk for an
endpoint that answers ``text/event-stream``. :class:`Conversation` keeps the session id across
turns. Nothing here prints; chat_cmd renders.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from strands_deploy.errors import StrandsDeployError

OnText = Callable[[str], None]


class Target(Protocol):
    name: str  # what is answering, for people: "agent support (environment local)"
    streams: bool  # False: the answer comes in one piece (the front end shows a spinner)

    def ask(self, prompt: str, session_id: str | None, on_text: OnText) -> dict[str, Any]: ...


@dataclass
class DeployedTarget:
    """The agent's deployed function (``live`` alias), through operate.invoke."""

    deployment: Any
    agent: str
    name: str = ""
    streams: bool = False

    def ask(self, prompt: str, session_id: str | None, on_text: OnText) -> dict[str, Any]:
        from strands_deploy.operate.invoke import invoke

        answer = invoke(self.deployment, self.agent, prompt, session_id)
        on_text(str(answer.get("response", "")))
        return answer


@dataclass
class EndpointTarget:
    """An HTTP endpoint answering ``POST {"prompt", "session_id"}`` like a deployed URL: a
    running `strands-deploy dev` server. Streams when the endpoint answers server-sent events
    (``data: {"text": ...}`` chunks, then ``data: {<the answer>}`` with ``"done": true``)."""

    url: str
    name: str = ""
    timeout: float = 900.0
    streams: bool = True

    def ask(self, prompt: str, session_id: str | None, on_text: OnText) -> dict[str, Any]:
        import urllib.error
        import urllib.request

        body: dict[str, Any] = {"prompt": prompt}
        if session_id:
            body["session_id"] = session_id
        request = urllib.request.Request(
            self.url,
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json", "Accept": "text/event-stream, application/json"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as resp:  # noqa: S310 - http(s) URL
                if "text/event-stream" in resp.headers.get("Content-Type", ""):
                    return read_events(resp, on_text)
                answer = _json_answer(resp.read(), self.url)
        except urllib.error.HTTPError as e:
            detail = _json_answer(e.read() or b"{}", self.url)
            raise StrandsDeployError(
                f"{self.url} answered {e.code}: {detail.get('error') or e.reason}",
                self.url,
                "see the dev server's output for the traceback",
            ) from None
        except (urllib.error.URLError, OSError) as e:
            reason = getattr(e, "reason", e)
            raise StrandsDeployError(
                f"nothing answers at {self.url} ({reason})",
                self.url,
                "start the agents first: strands-deploy dev (and pass its --port here)",
            ) from None
        on_text(str(answer.get("response", "")))
        return answer


def _json_answer(raw: bytes, url: str) -> dict[str, Any]:
    try:
        data = json.loads(raw or b"{}")
    except ValueError:
        raise StrandsDeployError(
            f"{url} answered something that is not JSON: {raw[:200]!r}", url, "is it an agent's endpoint?"
        ) from None
    return data if isinstance(data, dict) else {"response": json.dumps(data)}


def read_events(lines: Any, on_text: OnText) -> dict[str, Any]:
    """Server-sent events: ``{"text": chunk}`` events are passed on; the event with ``done`` is
    the answer (its ``response`` defaults to the chunks joined)."""
    chunks: list[str] = []
    answer: dict[str, Any] = {}
    for raw in lines:
        line = raw.decode("utf-8", "replace").rstrip("\r\n") if isinstance(raw, bytes) else str(raw).rstrip()
        if not line.startswith("data:"):
            continue
        try:
            event = json.loads(line[5:].strip())
        except ValueError:
            continue
        if not isinstance(event, dict):
            continue
        if event.get("done"):
            answer = {k: v for k, v in event.items() if k != "done"}
            break
        if isinstance(event.get("text"), str):
            chunks.append(event["text"])
            on_text(event["text"])
    if answer.get("response") is None:
        answer["response"] = "".join(chunks)
    return answer


@dataclass
class Turn:
    answer: dict[str, Any]
    seconds: float


@dataclass
class Conversation:
    """The session id kept across turns (the first answer names it unless one was given)."""

    target: Target
    session_id: str | None = None
    keeps_sessions: bool = True
    clock: Callable[[], float] = time.monotonic
    turns: list[Turn] = field(default_factory=list)

    def send(self, prompt: str, on_text: OnText) -> Turn:
        started = self.clock()
        answer = self.target.ask(prompt, self.session_id if self.keeps_sessions else None, on_text)
        if self.keeps_sessions and answer.get("session_id"):
            self.session_id = str(answer["session_id"])
        turn = Turn(answer, self.clock() - started)
        self.turns.append(turn)
        return turn

    def new(self) -> None:
        """Start a new session: the next answer names it."""
        self.session_id = None
        self.turns.clear()


def _tool_label(tool: Any) -> str:
    """``lookup`` or ``lookup (error)`` from the runtime's ``{"name", "status", "duration_ms"}``."""
    if not isinstance(tool, dict):
        return str(tool)
    label = str(tool.get("name") or "?")
    status = tool.get("status")
    return f"{label} ({status})" if status and status != "success" else label


def turn_details(turn: Turn) -> str:
    """The dim line after an answer: tools used, tool errors, tokens, time."""
    answer = turn.answer
    parts: list[str] = []
    tools = answer.get("tools") or answer.get("tool_calls")
    if isinstance(tools, dict):
        parts.append("tools: " + ", ".join(f"{k}×{v}" if v != 1 else str(k) for k, v in tools.items()))
    elif isinstance(tools, list) and tools:
        parts.append("tools: " + ", ".join(_tool_label(t) for t in tools))
    errors = [e for e in answer.get("tool_errors") or [] if isinstance(e, dict)]
    if errors:
        parts.append("failed: " + ", ".join(str(e.get("tool") or "?") for e in errors))
    usage = answer.get("usage") if isinstance(answer.get("usage"), dict) else {}
    if usage:
        tin, tout = usage.get("inputTokens"), usage.get("outputTokens")
        total = usage.get("totalTokens")
        if tin is not None or tout is not None:
            parts.append(f"tokens: {tin or 0} in, {tout or 0} out")
        elif total is not None:
            parts.append(f"tokens: {total}")
    parts.append(f"{turn.seconds:.1f}s")
    return " · ".join(parts)
