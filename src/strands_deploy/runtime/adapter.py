"""strands-deploy runtime adapter: the Lambda handler that runs a Strands agent.

This single file is copied into every function package as ``_strands_runtime.py`` and the
function's handler is ``_strands_runtime.handler``. It imports only the standard library, boto3
and strands (never strands_deploy), so it runs in any Python 3.10+ Lambda runtime.

Environment contract (set by strands-deploy's synthesis):

- ``STRANDS_ENTRY``: ``file.py:name`` relative to the package root (``LAMBDA_TASK_ROOT``).
- ``STRANDS_AGENT_NAME``: the agent's name in strands.yaml (used in log lines).
- ``STRANDS_SESSIONS_BUCKET`` / ``STRANDS_SESSIONS_PREFIX``: conversation memory in S3 through the
  SDK's ``S3SessionManager`` (only for agents with ``sessions: true``).
- ``STRANDS_SESSIONS_DIR``: conversation memory in a local folder through the SDK's
  ``FileSessionManager`` (used by ``strands-deploy dev`` when no bucket is deployed).

The entry object is either

- a ``strands.Agent`` instance: it is the *template*. Agent instances hold conversation state, so
  every request gets a new ``Agent`` built with the template's model, tools, system prompt, name,
  description, agent id, initial messages and state, conversation manager (a copy), tool executor
  and structured output model (and the session manager when sessions are on). Hooks, plugins and
  interventions attached to the instance are not carried over: use a factory for those.
- a function (or class) returning an Agent. If it accepts a ``session_manager`` parameter (or
  ``**kwargs``) it is called for every request with ``session_manager=<manager or None>``, so it
  controls everything about the agent. Otherwise it is called once per container and its result is
  used as a template, as above.

Events: a direct invoke ``{"prompt": "...", "session_id": "..."}`` answers
``{"response", "session_id", "stop_reason", "usage"}`` (errors: ``{"error", "status", ...}``); a
Function URL / HTTP API (payload 2.0, or 1.0) event with the same JSON body answers
``{"statusCode", "headers", "body"}``. One JSON line per request is written to stdout.
"""

from __future__ import annotations

import base64
import copy
import importlib.util
import inspect
import json
import os
import re
import sys
import threading
import time
import traceback
import uuid
from typing import Any

SESSION_ID_RE = re.compile(r"^[A-Za-z0-9_.:@=+-]{1,128}$")
JSON_HEADERS = {"content-type": "application/json"}

__all__ = ["Runtime", "RequestError", "handler", "current_runtime"]


class RequestError(Exception):
    """A failure answered with an HTTP-like status and a JSON body (never a stack trace)."""

    def __init__(self, status: int, message: str, file: str | None = None, line: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.file = file
        self.line = line

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {"error": self.message}
        if self.file is not None:
            out["file"] = self.file
        if self.line is not None:
            out["line"] = self.line
        return out


def _log(record: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(record, default=str, separators=(",", ":")) + "\n")
    sys.stdout.flush()


def _accepts_session_manager(fn: Any) -> bool:
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return False
    for p in params:
        if p.kind is inspect.Parameter.VAR_KEYWORD:
            return True
        if p.name == "session_manager" and p.kind is not inspect.Parameter.POSITIONAL_ONLY:
            return True
    return False


class Runtime:
    """One agent's request handling: entry loading, per-request agents, sessions, events."""

    def __init__(
        self,
        root: str,
        entry: str,
        agent_name: str = "",
        sessions_bucket: str | None = None,
        sessions_prefix: str = "",
        sessions_dir: str | None = None,
    ) -> None:
        self.root = os.path.abspath(root)
        self.entry = entry
        self.agent_name = agent_name
        self.sessions_bucket = sessions_bucket or None
        self.sessions_prefix = sessions_prefix or ""
        self.sessions_dir = sessions_dir or None
        self._lock = threading.Lock()
        self._loaded = False
        self._error: RequestError | None = None
        self._template: Any = None  # an Agent used as a template
        self._factory: Any = None  # a function called per request with session_manager=
        self._boto_session: Any = None

    @classmethod
    def from_env(cls, root: str | None = None) -> Runtime:
        env = os.environ
        return cls(
            root=root or env.get("LAMBDA_TASK_ROOT") or os.path.dirname(os.path.abspath(__file__)),
            entry=env.get("STRANDS_ENTRY", "agent.py:agent"),
            agent_name=env.get("STRANDS_AGENT_NAME", ""),
            sessions_bucket=env.get("STRANDS_SESSIONS_BUCKET"),
            sessions_prefix=env.get("STRANDS_SESSIONS_PREFIX", ""),
            sessions_dir=env.get("STRANDS_SESSIONS_DIR"),
        )

    @property
    def sessions(self) -> bool:
        return bool(self.sessions_bucket or self.sessions_dir)

    # -- loading ---------------------------------------------------------------------------

    def load(self) -> dict[str, Any] | None:
        """Import the entry (once). Returns ``None`` when it is usable, else the error body."""
        with self._lock:
            if not self._loaded:
                try:
                    self._load()
                except RequestError as e:
                    self._error = e
                self._loaded = True
        return self._error.body() if self._error is not None else None

    def _rel(self, filename: str | None) -> str | None:
        if not filename:
            return None
        path = os.path.abspath(filename)
        if path == self.root or path.startswith(self.root + os.sep):
            return os.path.relpath(path, self.root).replace(os.sep, "/")
        return filename

    def _where(self, exc: BaseException) -> tuple[str | None, int | None]:
        """The innermost traceback frame inside the agent folder (else the innermost overall)."""
        frames = traceback.extract_tb(exc.__traceback__)
        for frame in reversed(frames):
            path = os.path.abspath(frame.filename)
            if path.startswith(self.root + os.sep) and not path.endswith(os.sep + "_strands_runtime.py"):
                return self._rel(frame.filename), frame.lineno
        return None, None

    def _load(self) -> None:
        file, sep, symbol = self.entry.partition(":")
        if not sep or not file.endswith(".py") or not symbol.isidentifier():
            raise RequestError(500, f"STRANDS_ENTRY must look like 'agent.py:agent', got {self.entry!r}")
        path = os.path.join(self.root, file)
        if not os.path.isfile(path):
            raise RequestError(500, f"entry file {file} not found in the agent folder", file=file)
        try:
            from strands import Agent
        except ImportError as e:
            raise RequestError(
                500, f"strands-agents is not installed ({e}): add strands-agents to requirements.txt"
            ) from None

        if self.root not in sys.path:
            sys.path.insert(0, self.root)
        modname = file[:-3].replace("/", ".").replace(os.sep, ".")
        spec = importlib.util.spec_from_file_location(modname, path)
        if spec is None or spec.loader is None:
            raise RequestError(500, f"cannot import {file}", file=file)
        module = importlib.util.module_from_spec(spec)
        sys.modules[modname] = module
        try:
            spec.loader.exec_module(module)
        except SyntaxError as e:
            sys.modules.pop(modname, None)
            raise RequestError(
                500, f"SyntaxError: {e.msg}", file=self._rel(e.filename) or file, line=e.lineno
            ) from None
        except BaseException as e:  # noqa: BLE001 - SystemExit too: the container must survive
            sys.modules.pop(modname, None)
            where_file, where_line = self._where(e)
            raise RequestError(
                500,
                f"{type(e).__name__} while importing {file}: {e}",
                file=where_file or file,
                line=where_line,
            ) from None
        if not hasattr(module, symbol):
            raise RequestError(500, f"{file} defines no {symbol!r} (STRANDS_ENTRY={self.entry})", file=file)
        obj = getattr(module, symbol)

        if isinstance(obj, Agent):
            self._template = obj
        elif callable(obj) and _accepts_session_manager(obj):
            self._factory = obj
        elif callable(obj):
            try:
                built = obj()
            except Exception as e:
                where_file, where_line = self._where(e)
                raise RequestError(
                    500, f"{type(e).__name__} in {symbol}(): {e}", file=where_file or file, line=where_line
                ) from None
            if not isinstance(built, Agent):
                raise RequestError(
                    500, f"{symbol}() returned a {type(built).__name__}, not a strands Agent", file=file
                )
            self._template = built
        else:
            raise RequestError(
                500,
                f"{symbol} in {file} is a {type(obj).__name__}, not a strands Agent or a function returning one",
                file=file,
            )

    # -- per-request agents ----------------------------------------------------------------

    def _session_manager(self, session_id: str) -> Any:
        if self.sessions_bucket:
            import boto3
            from strands.session.s3_session_manager import S3SessionManager

            if self._boto_session is None:
                self._boto_session = boto3.Session()
            return S3SessionManager(
                session_id=session_id,
                bucket=self.sessions_bucket,
                prefix=self.sessions_prefix,
                boto_session=self._boto_session,
            )
        if self.sessions_dir:
            from strands.session.file_session_manager import FileSessionManager

            return FileSessionManager(session_id=session_id, storage_dir=self.sessions_dir)
        return None

    def _agent_for(self, session_id: str) -> Any:
        from strands import Agent

        manager = self._session_manager(session_id) if self.sessions else None
        if self._factory is not None:
            agent = self._factory(session_manager=manager)
            if not isinstance(agent, Agent):
                raise RequestError(500, f"the entry returned a {type(agent).__name__}, not a strands Agent")
            return agent
        return self._clone(self._template, manager)

    @staticmethod
    def _clone(template: Any, session_manager: Any) -> Any:
        """A new Agent configured like ``template``, with fresh conversation state."""
        from strands import Agent

        tools: dict[str, Any] = {}
        registry = template.tool_registry
        for name, tool in [*registry.registry.items(), *registry.dynamic_tools.items()]:
            tools.setdefault(name, tool)
        try:
            conversation_manager = copy.deepcopy(template.conversation_manager)
        except Exception:
            conversation_manager = None  # not copyable (holds clients or locks): SDK default
        return Agent(
            model=template.model,
            messages=copy.deepcopy(template.messages),
            tools=list(tools.values()),
            system_prompt=copy.deepcopy(template.system_prompt_content),
            structured_output_model=getattr(template, "_default_structured_output_model", None),
            callback_handler=None,
            conversation_manager=conversation_manager,
            record_direct_tool_call=template.record_direct_tool_call,
            trace_attributes=dict(template.trace_attributes),
            agent_id=template.agent_id,
            name=template.name,
            description=template.description,
            state=template.state.get(),
            tool_executor=template.tool_executor,
            session_manager=session_manager,
        )

    # -- requests --------------------------------------------------------------------------

    def run(self, prompt: str, session_id: str) -> dict[str, Any]:
        """Answer one prompt. Raises RequestError for anything the caller should see as a status."""
        error = self.load()
        if error is not None:
            assert self._error is not None
            raise self._error
        try:
            agent = self._agent_for(session_id)
        except RequestError:
            raise
        except Exception as e:
            where_file, where_line = self._where(e)
            raise RequestError(
                500, f"{type(e).__name__} while creating the agent: {e}", where_file, where_line
            ) from e
        before = dict(agent.event_loop_metrics.accumulated_usage)
        try:
            result = agent(prompt)
        except Exception as e:
            where_file, where_line = self._where(e)
            raise RequestError(500, f"{type(e).__name__}: {e}", where_file, where_line) from e
        after = dict(result.metrics.accumulated_usage)
        usage = {
            k: v - before.get(k, 0) if isinstance(v, int) else v
            for k, v in after.items()
            if not isinstance(v, bool)
        }
        return {
            "response": str(result).rstrip("\n"),
            "session_id": session_id,
            "stop_reason": result.stop_reason,
            "usage": usage,
        }

    @staticmethod
    def _fields(payload: Any) -> tuple[str, str]:
        if not isinstance(payload, dict):
            raise RequestError(400, 'the request must be a JSON object like {"prompt": "Hello"}')
        prompt = payload.get("prompt")
        if prompt is None:
            raise RequestError(400, 'missing "prompt": send {"prompt": "...", "session_id": "..."}')
        if not isinstance(prompt, str):
            raise RequestError(400, f'"prompt" must be a string, got {type(prompt).__name__}')
        if not prompt.strip():
            raise RequestError(400, '"prompt" is empty')
        session_id = payload.get("session_id")
        if session_id is None or session_id == "":
            session_id = str(uuid.uuid4())
        elif not isinstance(session_id, str):
            raise RequestError(400, f'"session_id" must be a string, got {type(session_id).__name__}')
        elif not SESSION_ID_RE.match(session_id) or set(session_id) == {"."}:
            raise RequestError(
                400, '"session_id" must be 1-128 characters: letters, digits and _ . : @ = + -'
            )
        return prompt, session_id

    @staticmethod
    def _is_http(event: Any) -> bool:
        return isinstance(event, dict) and (
            "requestContext" in event or "rawPath" in event or "httpMethod" in event
        )

    @staticmethod
    def _http_body(event: dict[str, Any]) -> Any:
        method = (
            (event.get("requestContext") or {}).get("http", {}).get("method")
            or event.get("httpMethod")
            or "POST"
        )
        if str(method).upper() != "POST":
            raise RequestError(405, f'use POST with a JSON body like {{"prompt": "Hello"}} (got {method})')
        body = event.get("body")
        if body is None or body == "":
            raise RequestError(400, 'empty body: send JSON like {"prompt": "Hello"}')
        if event.get("isBase64Encoded"):
            try:
                body = base64.b64decode(body)
            except (ValueError, TypeError):
                raise RequestError(400, "the body is not valid base64") from None
        try:
            return json.loads(body)
        except (ValueError, TypeError) as e:
            raise RequestError(400, f"the body is not valid JSON: {e}") from None

    def handle(self, event: Any, context: Any = None) -> dict[str, Any]:
        """Answer a Lambda event (direct invoke or HTTP). Never raises."""
        started = time.monotonic()
        http = self._is_http(event)
        request_id = getattr(context, "aws_request_id", None)
        if request_id is None and http:
            request_id = (event.get("requestContext") or {}).get("requestId")
        request_id = request_id or str(uuid.uuid4())
        session_id: str | None = None
        status = 200
        result: dict[str, Any] = {}
        error: RequestError | None = None
        try:
            payload = self._http_body(event) if http else event
            prompt, session_id = self._fields(payload)
            result = self.run(prompt, session_id)
        except RequestError as e:
            error = e
        except Exception as e:  # a bug here must still answer, not crash the container
            error = RequestError(500, f"{type(e).__name__}: {e}")
            error.__cause__ = e
        if error is not None:
            status = error.status
        record: dict[str, Any] = {
            "level": "INFO" if status < 500 else "ERROR",
            "msg": "request",
            "request_id": request_id,
            "session_id": session_id,
            "agent": self.agent_name,
            "status": status,
            "duration_ms": round((time.monotonic() - started) * 1000, 1),
            "usage": result.get("usage", {}),
            "stop_reason": result.get("stop_reason"),
        }
        if error is not None:
            record["error"] = error.message
            if error.file:
                record["file"] = error.file
                record["line"] = error.line
            cause = error.__cause__
            if cause is not None and status >= 500:
                record["traceback"] = "".join(traceback.format_exception(cause)).rstrip()
        _log(record)

        body = error.body() if error is not None else result
        if http:
            headers = dict(JSON_HEADERS)
            if session_id:
                headers["x-strands-session-id"] = session_id
            return {"statusCode": status, "headers": headers, "body": json.dumps(body, default=str)}
        if error is not None:
            return {**body, "status": status}
        return body


_runtime: Runtime | None = None
_runtime_key: tuple[str | None, ...] | None = None
_runtime_lock = threading.Lock()


def current_runtime() -> Runtime:
    """The Runtime for the current environment (rebuilt if the STRANDS_* variables change)."""
    global _runtime, _runtime_key
    env = os.environ
    key = (
        env.get("LAMBDA_TASK_ROOT"),
        env.get("STRANDS_ENTRY"),
        env.get("STRANDS_AGENT_NAME"),
        env.get("STRANDS_SESSIONS_BUCKET"),
        env.get("STRANDS_SESSIONS_PREFIX"),
        env.get("STRANDS_SESSIONS_DIR"),
    )
    with _runtime_lock:
        if _runtime is None or key != _runtime_key:
            _runtime = Runtime.from_env()
            _runtime_key = key
        return _runtime


class AgentError(Exception):
    """Raised for a queue message the agent could not answer (status >= 500), so Lambda marks the
    invocation failed: the message is retried and ends in the dead-letter queue, and the Errors
    metric (and the errors alarm) counts it."""


def _sqs_records(event: Any) -> list[dict[str, Any]] | None:
    records = event.get("Records") if isinstance(event, dict) else None
    if (
        isinstance(records, list)
        and records
        and all(isinstance(r, dict) and r.get("eventSource") == "aws:sqs" for r in records)
    ):
        return records
    return None


def _sqs_payload(record: dict[str, Any]) -> dict[str, Any]:
    """A queue message is a JSON request ({"prompt", "session_id"}) or a plain-text prompt."""
    body = record.get("body", "")
    try:
        parsed = json.loads(body)
    except (TypeError, ValueError):
        parsed = None
    return parsed if isinstance(parsed, dict) else {"prompt": body}


def handler(event: Any, context: Any = None) -> Any:
    """The Lambda handler (``_strands_runtime.handler``)."""
    runtime = current_runtime()
    records = _sqs_records(event)
    if records is not None:
        answers = []
        for record in records:
            answer = runtime.handle(_sqs_payload(record), context)
            if answer.get("status", 200) >= 500:
                raise AgentError(f"message {record.get('messageId')}: {answer.get('error')}")
            answers.append(answer)  # a 4xx message can never succeed: logged, not retried
        return {"answers": answers}
    # direct invokes and HTTP events answer errors as a status with a message (the contract of
    # `invoke` and of the URL), never as a raised exception
    return runtime.handle(event, context)


# Cold start: import the user's entry during the init phase, so the first request doesn't pay for
# it. Errors are kept and answered as 500s by every request, never raised here.
if os.environ.get("STRANDS_ENTRY") and os.environ.get("AWS_LAMBDA_FUNCTION_NAME"):
    current_runtime().load()
