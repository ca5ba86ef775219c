"""Run a function that lives in moto's Lambda backend, in a local worker, and answer like Lambda.

The function's code, configuration, layers and aliases are read from moto in-process (the same
objects moto's API serves), so whatever the tool created through boto3 is what runs. Results use
Lambda's shapes: the handler's JSON result, or ``{errorMessage, errorType, requestId,
stackTrace}`` with ``FunctionError: Unhandled``; START/END/REPORT lines go to CloudWatch Logs.
"""

from __future__ import annotations

import base64
import json
import logging
import math
import os
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from strands_deploy.local import limits, logs, routing
from strands_deploy.local.async_queue import DELAYS_KEY, AsyncQueue
from strands_deploy.local.codecache import CodeCache
from strands_deploy.local.settings import ConfigReader
from strands_deploy.local.workers import FunctionSpec, Outcome, Pools, Throttled, Worker

log = logging.getLogger("strands_deploy.local.lambda")

MAX_PAYLOAD = limits.SYNC_PAYLOAD  # request and response, synchronous invocations
TAIL_BYTES = 4096
DEFAULT_CONCURRENCY = int(os.environ.get("STRANDS_LOCAL_MAX_WORKERS", "10"))


@dataclass
class InvokeResult:
    status: int
    payload: bytes
    request_id: str
    executed_version: str
    function_error: str | None = None
    log_tail: str | None = None  # base64 of the last 4 KB of the request's log


def lambda_backend(account: str, region: str) -> Any:
    from moto.awslambda.models import lambda_backends

    return lambda_backends[account][region]


def _iso_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _error_payload(error_type: str, message: str, request_id: str = "") -> dict[str, Any]:
    return {"errorMessage": message, "errorType": error_type, "requestId": request_id, "stackTrace": []}


class LocalLambda:
    def __init__(self, state_dir: Path, endpoint: str, async_retry_delays: list[float] | None = None) -> None:
        self.endpoint = endpoint  # what workers use as AWS_ENDPOINT_URL; set once the port is bound
        self.cache = CodeCache(state_dir / "cache")
        self._read_only_done: set[Path] = set()
        # workers' temp folders (their TMPDIR); left-overs of a server that was killed go at start
        self.tmp_root = state_dir / "tmp"
        limits.remove_temp_dir(str(self.tmp_root))
        self.pools = Pools()
        self._lock = threading.Lock()
        # LoggingConfig per (account, region, function name): moto accepts but does not keep it
        self.logging_configs: dict[tuple[str, str, str], dict[str, Any]] = {}
        # asynchronous invocations: retry delays from the argument, else config.json's
        # ``async_retry_delays`` (re-read at each retry), else the queue's defaults
        config = ConfigReader(state_dir)

        def delays() -> list[float]:
            if async_retry_delays is not None:
                return list(async_retry_delays)
            value = config.get().get(DELAYS_KEY)
            if isinstance(value, (int, float)):
                return [float(value)]
            return list(value) if isinstance(value, list) and value else []

        self.async_queue = AsyncQueue(self, delays)
        self.router = routing.WeightedRouter(lambda: config.get().get(routing.SEED_KEY))

    # -- moto lookups ------------------------------------------------------------------------
    def resolve(self, account: str, region: str, name_or_arn: str, qualifier: str | None) -> Any:
        """The moto LambdaFunction for a name/ARN and qualifier (alias -> its version, picked by
        weight when the alias has a RoutingConfig, see :mod:`.routing`); raises moto's
        UnknownFunctionException (a werkzeug HTTPException the server can answer with)."""
        backend = lambda_backend(account, region)
        fn = backend.get_function(name_or_arn, qualifier)
        found = routing.alias_of(backend, name_or_arn, qualifier)
        weights = routing.alias_weights(found[1]) if found else {}
        if found and weights:
            version = self.router.pick(str(found[1].function_version), weights)
            if version != str(fn.version):
                return backend.get_function(found[0], version)
        return fn

    def log_group_for(self, account: str, region: str, name: str) -> str:
        cfg = self.logging_configs.get((account, region, name)) or {}
        return str(cfg.get("LogGroup") or f"/aws/lambda/{name}")

    def spec_for(self, fn: Any, account: str, region: str) -> FunctionSpec:
        from moto.awslambda.utils import make_function_arn

        env = fn.environment_vars or {}
        return FunctionSpec(
            account=account,
            region=region,
            name=fn.function_name,
            version=str(fn.version),
            arn=make_function_arn(region, account, fn.function_name),
            handler=str(fn.handler or ""),
            runtime=str(fn.run_time or ""),
            timeout=float(fn.timeout or 3),
            memory=int(fn.memory_size or 128),
            environment=tuple(sorted((str(k), str(v)) for k, v in env.items())),
            code_sha=str(fn.code_sha_256),
            layers=tuple(str(layer["Arn"]) for layer in fn.layers or []),
            log_group=self.log_group_for(account, region, fn.function_name),
        )

    def _spawn(self, fn: Any, spec: FunctionSpec) -> Worker:
        code_dir = self.cache.code_dir(spec.code_sha, fn.code_bytes)
        self._read_only(code_dir)
        notes = self.cache.notes(code_dir)
        layer_paths: list[str] = []
        backend = lambda_backend(spec.account, spec.region)
        for arn in spec.layers:
            layer = backend.layers_versions_by_arn(arn)
            if layer is None or not layer.code_bytes:
                continue
            layer_dir = self.cache.layer_dir(layer.code_sha_256, layer.code_bytes)
            self._read_only(layer_dir)
            layer_paths += self.cache.layer_paths(layer_dir)
            notes += [f"{note} (layer {arn})" for note in self.cache.notes(layer_dir)]
        read_only = [str(self.cache.root)] if limits.read_only_mounts_available() else None
        return Worker(spec, code_dir, layer_paths, self.endpoint, notes, read_only, self.tmp_root)

    def _read_only(self, folder: Path) -> None:
        """Code and layers are read-only, as /var/task and /opt are in Lambda (once per folder)."""
        if folder not in self._read_only_done:
            limits.make_read_only(folder)
            self._read_only_done.add(folder)

    def _unsupported(self, fn: Any) -> str | None:
        if getattr(fn, "package_type", "Zip") == "Image":
            return "the local cloud runs zip functions only, not container images"
        runtime = str(fn.run_time or "")
        if not runtime.startswith("python"):
            return f"the local cloud runs Python functions only; this one's runtime is {runtime or 'unset'}"
        if not getattr(fn, "code_bytes", b""):
            return "the function has no code the local cloud can read (empty zip or missing S3 object)"
        return None

    # -- invoke ------------------------------------------------------------------------------
    def invoke(
        self,
        fn: Any,
        payload: bytes,
        account: str,
        region: str,
        qualifier: str | None = None,
        log_type: str | None = None,
        client_context: Any = None,
        request_id: str | None = None,
    ) -> InvokeResult:
        """Synchronous invoke; raises :class:`Throttled` past the concurrency limit. ``request_id``:
        an asynchronous event's id (the same on every attempt), else a new one."""
        request_id = request_id or str(uuid.uuid4())
        spec = self.spec_for(fn, account, region)
        problem = self._unsupported(fn)
        if problem:
            body = _error_payload("Runtime.InvalidRuntime", problem, request_id)
            return InvokeResult(200, json.dumps(body).encode(), request_id, spec.version, "Unhandled")
        reserved = fn.reserved_concurrency
        limit = DEFAULT_CONCURRENCY if reserved is None else int(reserved)
        try:
            worker = self.pools.acquire(spec, limit, lambda: self._spawn(fn, spec))
        except Throttled:
            raise
        except Exception as e:  # for example a zip that does not unpack: answer, keep serving
            log.exception("could not start a worker for %s", spec.name)
            body = _error_payload("Runtime.Unknown", f"could not start the function: {e}", request_id)
            return InvokeResult(200, json.dumps(body).encode(), request_id, spec.version, "Unhandled")
        invoked_arn = spec.arn + (f":{qualifier}" if qualifier else "")
        lines: list[tuple[int, str]] = []
        reusable = False
        first = not worker.initialized
        try:
            if first:
                lines.append((logs.now_ms(), self._init_line(spec)))
                for note in worker.notes:
                    lines.append(
                        (
                            logs.now_ms(),
                            f"[local cloud] not imported from the package, using the local copy: {note}",
                        )
                    )
                init = worker.wait_init(max(30.0, spec.timeout))
                lines += worker.take_lines()
            else:
                init = Outcome("ok")
                lines += worker.take_lines()  # whatever it printed while idle
            started = time.monotonic()
            lines.append((logs.now_ms(), f"START RequestId: {request_id} Version: {spec.version}"))
            if init.kind == "ok":
                request = {
                    "request_id": request_id,
                    "payload": payload.decode("utf-8", "replace") if payload.strip() else "{}",
                    "deadline_ms": int(time.time() * 1000 + spec.timeout * 1000),
                    "invoked_function_arn": invoked_arn,
                    "client_context": client_context,
                }
                outcome = worker.invoke(request, spec.timeout)
            else:
                outcome = init
            lines += worker.take_lines()
            duration = (time.monotonic() - started) * 1000
            reusable = outcome.kind in ("ok", "error")
            result_body, error = self._result_body(outcome, request_id, spec, lines)
            used = worker.max_memory_mb()  # sampled while the worker still runs
        finally:
            self.pools.release(worker, reusable)
        lines.append((logs.now_ms(), f"END RequestId: {request_id}"))
        lines.append((logs.now_ms(), self._report(request_id, duration, spec, worker, first, used)))
        logs.put_lines(account, region, spec.log_group, worker.log_stream, lines)
        routing.record_invocation(
            account,
            region,
            spec.name,
            qualifier,
            spec.version,
            duration,
            error is not None,
            [line for _, line in lines],  # EMF lines become metrics, as CloudWatch Logs does
        )
        tail = None
        if log_type == "Tail":
            text = "".join(f"{line}\n" for _, line in lines).encode("utf-8")
            tail = base64.b64encode(text[-TAIL_BYTES:]).decode("ascii")
        return InvokeResult(200, result_body, request_id, spec.version, error, tail)

    @staticmethod
    def _init_line(spec: FunctionSpec) -> str:
        py = f"{sys.version_info.major}.{sys.version_info.minor}"
        return (
            f"INIT_START Runtime Version: python:{py}.local\t"
            f"Runtime Version ARN: local (strands-deploy local cloud runs {spec.runtime} on Python {py})"
        )

    @staticmethod
    def _report(
        request_id: str, duration: float, spec: FunctionSpec, worker: Worker, first: bool, used: int | None
    ) -> str:
        parts = [
            f"REPORT RequestId: {request_id}",
            f"Duration: {duration:.2f} ms",
            f"Billed Duration: {math.ceil(duration)} ms",
            f"Memory Size: {spec.memory} MB",
        ]
        if used is not None:
            parts.append(f"Max Memory Used: {used} MB")
        if first:
            parts.append(f"Init Duration: {worker.init_ms:.2f} ms")
        return "\t".join(parts)

    def _result_body(
        self, outcome: Outcome, request_id: str, spec: FunctionSpec, lines: list[tuple[int, str]]
    ) -> tuple[bytes, str | None]:
        if outcome.kind == "ok":
            data = (outcome.payload or "null").encode("utf-8")
            if len(data) > limits.RESPONSE_PAYLOAD:
                message = limits.response_too_large_message(len(data))
                lines.append((logs.now_ms(), f"[ERROR] Function.ResponseSizeTooLarge: {message}"))
                body = _error_payload("Function.ResponseSizeTooLarge", message, request_id)
                return json.dumps(body).encode(), "Unhandled"
            return data, None
        if outcome.kind in ("error", "init_error"):
            error = dict(outcome.error or _error_payload("Runtime.Unknown", "unknown error"))
            error.setdefault("requestId", request_id)
            if outcome.kind == "init_error":
                error["requestId"] = ""
            return json.dumps(error).encode(), "Unhandled"
        if outcome.kind == "timeout":
            message = f"{_iso_now()} {request_id} Task timed out after {spec.timeout:.2f} seconds"
            lines.append((logs.now_ms(), message))
            body = {"errorMessage": message, "errorType": "Sandbox.Timedout", "requestId": request_id}
            return json.dumps(body).encode(), "Unhandled"
        if outcome.kind == "oom":  # Lambda's answer when a function goes over its memory
            message = f"RequestId: {request_id} Error: Runtime exited with error: {outcome.detail}"
            lines.append((logs.now_ms(), message))
            lines.append((logs.now_ms(), "Runtime.OutOfMemory"))
            body = {"errorMessage": message, "errorType": "Runtime.OutOfMemory", "requestId": request_id}
            return json.dumps(body).encode(), "Unhandled"
        message = f"RequestId: {request_id} Error: Runtime exited with error: {outcome.detail}"
        lines.append((logs.now_ms(), message))
        lines.append((logs.now_ms(), "Runtime.ExitError"))
        body = {"errorMessage": message, "errorType": "Runtime.ExitError", "requestId": request_id}
        return json.dumps(body).encode(), "Unhandled"

    def invoke_event(self, fn: Any, payload: bytes, account: str, region: str, qualifier: str | None) -> str:
        """``InvocationType=Event``: queue the event (see :mod:`.async_queue`: run as workers free
        up, retried, then sent to a destination or dead-letter queue) and return its request id at
        once. A payload over 256 KB raises :class:`limits.RequestTooLarge` (AWS's 413), which the
        server renders."""
        limits.check_invoke_payload(len(payload), "Event")
        return self.queue_event(fn, payload, account, region, qualifier)

    def queue_event(self, fn: Any, payload: bytes, account: str, region: str, qualifier: str | None) -> str:
        """An asynchronous invocation by an AWS service (SNS, S3, EventBridge): no size check."""
        return self.async_queue.submit(fn, payload, account, region, qualifier)

    def reset(self) -> None:
        self.async_queue.reset()
        self.pools.stop_all()
        with self._lock:
            self.logging_configs.clear()

    def describe_workers(self) -> list[dict[str, Any]]:
        return [w.describe() for w in self.pools.all_workers()]
