"""Warm worker processes, one pool per function version, each worker serving one request at a time.

A pool is identified by (account, region, function name, version) and keyed by everything that
shapes a worker (code SHA-256, handler, runtime, environment, layers, timeout, memory, log group):
when the key changes (new code or configuration) the pool is replaced, its idle workers are
stopped at once and its busy workers as soon as they finish. A worker that timed out, crashed or
failed its init is never reused. Each worker leads its own session and process group, and
stopping it kills the whole group (its child processes too) by id, never by name (see
:mod:`.limits`). Each worker has its own temp folder (``TMPDIR``), removed when it stops.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from strands_deploy.local import iam, limits
from strands_deploy.local.logs import now_ms, stream_name
from strands_deploy.local.protocol import END_MARKER, read_frame, write_frame

log = logging.getLogger("strands_deploy.local.workers")

MAX_BUFFERED_LINES = 10_000  # output kept between log flushes; the oldest lines are dropped beyond it
IDLE_SECONDS = 600.0  # an idle worker is stopped after this long, like Lambda reclaiming environments
_SIGNAL_WORDS = {  # POSIX signals present on this platform, worded as Lambda reports them
    getattr(signal, n): w
    for n, w in (
        ("SIGKILL", "killed"),
        ("SIGTERM", "terminated"),
        ("SIGSEGV", "segmentation fault"),
        ("SIGABRT", "aborted"),
    )
    if hasattr(signal, n)
}
_PASS_ENV = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "TMPDIR", "TEMP", "TMP", "SYSTEMROOT", "HOME")


@dataclass(frozen=True)
class FunctionSpec:
    account: str
    region: str
    name: str
    version: str  # "$LATEST" or a published version number
    arn: str  # unqualified function ARN
    handler: str
    runtime: str
    timeout: float
    memory: int
    environment: tuple[tuple[str, str], ...]
    code_sha: str
    layers: tuple[str, ...]  # layer version ARNs, in order
    log_group: str

    @property
    def pool_id(self) -> tuple[str, str, str, str]:
        return (self.account, self.region, self.name, self.version)

    @property
    def key(self) -> str:
        return hashlib.sha256(json.dumps(self.__dict__, sort_keys=True, default=list).encode()).hexdigest()


@dataclass
class Outcome:
    kind: str  # "ok" | "error" (the handler raised) | "init_error" | "timeout" | "crash" | "oom"
    payload: str | None = None  # JSON text of the handler's result, for "ok"
    error: dict[str, Any] | None = None
    detail: str = ""  # for "crash": "signal: killed" / "exit status 1"


class Worker:
    """One ``python -m strands_deploy.local.worker`` process and the threads reading its pipes."""

    def __init__(
        self,
        spec: FunctionSpec,
        code_dir: Path,
        layer_paths: list[str],
        endpoint: str,
        notes: list[str],
        read_only: list[str] | None = None,
        tmp_root: Path | None = None,
    ) -> None:
        self.spec = spec
        self.notes = notes  # packages the compat filter kept off sys.path, logged at init
        self.log_stream = stream_name(spec.version)
        self.started_at = time.time()
        self.last_used = time.monotonic()
        self.initialized = False
        self.init_ms = 0.0
        self.invocations = 0
        self.busy = False
        self.pool: _Pool | None = None
        self._frames: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self._lines: list[tuple[int, str]] = []
        self._cond = threading.Condition()
        self._markers: set[str] = set()
        self.peak_mb: int | None = None
        self._killed = False
        self.tmp_dir = limits.new_temp_dir(spec.name, tmp_root)
        env = {k: os.environ[k] for k in _PASS_ENV if k in os.environ}
        env["MALLOC_ARENA_MAX"] = "2"  # keeps threads' reserved address space small (see limits)
        env.update(dict(spec.environment))
        # invariant: the reserved AWS variables win over the function's own, as in Lambda
        env.update(
            {
                "AWS_ENDPOINT_URL": endpoint,
                "AWS_REGION": spec.region,
                "AWS_DEFAULT_REGION": spec.region,
                # the function's own credentials: the server checks its calls against its role
                **iam.issue(spec.account, spec.region, spec.name, spec.version),
                "AWS_CONFIG_FILE": os.devnull,  # never the developer's real profiles
                "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
                "AWS_EC2_METADATA_DISABLED": "true",
                "AWS_LAMBDA_FUNCTION_NAME": spec.name,
                "AWS_LAMBDA_FUNCTION_VERSION": spec.version,
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory),
                "AWS_LAMBDA_LOG_GROUP_NAME": spec.log_group,
                "AWS_LAMBDA_LOG_STREAM_NAME": self.log_stream,
                "AWS_EXECUTION_ENV": f"AWS_Lambda_{spec.runtime}",
                "LAMBDA_TASK_ROOT": str(code_dir),
                "_HANDLER": spec.handler,
                "PYTHONUNBUFFERED": "1",
                "STRANDS_LOCAL_CLOUD": "1",
                # the worker's own writable folder, as /tmp is Lambda's only writable place
                "TMPDIR": self.tmp_dir,
                "TEMP": self.tmp_dir,
                "TMP": self.tmp_dir,
            }
        )
        argv = [sys.executable, "-u", "-m", "strands_deploy.local.worker"]
        if read_only:
            argv = [*limits.mount_prefix(read_only), *argv]
        try:
            self.proc = subprocess.Popen(
                argv,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                cwd=str(code_dir),
                env=env,
                start_new_session=True,  # its own process group: stopped as a group (see kill)
            )
        except BaseException:
            limits.remove_temp_dir(self.tmp_dir)
            raise
        assert self.proc.stdin and self.proc.stdout and self.proc.stderr
        threading.Thread(target=self._read_frames, daemon=True, name=f"frames-{self.pid}").start()
        threading.Thread(target=self._read_lines, daemon=True, name=f"lines-{self.pid}").start()
        setup = {
            "handler": spec.handler,
            "code_dir": str(code_dir),
            "layer_paths": layer_paths,
            "function_name": spec.name,
            "function_version": spec.version,
            "function_arn": spec.arn,
            "memory_size": spec.memory,
            "address_space_limit": limits.address_space_limit(spec.memory),
            "log_group": spec.log_group,
            "log_stream": self.log_stream,
        }
        with contextlib.suppress(OSError):  # if the process died at once, wait_init reports it
            write_frame(self.proc.stdin, setup)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def _read_frames(self) -> None:
        assert self.proc.stdout
        try:
            while True:
                frame = read_frame(self.proc.stdout)
                self._frames.put(frame)
                if frame is None:
                    return
        except (OSError, ValueError):
            self._frames.put(None)
        finally:  # the reader closes its own pipe: kill() never blocks on a pipe a child holds
            with contextlib.suppress(OSError):
                self.proc.stdout.close()

    def _read_lines(self) -> None:
        assert self.proc.stderr
        try:
            self._read_lines_until_eof()
        except (OSError, ValueError):
            pass
        finally:
            with contextlib.suppress(OSError):
                self.proc.stderr.close()
            with self._cond:
                self._markers.add("*eof*")
                self._cond.notify_all()

    def _read_lines_until_eof(self) -> None:
        assert self.proc.stderr
        for raw in iter(self.proc.stderr.readline, b""):
            text, marker, rest = raw.partition(END_MARKER)
            line = text.decode("utf-8", "replace").rstrip("\r\n")
            with self._cond:
                if line or not marker:
                    self._lines.append((now_ms(), line))
                    if len(self._lines) > MAX_BUFFERED_LINES:
                        del self._lines[: len(self._lines) - MAX_BUFFERED_LINES]
                if marker:
                    self._markers.add(rest.decode("utf-8", "replace").strip())
                    self._cond.notify_all()

    def take_lines(self) -> list[tuple[int, str]]:
        with self._cond:
            lines, self._lines = self._lines, []
        return lines

    def wait_marker(self, request_id: str, timeout: float = 5.0) -> None:
        """Wait until every line the request printed has been read (or the process is gone)."""
        with self._cond:
            self._cond.wait_for(lambda: request_id in self._markers or "*eof*" in self._markers, timeout)
            self._markers.discard(request_id)

    def wait_eof(self, timeout: float) -> None:
        """Wait (briefly) until the log pipe is closed, to collect the last lines of a stopped worker."""
        with self._cond:
            self._cond.wait_for(lambda: "*eof*" in self._markers, timeout)

    def _exit_detail(self) -> str:
        try:
            rc = self.proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            return "the runtime stopped answering"
        if rc < 0:  # worded like Lambda (Go's signal names): "signal: killed"
            try:
                sig = signal.Signals(-rc)
            except ValueError:
                return f"signal: {-rc}"
            return f"signal: {_SIGNAL_WORDS.get(sig, sig.name.lower().removeprefix('sig'))}"
        return f"exit status {rc}"

    def _crashed(self) -> Outcome:
        """The worker's protocol pipe closed: how it exited, then its whole group is stopped (a
        child may still hold the log pipe) and the lines it printed are collected."""
        detail = self._exit_detail()
        self._sample_peak()
        limits.kill_group(self.pid)
        self.wait_eof(1.0)
        return Outcome("crash", detail=detail)

    def _timed_out(self) -> Outcome:
        self._sample_peak()
        self.kill()
        self.wait_eof(limits.TIMEOUT_MARGIN)
        return Outcome("timeout")

    def wait_init(self, timeout: float) -> Outcome:
        try:
            frame = self._frames.get(timeout=timeout)
        except queue.Empty:
            return self._timed_out()
        if frame is None:
            return self._crashed()
        self.wait_marker("init")
        self.initialized = True
        self.init_ms = float(frame.get("init_ms") or 0.0)
        if frame.get("oom"):
            return self._out_of_memory()
        if not frame.get("ok"):
            return Outcome("init_error", error=frame.get("error"))
        return Outcome("ok")

    def invoke(self, request: dict[str, Any], timeout: float) -> Outcome:
        assert self.proc.stdin
        self.invocations += 1
        try:
            write_frame(self.proc.stdin, {"type": "invoke", **request})
        except OSError:
            return self._crashed()
        try:
            frame = self._frames.get(timeout=timeout)
        except queue.Empty:
            return self._timed_out()
        if frame is None:
            return self._crashed()
        self.wait_marker(request["request_id"])
        if frame.get("oom"):
            return self._out_of_memory()
        if frame.get("ok"):
            return Outcome("ok", payload=str(frame.get("payload", "null")))
        return Outcome("error", error=frame.get("error"))

    def _out_of_memory(self) -> Outcome:
        """The function ran out of its memory: Lambda stops the sandbox, so is this worker."""
        self.peak_mb = max(self.peak_mb or 0, self.spec.memory, self.max_memory_mb() or 0)
        self.kill()
        return Outcome("oom", detail="signal: killed")

    def _sample_peak(self) -> None:
        used = self.max_memory_mb()
        if used is not None:
            self.peak_mb = max(self.peak_mb or 0, used)

    def max_memory_mb(self) -> int | None:
        """Peak resident memory (VmHWM) of the worker; the last sample once it has stopped."""
        try:
            for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    used = int(line.split()[1]) // 1024
                    return max(used, self.peak_mb or 0)
        except (OSError, ValueError, IndexError):
            pass
        return self.peak_mb

    def kill(self) -> None:
        """Stop this worker and every process of its group by id: SIGKILL (it holds no state
        worth a graceful exit). Never blocks on the output pipes: their readers close them."""
        if self.proc.returncode is None:  # the pid is still ours (not reaped): kill the group
            limits.kill_group(self.pid)
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            log.warning("worker %s did not exit after SIGKILL", self.pid)
        limits.kill_group(self.pid)  # children left behind by a worker that had already exited
        if self.proc.stdin:
            with contextlib.suppress(OSError, ValueError):
                self.proc.stdin.close()
        if not self._killed:
            self._killed = True
            limits.remove_temp_dir(self.tmp_dir)

    def describe(self) -> dict[str, Any]:
        s = self.spec
        return {
            "pid": self.pid,
            "function": s.name,
            "version": s.version,
            "region": s.region,
            "account": s.account,
            "code_sha256": s.code_sha,
            "busy": self.busy,
            "alive": self.alive(),
            "invocations": self.invocations,
            "log_group": s.log_group,
            "log_stream": self.log_stream,
            "started_at": self.started_at,
        }


@dataclass
class _Pool:
    key: str
    idle: list[Worker] = field(default_factory=list)
    busy: set[Worker] = field(default_factory=set)
    starting: int = 0


class Throttled(Exception):
    """More concurrent requests than the function's concurrency limit."""


class Pools:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pools: dict[tuple[str, str, str, str], _Pool] = {}
        self._stopping = False
        threading.Thread(target=self._reap, daemon=True, name="reap-idle-workers").start()

    def acquire(self, spec: FunctionSpec, limit: int, spawn: Callable[[], Worker]) -> Worker:
        """A warm idle worker of this exact spec, or a new one; :class:`Throttled` at ``limit``."""
        to_kill: list[Worker] = []
        try:
            with self._lock:
                pool = self._pools.get(spec.pool_id)
                if pool is None or pool.key != spec.key:
                    if pool is not None:  # new code or configuration: retire the old workers
                        to_kill, pool.idle = pool.idle, []
                    pool = self._pools[spec.pool_id] = _Pool(spec.key)
                while pool.idle:
                    worker = pool.idle.pop()
                    if worker.alive():
                        worker.busy = True
                        pool.busy.add(worker)
                        return worker
                    to_kill.append(worker)
                if len(pool.busy) + pool.starting >= limit:
                    raise Throttled()
                pool.starting += 1
        finally:
            for w in to_kill:
                w.kill()
        try:
            worker = spawn()
        finally:
            with self._lock:
                pool.starting -= 1
        with self._lock:
            worker.pool, worker.busy = pool, True
            pool.busy.add(worker)
            stopping = self._stopping
        if stopping:
            worker.kill()  # the server is shutting down: the request ends as a crash
        return worker

    def release(self, worker: Worker, reusable: bool) -> None:
        with self._lock:
            pool = worker.pool
            worker.busy = False
            worker.last_used = time.monotonic()
            if pool is not None:
                pool.busy.discard(worker)
            current = pool is not None and self._pools.get(worker.spec.pool_id) is pool
            keep = reusable and current and worker.alive() and not self._stopping
            if keep and pool is not None:
                pool.idle.append(worker)
        if not keep:
            worker.kill()

    def all_workers(self) -> list[Worker]:
        with self._lock:
            return [w for p in self._pools.values() for w in (*p.idle, *p.busy)]

    def stop_all(self, final: bool = False) -> None:
        """Stop every worker (busy ones too: their requests end as crashes)."""
        with self._lock:
            self._stopping = self._stopping or final
            workers = [w for p in self._pools.values() for w in (*p.idle, *p.busy)]
            self._pools.clear()
        for w in workers:
            w.kill()

    def _reap(self) -> None:
        while True:
            time.sleep(30)
            cutoff = time.monotonic() - IDLE_SECONDS
            with self._lock:
                stale = [w for p in self._pools.values() for w in p.idle if w.last_used < cutoff]
                for p in self._pools.values():
                    p.idle = [w for w in p.idle if w not in stale]
            for w in stale:
                w.kill()
