"""strands-deploy runtime adapter: the Lambda handler that runs a Strands agent.

This single file is copied into every function package as ``_strands_runtime.py`` and the
function's handler is ``_strands_runtime.handler``. It imports only the standard library, boto3
and strands (never strands_deploy), plus ``mangum`` lazily for ASGI apps, so it runs in any
Python 3.10+ Lambda runtime.

Environment contract (set by strands-deploy's synthesis):

- ``STRANDS_ENTRY``: ``file.py:name`` relative to the package root (``LAMBDA_TASK_ROOT``).
- ``STRANDS_AGENT_NAME``: the agent's name in strands.yaml (used in log lines).
- ``STRANDS_SESSIONS_BUCKET`` / ``STRANDS_SESSIONS_PREFIX``: conversation memory in S3 through the
  SDK's ``S3SessionManager`` (only for agents with ``sessions: true``).
- ``STRANDS_SESSIONS_DIR``: conversation memory in a local folder through the SDK's
  ``FileSessionManager`` (used by ``strands-deploy dev`` when no bucket is deployed).
- ``STRANDS_TRIGGERS``: a JSON list of ``{"kind", "source", "prompt"}``: ``kind`` is one of
  ``queue``, ``topic``, ``bucket``, ``schedule``, ``pattern``, ``table``; ``source`` the resource's
  physical name (queue, topic, bucket, rule or table name); ``prompt`` a template or null.

The entry object is one of

- a ``strands.Agent`` instance: it is the *template*. Agent instances hold conversation state, so
  every request gets a new ``Agent`` built with the template's model, tools, system prompt, name,
  description, agent id, initial messages and state, conversation manager (a copy), tool executor,
  structured output model and prompt, and callback handler when the user set one (the SDK's
  default printing handler is dropped), plus the session manager when sessions are on. Hooks,
  plugins and interventions attached to the instance are not carried over: use a factory for those.
- a function (or class) returning an Agent. If it accepts a ``session_manager`` parameter (or
  ``**kwargs``) it is called for every request with ``session_manager=<manager or None>``, so it
  controls everything about the agent. Otherwise it is called once per container and its result is
  used as a template, as above.
- a Lambda handler: a function taking two positional parameters (``event, context``) and no
  ``session_manager``. It is called as Lambda calls it, for every invocation, and what it returns
  is the answer, unchanged (an ``async def`` handler runs with ``asyncio.run``). What it raises
  propagates, after one ERROR log line with the user's file:line and the traceback.
- an ASGI app (FastAPI, Starlette, any ``async (scope, receive, send)`` callable): Function URL and
  HTTP API events (payload 1.0 and 2.0) go through Mangum (``lifespan="off"``, one per container),
  whose response is the answer. A direct invoke is a 400: the app is called through its URL/route.

Events, for Agent entries (instances and factories):

- a direct invoke ``{"prompt": "...", "session_id": "..."}`` answers
  ``{"response", "session_id", "stop_reason", "usage", "tools"}`` (``tools``: this turn's tool
  calls, ``[{"name", "status": "success"|"error", "duration_ms"?}]``), plus ``structured`` (the structured
  output as a JSON object; then ``response`` is the model's text, or that object as a JSON string
  when it wrote none, and a turn ended by the SDK's output tool reports ``end_turn``) when the
  agent has a structured output model, and ``tool_errors`` (``[{"tool", "error", "file",
  "line"}]``) when a tool raised. Errors answer ``{"error", "status", "file"?, "line"?}``.
- a Function URL / HTTP API (payload 2.0, or 1.0) event with the same JSON body answers
  ``{"statusCode", "headers", "body"}`` (the body is the answer above, as JSON).
- trigger events (SQS, SNS, S3, EventBridge schedules and patterns, DynamoDB streams): every record
  is one request with a new session, its prompt rendered from the ``STRANDS_TRIGGERS`` template of
  its source (``{{ s3.key }}``...; see :func:`render_prompt` and :func:`trigger_requests`), or the
  record as JSON when there is none. An SQS message without a template is a direct request when its
  body is a JSON object, else its body is the prompt. The handler answers ``{"answers": [...]}`` and
  raises :class:`AgentError` for a record answered with a status >= 500, so Lambda retries it.

Logs: one JSON line per request is written to stdout (``msg: "request"``, status, duration, usage,
``tool_calls`` and ``tool_errors`` counts; ``trigger`` and ``source`` for trigger records), always
on a line of its own even after a print without a newline; a tool's exception is one more ERROR
line (``msg: "tool error"``) with the tool, the user's file:line and the traceback.

Metrics: in Lambda, an Agent entry's request line is also a CloudWatch Embedded Metric Format
record (:func:`emf_fields`): namespace ``Strands/Agent``, dimensions ``FunctionName`` and
``Version``, metrics ``InputTokens``, ``OutputTokens`` (``CacheReadTokens``/``CacheWriteTokens``
when the model reports them), ``ToolCalls``, ``ToolErrors`` and ``Errors`` (1 for an error status
the runtime answered rather than raised).
"""

from __future__ import annotations

import asyncio
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
from decimal import Decimal
from typing import Any
from urllib.parse import unquote_plus

SESSION_ID_RE = re.compile(r"^[A-Za-z0-9_.:@=+-]{1,128}$")
JSON_HEADERS = {"content-type": "application/json"}
TEMPLATE_RE = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")
TRIGGER_KINDS = ("queue", "topic", "bucket", "schedule", "pattern", "table")
# folders of installed code: a frame there is never "the user's line", even inside the agent folder
_INSTALLED_DIRS = {"site-packages", "dist-packages", ".venv", "venv"}
_PYTHON_DIR_RE = re.compile(r"^python\d+(\.\d+)*$")

__all__ = [
    "AgentError",
    "RequestError",
    "Runtime",
    "current_runtime",
    "handler",
    "render_prompt",
    "trigger_requests",
]


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


# -- stdout: the JSON log lines always start on a fresh line ------------------------------------


class _LineTrackingStdout:
    """``sys.stdout``, remembering whether what was written last ended a line.

    Installed once per container (:func:`_stdout`), so a ``print(..., end="")`` of the agent or of
    its callback handler can never glue the next JSON log record to its text.
    """

    _strands_line_tracking = True

    def __init__(self, stream: Any) -> None:
        self._stream = stream
        self._lock = threading.RLock()
        self.at_line_start = True

    def write(self, text: str) -> int:
        with self._lock:
            n = self._stream.write(text)
            if text:
                self.at_line_start = text.endswith("\n")
        return n if isinstance(n, int) else len(text)

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        self._stream.flush()

    def write_record(self, line: str) -> None:
        """Write ``line`` as one whole line: a newline first if the last write didn't end one."""
        with self._lock:
            self._stream.write(("" if self.at_line_start else "\n") + line + "\n")
            self.at_line_start = True
            self._stream.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


_install_lock = threading.Lock()


def _stdout() -> Any:
    """``sys.stdout`` wrapped in a :class:`_LineTrackingStdout` (installed once, if it isn't)."""
    out = sys.stdout
    if out is None or getattr(out, "_strands_line_tracking", False) is True:
        return out
    with _install_lock:
        out = sys.stdout
        if out is not None and getattr(out, "_strands_line_tracking", False) is not True:
            out = _LineTrackingStdout(out)
            sys.stdout = out
        return out


def _log(record: dict[str, Any]) -> None:
    line = json.dumps(record, default=str, separators=(",", ":"))
    out = _stdout()
    if out is not None:
        out.write_record(line)


# -- entry kinds ----------------------------------------------------------------------------------


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


_POSITIONAL = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)


def _positional(fn: Any) -> list[inspect.Parameter] | None:
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        return None
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params):
        return None
    return [p for p in params if p.kind in _POSITIONAL]


def apply_guardrail(agent: Any, environ: Any = None) -> bool:
    """The agent's `guardrail:` (STRANDS_GUARDRAIL_ID/VERSION, set by synthesis with IAM
    bedrock:ApplyGuardrail on it) on its Bedrock model; a model of another provider is left as
    it is. True when applied."""
    env = os.environ if environ is None else environ
    guardrail_id = env.get("STRANDS_GUARDRAIL_ID")
    model: Any = getattr(agent, "model", None)
    if not guardrail_id or type(model).__name__ != "BedrockModel":
        return False
    version = env.get("STRANDS_GUARDRAIL_VERSION", "DRAFT")
    model.update_config(guardrail_id=guardrail_id, guardrail_version=version)
    return True


def _is_asgi_app(obj: Any) -> bool:
    """An ASGI application: ``async (scope, receive, send)`` (FastAPI, Starlette, plain functions)."""
    if inspect.isclass(obj) or not callable(obj):
        return False
    call = obj if inspect.isroutine(obj) else getattr(obj, "__call__", None)  # noqa: B004
    positional = _positional(call)
    if positional is None or len(positional) != 3:
        return False
    names = [p.name for p in positional]
    return inspect.iscoroutinefunction(call) or names == ["scope", "receive", "send"]


def _is_lambda_handler(obj: Any) -> bool:
    """A Lambda handler: two positional parameters (``event, context``), no ``session_manager``."""
    if inspect.isclass(obj) or not callable(obj) or _accepts_session_manager(obj):
        return False
    positional = _positional(obj)
    if positional is None or len(positional) != 2:
        return False
    return positional[0].default is inspect.Parameter.empty


def _run_coroutine(awaitable: Any) -> Any:
    async def wait() -> Any:
        return await awaitable

    return asyncio.run(awaitable if inspect.iscoroutine(awaitable) else wait())


_loops = threading.local()


def _thread_event_loop() -> None:
    """Give this thread a current event loop (Mangum runs the app with ``get_event_loop()``)."""
    loop = getattr(_loops, "loop", None)
    if loop is None or loop.is_closed():
        loop = asyncio.new_event_loop()
        _loops.loop = loop
    asyncio.set_event_loop(loop)


# -- tool calls -------------------------------------------------------------------------------------


def _tool_status(event: Any) -> str:
    result = getattr(event, "result", None)
    failed = getattr(event, "exception", None) is not None
    if isinstance(result, dict) and result.get("status") == "error":
        failed = True
    return "error" if failed else "success"


class _ToolHook:
    """A strands hook provider: every tool call of one request (``calls``, the answer's ``tools``),
    and every tool exception, logged and collected (``errors``, the answer's ``tool_errors``).

    The SDK's own structured output tool is not a tool call of the agent: it is left out.
    """

    def __init__(
        self,
        runtime: Runtime,
        request_id: str,
        session_id: str | None,
        errors: list[dict[str, Any]],
        calls: list[dict[str, Any]] | None = None,
    ) -> None:
        self.runtime = runtime
        self.request_id = request_id
        self.session_id = session_id
        self.errors = errors
        self.calls = calls if calls is not None else []

    def register_hooks(self, registry: Any, **kwargs: Any) -> None:
        from strands.hooks import AfterToolCallEvent

        registry.add_callback(AfterToolCallEvent, self.after_tool_call)

    @staticmethod
    def _name(event: Any) -> Any:
        tool_use = getattr(event, "tool_use", None) or {}
        name = tool_use.get("name") if isinstance(tool_use, dict) else None
        return name or getattr(getattr(event, "selected_tool", None), "tool_name", None)

    def after_tool_call(self, event: Any) -> None:
        name = self._name(event)
        if type(getattr(event, "selected_tool", None)).__name__ != "StructuredOutputTool":
            call: dict[str, Any] = {"name": name, "status": _tool_status(event)}
            duration = getattr(event, "duration", None)
            if isinstance(duration, (int, float)):
                call["duration_ms"] = round(duration * 1000, 1)
            self.calls.append(call)
        exc = getattr(event, "exception", None)
        if exc is None:
            return
        file, line = self.runtime._where(exc)
        entry = {"tool": name, "error": f"{type(exc).__name__}: {exc}", "file": file, "line": line}
        self.errors.append(entry)
        _log(
            {
                "level": "ERROR",
                "msg": "tool error",
                "request_id": self.request_id,
                "session_id": self.session_id,
                "agent": self.runtime.agent_name,
                **entry,
                "traceback": "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)).rstrip(),
            }
        )


def _message_text(message: Any) -> str:
    """The text blocks of a message (like ``str(AgentResult)`` without the structured output)."""
    out = ""
    content = message.get("content", []) if isinstance(message, dict) else []
    for item in content:
        if not isinstance(item, dict):
            continue
        if "text" in item:
            out += str(item.get("text", "")) + "\n"
        elif "citationsContent" in item:
            for block in item["citationsContent"].get("content", []) or []:
                if isinstance(block, dict) and "text" in block:
                    out += str(block.get("text", "")) + "\n"
    return out.rstrip("\n")


def _jsonable(value: Any) -> Any:
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        return dump(mode="json")
    return json.loads(json.dumps(value, default=str))


# -- agent metrics: CloudWatch Embedded Metric Format ----------------------------------------------

METRICS_NAMESPACE = "Strands/Agent"
METRIC_DIMENSIONS = ("FunctionName", "Version")
# the answer's usage keys -> metric names; the first two are always published, the cache ones
# only when the model reports them
_USAGE_METRICS = (
    ("inputTokens", "InputTokens"),
    ("outputTokens", "OutputTokens"),
    ("cacheReadInputTokens", "CacheReadTokens"),
    ("cacheWriteInputTokens", "CacheWriteTokens"),
)


def _function_identity(context: Any) -> tuple[str | None, str]:
    """(function name, executed version) from the Lambda context, else Lambda's environment.

    The version is ``context.function_version`` (the number a call through an alias ran), else the
    invoked ARN's qualifier when it is a number, else ``$LATEST``.
    """
    name = getattr(context, "function_name", None) or os.environ.get("AWS_LAMBDA_FUNCTION_NAME")
    version = getattr(context, "function_version", None) or os.environ.get("AWS_LAMBDA_FUNCTION_VERSION")
    if not isinstance(version, str) or not version:
        arn = getattr(context, "invoked_function_arn", None)
        parts = arn.split(":") if isinstance(arn, str) else []
        version = parts[7] if len(parts) > 7 and parts[7].isdigit() else "$LATEST"
    return (name if isinstance(name, str) and name else None), version


def agent_metrics(usage: dict[str, Any], tools: list[dict[str, Any]], error: bool) -> dict[str, int]:
    """One request's metric values: tokens, ``ToolCalls``, ``ToolErrors`` (calls whose status is
    ``error``) and ``Errors`` (1 when the runtime answered an error status)."""
    values: dict[str, int] = {}
    for key, name in _USAGE_METRICS:
        value = usage.get(key)
        if isinstance(value, int) and not isinstance(value, bool):
            values[name] = value
        elif name in ("InputTokens", "OutputTokens"):
            values[name] = 0
    values["ToolCalls"] = len(tools)
    values["ToolErrors"] = sum(1 for t in tools if t.get("status") == "error")
    values["Errors"] = 1 if error else 0
    return values


def emf_fields(context: Any, values: dict[str, int]) -> dict[str, Any]:
    """The fields that make a JSON log line an EMF record: the dimension values, the metric values
    and the ``_aws`` metadata. CloudWatch Logs turns the line into metrics of namespace
    ``Strands/Agent`` with the dimensions ``FunctionName``, ``Version``. Empty outside Lambda
    (no function name): there is no one to publish for."""
    name, version = _function_identity(context)
    if name is None:
        return {}
    directive = {
        "Namespace": METRICS_NAMESPACE,
        "Dimensions": [list(METRIC_DIMENSIONS)],
        "Metrics": [{"Name": metric, "Unit": "Count"} for metric in values],
    }
    return {
        "FunctionName": name,
        "Version": version,
        **values,
        "_aws": {"Timestamp": int(time.time() * 1000), "CloudWatchMetrics": [directive]},
    }


# -- the runtime ------------------------------------------------------------------------------------


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
        triggers: list[dict[str, Any]] | None = None,
    ) -> None:
        self.root = os.path.abspath(root)
        self.entry = entry
        self.agent_name = agent_name
        self.sessions_bucket = sessions_bucket or None
        self.sessions_prefix = sessions_prefix or ""
        self.sessions_dir = sessions_dir or None
        self.triggers = list(triggers or [])
        self._lock = threading.Lock()
        self._loaded = False
        self._error: RequestError | None = None
        self._template: Any = None  # an Agent used as a template
        self._factory: Any = None  # a function called per request with session_manager=
        self._lambda_handler: Any = None  # a function called like Lambda calls a handler
        self._asgi: Any = None  # an ASGI app
        self._mangum: Any = None  # Mangum(app), made once
        self._asgi_errors = threading.local()  # the app's exception, per request thread
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
            triggers=_parse_triggers(env.get("STRANDS_TRIGGERS")),
        )

    @property
    def sessions(self) -> bool:
        return bool(self.sessions_bucket or self.sessions_dir)

    @property
    def kind(self) -> str | None:
        """``agent``, ``handler`` or ``asgi`` once the entry is loaded; ``None`` if it failed."""
        if self._lambda_handler is not None:
            return "handler"
        if self._asgi is not None:
            return "asgi"
        if self._template is not None or self._factory is not None:
            return "agent"
        return None

    # -- loading ---------------------------------------------------------------------------

    def load(self) -> dict[str, Any] | None:
        """Import the entry (once). Returns ``None`` when it is usable, else the error body."""
        with self._lock:
            if not self._loaded:
                _stdout()
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

    def _user_file(self, filename: str | None) -> str | None:
        """``filename`` relative to the agent folder if it is one of the user's own files, else None.

        Not: pseudo files (``<frozen os>``, ``<string>``), this adapter, and installed code (under a
        ``site-packages``, ``.venv``, ``venv`` or ``python3.X`` folder), even inside the agent folder.
        """
        if not filename or filename.startswith("<"):
            return None
        path = os.path.abspath(filename)
        if not path.startswith(self.root + os.sep) or path == os.path.abspath(__file__):
            return None
        rel = os.path.relpath(path, self.root).replace(os.sep, "/")
        parts = rel.split("/")
        if parts[-1] == "_strands_runtime.py" and len(parts) == 1:
            return None
        if any(p in _INSTALLED_DIRS or _PYTHON_DIR_RE.match(p) for p in parts[:-1]):
            return None
        if not os.path.isfile(path):
            return None
        return rel

    def _where(self, exc: BaseException) -> tuple[str | None, int | None]:
        """The innermost traceback frame in one of the user's files (else ``(None, None)``)."""
        for frame in reversed(traceback.extract_tb(exc.__traceback__)):
            rel = self._user_file(frame.filename)
            if rel is not None:
                return rel, frame.lineno
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
            apply_guardrail(obj)
        elif _is_asgi_app(obj):
            self._mangum = self._make_mangum(obj, symbol, file)
            self._asgi = obj
        elif _is_lambda_handler(obj):
            self._lambda_handler = obj
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
            apply_guardrail(built)
        else:
            raise RequestError(
                500,
                f"{symbol} in {file} is a {type(obj).__name__}, not a strands Agent, a function returning "
                "one, a Lambda handler (event, context) or an ASGI app",
                file=file,
            )

    def _make_mangum(self, app: Any, symbol: str, file: str) -> Any:
        try:
            from mangum import Mangum
        except ImportError as e:
            raise RequestError(
                500,
                f"{symbol} in {file} is an ASGI app, which runs in Lambda through mangum, and mangum is "
                f"not installed ({e}): add mangum to requirements.txt",
                file=file,
            ) from None
        errors = self._asgi_errors

        async def app_recording_errors(scope: Any, receive: Any, send: Any) -> None:
            try:
                await app(scope, receive, send)
            except BaseException as e:
                errors.exc = e  # Mangum answers 500 and logs it; the request line names it too
                raise

        _thread_event_loop()
        return Mangum(app_recording_errors, lifespan="off")

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
    def _user_callback_handler(template: Any) -> Any:
        """The template's callback handler if the user set one, else None (no printing)."""
        from strands.handlers.callback_handler import PrintingCallbackHandler, null_callback_handler

        handler = getattr(template, "callback_handler", None)
        if handler is None or handler is null_callback_handler or type(handler) is PrintingCallbackHandler:
            return None
        return handler

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
        kwargs: dict[str, Any] = {
            "model": template.model,
            "messages": copy.deepcopy(template.messages),
            "tools": list(tools.values()),
            "system_prompt": copy.deepcopy(template.system_prompt_content),
            "structured_output_model": getattr(template, "_default_structured_output_model", None),
            "structured_output_prompt": getattr(template, "_structured_output_prompt", None),
            "callback_handler": Runtime._user_callback_handler(template),
            "conversation_manager": conversation_manager,
            "record_direct_tool_call": template.record_direct_tool_call,
            "trace_attributes": dict(template.trace_attributes),
            "agent_id": template.agent_id,
            "name": template.name,
            "description": template.description,
            "state": template.state.get(),
            "tool_executor": template.tool_executor,
            "session_manager": session_manager,
        }
        accepted = _agent_parameters()
        return Agent(**{k: v for k, v in kwargs.items() if not accepted or k in accepted})

    # -- requests --------------------------------------------------------------------------

    def run(
        self,
        prompt: str,
        session_id: str,
        request_id: str | None = None,
        tool_errors: list[dict[str, Any]] | None = None,
        tool_calls: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """Answer one prompt. Raises RequestError for anything the caller should see as a status.

        Every tool call of this turn is appended to ``tool_calls`` (the answer's ``tools``:
        ``{"name", "status", "duration_ms"?}``), even when the request then fails. Exceptions raised
        by tools are logged and appended to ``tool_errors`` (and the answer's ``tool_errors``); the
        model sees them as error results, as usual.
        """
        error = self.load()
        if error is not None:
            assert self._error is not None
            raise self._error
        if self.kind != "agent":
            raise RequestError(500, f"{self.entry} is not a strands Agent (it is a {self.kind})")
        errors = tool_errors if tool_errors is not None else []
        calls = tool_calls if tool_calls is not None else []
        try:
            agent = self._agent_for(session_id)
            hooks = getattr(agent, "hooks", None)
            if hooks is not None:
                hooks.add_hook(_ToolHook(self, request_id or "", session_id, errors, calls))
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
        stop_reason = result.stop_reason
        structured: Any = None
        if getattr(result, "structured_output", None) is not None and not getattr(result, "interrupts", None):
            structured = _jsonable(result.structured_output)
            # the SDK's own output tool ended the turn: for the caller, the agent simply finished
            if stop_reason == "tool_use":
                stop_reason = "end_turn"
            response = _message_text(result.message) or json.dumps(structured, ensure_ascii=False)
        else:
            response = str(result).rstrip("\n")
        answer: dict[str, Any] = {
            "response": response,
            "session_id": session_id,
            "stop_reason": stop_reason,
            "usage": usage,
            "tools": list(calls),
        }
        if structured is not None:
            answer["structured"] = structured
        if errors:
            answer["tool_errors"] = list(errors)
        return answer

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

    def _request_id(self, event: Any, context: Any) -> str:
        request_id = getattr(context, "aws_request_id", None)
        if request_id is None and self._is_http(event):
            request_id = (event.get("requestContext") or {}).get("requestId")
        return str(request_id or uuid.uuid4())

    def _record(self, request_id: str, status: int, started: float, **fields: Any) -> dict[str, Any]:
        return {
            "level": "INFO" if status < 500 else "ERROR",
            "msg": "request",
            "request_id": request_id,
            "session_id": fields.pop("session_id", None),
            "agent": self.agent_name,
            "status": status,
            "duration_ms": round((time.monotonic() - started) * 1000, 1),
            **fields,
        }

    def _error_fields(self, exc: BaseException) -> dict[str, Any]:
        file, line = self._where(exc)
        out: dict[str, Any] = {"error": f"{type(exc).__name__}: {exc}"}
        if file:
            out["file"] = file
            out["line"] = line
        out["traceback"] = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)).rstrip()
        return out

    def handle(
        self,
        event: Any,
        context: Any = None,
        log_fields: dict[str, Any] | None = None,
        fails_on_5xx: bool = False,
    ) -> Any:
        """Answer a Lambda event (direct invoke or HTTP; anything for a Lambda-handler entry).

        Never raises, except what a Lambda-handler entry raises (after logging it).
        ``fails_on_5xx``: the caller fails the invocation for a status >= 500 (trigger records), so
        Lambda's own ``Errors`` counts it and the request's ``Errors`` metric does not.
        """
        _stdout()
        if self.load() is None:
            if self._lambda_handler is not None:
                return self._handle_lambda(event, context)
            if self._asgi is not None:
                return self._handle_asgi(event, context)
        return self._handle_agent(event, context, log_fields or {}, fails_on_5xx)

    def _handle_lambda(self, event: Any, context: Any) -> Any:
        started = time.monotonic()
        request_id = self._request_id(event, context)
        try:
            out = self._lambda_handler(event, context)
            if inspect.isawaitable(out):
                out = _run_coroutine(out)
        except Exception as e:
            _log(self._record(request_id, 500, started, **self._error_fields(e)))
            raise
        _log(self._record(request_id, 200, started))
        return out

    def _handle_asgi(self, event: Any, context: Any) -> Any:
        started = time.monotonic()
        request_id = self._request_id(event, context)
        if not self._is_http(event):
            error = RequestError(
                400,
                "this agent is an HTTP app (ASGI, e.g. FastAPI): call it through its URL or API route "
                '(e.g. POST /your-route on the function URL), not with a direct invoke {"prompt": ...}',
            )
            _log(self._record(request_id, error.status, started, error=error.message))
            return {**error.body(), "status": error.status}
        self._asgi_errors.exc = None
        try:
            _thread_event_loop()
            response = self._mangum(event, context)
        except Exception as e:  # not an event Mangum understands, or a bug: a 500, logged
            _log(self._record(request_id, 500, started, **self._error_fields(e)))
            body = {"error": f"{type(e).__name__}: {e}"}
            return {"statusCode": 500, "headers": dict(JSON_HEADERS), "body": json.dumps(body)}
        status = response.get("statusCode", 200) if isinstance(response, dict) else 200
        status = status if isinstance(status, int) else 200
        fields: dict[str, Any] = {}
        exc = getattr(self._asgi_errors, "exc", None)
        if exc is not None:
            fields = self._error_fields(exc)
            self._asgi_errors.exc = None
        _log(self._record(request_id, status, started, **fields))
        return response

    def _handle_agent(
        self, event: Any, context: Any, log_fields: dict[str, Any], fails_on_5xx: bool = False
    ) -> dict[str, Any]:
        started = time.monotonic()
        http = self._is_http(event)
        request_id = self._request_id(event, context)
        session_id: str | None = None
        status = 200
        result: dict[str, Any] = {}
        error: RequestError | None = None
        tool_errors: list[dict[str, Any]] = []
        tool_calls: list[dict[str, Any]] = []
        try:
            payload = self._http_body(event) if http else event
            prompt, session_id = self._fields(payload)
            result = self.run(prompt, session_id, request_id, tool_errors, tool_calls)
        except RequestError as e:
            error = e
        except Exception as e:  # a bug here must still answer, not crash the container
            error = RequestError(500, f"{type(e).__name__}: {e}")
            error.__cause__ = e
        if error is not None:
            status = error.status
        record = self._record(
            request_id,
            status,
            started,
            session_id=session_id,
            **log_fields,
            usage=result.get("usage", {}),
            stop_reason=result.get("stop_reason"),
            tool_calls=len(tool_calls),
            tool_errors=len(tool_errors),
        )
        if error is not None:
            record["error"] = error.message
            if error.file:
                record["file"] = error.file
                record["line"] = error.line
            cause = error.__cause__
            if cause is not None and status >= 500:
                record["traceback"] = "".join(
                    traceback.format_exception(type(cause), cause, cause.__traceback__)
                ).rstrip()
        answered_error = status >= 400 and not (fails_on_5xx and status >= 500)
        record.update(emf_fields(context, agent_metrics(result.get("usage", {}), tool_calls, answered_error)))
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

    # -- trigger events --------------------------------------------------------------------

    def trigger_for(self, kind: str, source: str | None) -> dict[str, Any] | None:
        """The ``STRANDS_TRIGGERS`` entry for an event of ``kind`` from ``source``, if any.

        EventBridge doesn't say which rule matched a (non-scheduled) event: a ``pattern`` event is
        matched by the rule name in its ``resources`` when it carries one, else it gets the first
        ``pattern`` trigger.
        """
        same = [t for t in self.triggers if t.get("kind") == kind]
        for trigger in same:
            if source is not None and trigger.get("source") == source:
                return trigger
        if kind == "pattern" and same:
            return same[0]
        return None

    def handle_triggers(
        self, requests: list[tuple[str, str | None, dict[str, Any]]], context: Any
    ) -> dict[str, Any]:
        """Answer every record of a trigger event; raise AgentError for one answered >= 500."""
        answers = []
        for kind, source, ctx in requests:
            trigger = self.trigger_for(kind, source)
            template = trigger.get("prompt") if trigger else None
            if kind == "queue" and not template:
                payload = _sqs_payload(ctx["sqs"]["body"])
            else:
                payload = {
                    "prompt": render_prompt(template if isinstance(template, str) else None, kind, ctx)
                }
            answer = self.handle(
                payload, context, log_fields={"trigger": kind, "source": source}, fails_on_5xx=True
            )
            if answer.get("status", 200) >= 500:
                raise AgentError(f"{_record_label(kind, ctx)}: {answer.get('error')}")
            answers.append(answer)  # a 4xx record can never succeed: logged, not retried
        return {"answers": answers}


_agent_params: frozenset[str] | None = None


def _agent_parameters() -> frozenset[str]:
    """The keyword arguments this strands version's ``Agent()`` accepts."""
    global _agent_params
    if _agent_params is None:
        from strands import Agent

        try:
            params = inspect.signature(Agent.__init__).parameters
            _agent_params = frozenset(params)
        except (TypeError, ValueError):
            _agent_params = frozenset()
    return _agent_params


def _parse_triggers(raw: str | None) -> list[dict[str, Any]]:
    if not raw:
        return []
    try:
        data = json.loads(raw)
    except ValueError as e:
        _log({"level": "WARNING", "msg": f"STRANDS_TRIGGERS is not valid JSON ({e}): ignored"})
        return []
    if not isinstance(data, list):
        _log({"level": "WARNING", "msg": "STRANDS_TRIGGERS is not a JSON list: ignored"})
        return []
    return [t for t in data if isinstance(t, dict)]


# -- trigger events to prompts ------------------------------------------------------------------

_DEFAULT_PROMPTS: dict[str, tuple[str, str]] = {
    "queue": ("sqs", "An SQS message:"),
    "topic": ("sns", "An SNS notification:"),
    "bucket": ("s3", "An S3 object event:"),
    "schedule": ("schedule", "A scheduled event:"),
    "pattern": ("event", "An EventBridge event:"),
    "table": ("ddb", "A DynamoDB stream record:"),
}
_MISSING = object()


def _lookup(context: Any, path: str) -> Any:
    value = context
    for part in path.split("."):
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif (
            isinstance(value, list) and re.fullmatch(r"-?\d+", part) and -len(value) <= int(part) < len(value)
        ):
            value = value[int(part)]
        else:
            return _MISSING
    return value


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, (bool, dict, list, tuple)):
        return json.dumps(value, default=str, separators=(",", ":"), ensure_ascii=False)
    return str(value)


def render_prompt(template: str | None, kind: str, context: dict[str, Any]) -> str:
    """The prompt for one trigger record.

    With a template, every ``{{ path.to.value }}`` is replaced by that value of ``context`` (dict
    keys and list indexes; dicts and lists as compact JSON); a path that isn't there renders as an
    empty string and logs a WARNING line naming it. Without one, the prompt is the record as
    indented JSON under one line saying what kind of event it is.
    """
    if not template:
        key, headline = _DEFAULT_PROMPTS.get(kind, ("", f"A {kind} event:"))
        record = context.get(key, context) if key else context
        if isinstance(record, dict):
            drop = {"json"} if kind in ("queue", "topic") else {"detail_type"} if kind == "pattern" else set()
            record = {k: v for k, v in record.items() if k not in drop}
        return headline + "\n" + json.dumps(record, indent=2, default=str, ensure_ascii=False)

    def substitute(match: re.Match[str]) -> str:
        path = match.group(1)
        value = _lookup(context, path) if path else _MISSING
        if value is _MISSING:
            _log(
                {
                    "level": "WARNING",
                    "msg": f"prompt template: {{{{ {path} }}}} is not in the {kind} event: rendered empty",
                    "path": path,
                    "trigger": kind,
                }
            )
            return ""
        return _as_text(value)

    return TEMPLATE_RE.sub(substitute, template)


def _last(value: Any, sep: str) -> str | None:
    return value.rsplit(sep, 1)[-1] if isinstance(value, str) and value else None


def _maybe_json(text: Any) -> Any:
    if not isinstance(text, str):
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


def _attribute_values(attributes: Any) -> dict[str, Any]:
    """SQS ``messageAttributes`` / SNS ``MessageAttributes`` as ``{name: value}``."""
    out: dict[str, Any] = {}
    if not isinstance(attributes, dict):
        return out
    for name, attr in attributes.items():
        if isinstance(attr, dict):
            for key in ("stringValue", "Value", "binaryValue"):
                if attr.get(key) is not None:
                    out[name] = attr[key]
                    break
            else:
                out[name] = None
        else:
            out[name] = attr
    return out


def _plain(value: Any) -> Any:
    """A deserialized DynamoDB value as plain JSON: Decimals as int/float, sets as lists."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (set, frozenset)):
        items = [_plain(v) for v in value]
        try:
            return sorted(items)
        except TypeError:
            return items
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(bytes(value)).decode()
    raw = getattr(value, "value", None)  # boto3's Binary
    if isinstance(raw, (bytes, bytearray)):
        return base64.b64encode(bytes(raw)).decode()
    return value


def _ddb_image(image: Any) -> dict[str, Any] | None:
    if not isinstance(image, dict):
        return None
    from boto3.dynamodb.types import TypeDeserializer

    deserializer = TypeDeserializer()
    return {k: _plain(deserializer.deserialize(v)) for k, v in image.items()}


TriggerRequest = tuple[str, "str | None", dict[str, Any]]


def _sqs_record(record: dict[str, Any]) -> TriggerRequest:
    body = record.get("body")
    body = body if isinstance(body, str) else json.dumps(body)
    queue = _last(record.get("eventSourceARN"), ":")
    context = {
        "body": body,
        "message_id": record.get("messageId"),
        "queue": queue,
        "attributes": _attribute_values(record.get("messageAttributes")),
        "json": _maybe_json(body),
    }
    return "queue", queue, {"sqs": context}


def _sns_record(record: dict[str, Any]) -> TriggerRequest:
    sns = record.get("Sns") or {}
    topic = _last(sns.get("TopicArn"), ":")
    message = sns.get("Message", "")
    context = {
        "message": message,
        "subject": sns.get("Subject"),
        "topic": topic,
        "message_id": sns.get("MessageId"),
        "timestamp": sns.get("Timestamp"),
        "attributes": _attribute_values(sns.get("MessageAttributes")),
        "json": _maybe_json(message),
    }
    return "topic", topic, {"sns": context}


def _s3_record(record: dict[str, Any]) -> TriggerRequest:
    s3 = record.get("s3") or {}
    bucket = (s3.get("bucket") or {}).get("name")
    obj = s3.get("object") or {}
    context = {
        "bucket": bucket,
        "key": unquote_plus(str(obj.get("key", ""))),
        "size": obj.get("size"),
        "etag": obj.get("eTag"),
        "event": record.get("eventName"),
        "time": record.get("eventTime"),
    }
    return "bucket", bucket, {"s3": context}


def _ddb_record(record: dict[str, Any]) -> TriggerRequest:
    arn = record.get("eventSourceARN") or ""
    table = arn.split(":table/", 1)[1].split("/", 1)[0] if ":table/" in arn else None
    ddb = record.get("dynamodb") or {}
    context = {
        "event": record.get("eventName"),
        "keys": _ddb_image(ddb.get("Keys")),
        "new": _ddb_image(ddb.get("NewImage")),
        "old": _ddb_image(ddb.get("OldImage")),
        "table": table,
    }
    return "table", table, {"ddb": context}


_RECORD_KINDS = {
    "aws:sqs": _sqs_record,
    "aws:sns": _sns_record,
    "aws:s3": _s3_record,
    "aws:dynamodb": _ddb_record,
}


def _record_request(record: Any) -> TriggerRequest | None:
    """(kind, source name, template context) of one record of a batch event, None if unknown."""
    if not isinstance(record, dict):
        return None
    parse = _RECORD_KINDS.get(record.get("eventSource") or record.get("EventSource") or "")
    return parse(record) if parse is not None else None


def trigger_requests(event: Any) -> list[tuple[str, str | None, dict[str, Any]]] | None:
    """The trigger records of ``event`` as ``(kind, source, context)``, or None if it is none.

    ``kind`` is the ``STRANDS_TRIGGERS`` kind, ``source`` the queue, topic, bucket, rule or table
    name, ``context`` what a prompt template renders from (``sqs``, ``sns``, ``s3``, ``schedule``,
    ``event`` and ``detail``, or ``ddb``).
    """
    if not isinstance(event, dict):
        return None
    records = event.get("Records")
    if isinstance(records, list) and records:
        out = []
        for record in records:
            request = _record_request(record)
            if request is None:
                return None
            out.append(request)
        return out
    if "detail-type" in event and "source" in event:
        resources = event.get("resources") or []
        rule = _last(resources[0], "/") if isinstance(resources, list) and resources else None
        if event.get("source") == "aws.events" and event.get("detail-type") == "Scheduled Event":
            return [("schedule", rule, {"schedule": {"time": event.get("time"), "rule": rule}})]
        return [
            (
                "pattern",
                rule,
                {"event": {**event, "detail_type": event.get("detail-type")}, "detail": event.get("detail")},
            )
        ]
    return None


def _record_label(kind: str, context: dict[str, Any]) -> str:
    if kind == "queue":
        return f"message {context['sqs'].get('message_id')}"
    if kind == "topic":
        return f"notification {context['sns'].get('message_id')}"
    if kind == "bucket":
        return f"object s3://{context['s3'].get('bucket')}/{context['s3'].get('key')}"
    if kind == "schedule":
        return f"schedule {context['schedule'].get('rule')}"
    if kind == "table":
        return f"{context['ddb'].get('event')} on table {context['ddb'].get('table')}"
    return f"event {context.get('event', {}).get('id')}"


def _sqs_payload(body: str) -> dict[str, Any]:
    """A queue message is a JSON request ({"prompt", "session_id"}) or a plain-text prompt."""
    parsed = _maybe_json(body)
    return parsed if isinstance(parsed, dict) else {"prompt": body}


# -- the Lambda handler -----------------------------------------------------------------------------

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
        env.get("STRANDS_TRIGGERS"),
    )
    with _runtime_lock:
        if _runtime is None or key != _runtime_key:
            _runtime = Runtime.from_env()
            _runtime_key = key
        return _runtime


class AgentError(Exception):
    """Raised for a trigger record (queue message, notification, object event...) the agent could
    not answer (status >= 500), so Lambda marks the invocation failed: the event is retried and ends
    in the dead-letter queue, and the Errors metric (and the errors alarm) counts it."""


def handler(event: Any, context: Any = None) -> Any:
    """The Lambda handler (``_strands_runtime.handler``)."""
    runtime = current_runtime()
    runtime.load()
    if runtime.kind in ("handler", "asgi"):
        return runtime.handle(event, context)
    requests = trigger_requests(event)
    if requests is not None:
        return runtime.handle_triggers(requests, context)
    # direct invokes and HTTP events answer errors as a status with a message (the contract of
    # `invoke` and of the URL), never as a raised exception
    return runtime.handle(event, context)


# Cold start: import the user's entry during the init phase, so the first request doesn't pay for
# it. Errors are kept and answered as 500s by every request, never raised here.
if os.environ.get("STRANDS_ENTRY") and os.environ.get("AWS_LAMBDA_FUNCTION_NAME"):
    current_runtime().load()
