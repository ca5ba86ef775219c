"""``strands-deploy dev``: every agent on its own local port, reloaded on change.

Design
------
- The parent owns one listening socket per agent (127.0.0.1, base port + i) and never accepts on
  it. Each agent's code runs in a worker process (:mod:`strands_deploy.dev.worker`) that inherits
  the socket and serves requests with the runtime adapter: the same code path as in Lambda.
- A change to an agent's folder loads the new code in a *spare* worker that has already imported
  strands (so a reload costs the user's import, not the SDK's), verifies it imports, lets it accept
  on the same socket, then stops the old worker (which finishes its in-flight requests). Nothing
  is ever unbound, so no request is refused during a reload.
- If the new code does not import (a syntax error...), the error is printed with file:line, the
  spare is stopped and the previous version keeps serving. If there is no working version yet, the
  broken one serves the error as a 500, exactly like a deployed function would.
- Workers run in their own session (Ctrl-C in the terminal reaches only this process) and are
  stopped by pid; they also exit on their own when this process goes away (end of stdin).
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from strands_deploy.errors import StrandsDeployError

LOAD_TIMEOUT = 120.0  # importing an agent (first start includes importing strands)
STOP_GRACE = 30.0  # in-flight requests of a replaced worker


@dataclass
class DevAgent:
    """One agent to serve: where its code is, how to run it, and where."""

    name: str
    folder: Path
    entry: str
    port: int
    env: dict[str, str] = field(default_factory=dict)  # the complete environment of its workers

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"


Printer = Callable[[str, str, str], None]  # (agent, kind, text): kind in info/ok/error/output/request


def plain_printer(agent: str, kind: str, text: str) -> None:
    sys.stdout.write(f"{agent}: {text}\n" if agent else f"{text}\n")
    sys.stdout.flush()


def format_location(info: dict[str, Any], folder: str = "") -> str:
    file = info.get("file")
    if not file:
        return ""
    prefix = f"{folder.rstrip('/')}/" if folder and not str(file).startswith("/") else ""
    line = info.get("line")
    return f"{prefix}{file}:{line}" if line else f"{prefix}{file}"


class WorkerProcess:
    """One worker: the process, its command pipe (stdin) and its status pipe."""

    def __init__(self, agent: DevAgent, sock: socket.socket, printer: Printer, rel_folder: str) -> None:
        self.agent = agent
        self.printer = printer
        self.rel_folder = rel_folder
        self.events: queue.Queue[dict[str, Any]] = queue.Queue()
        self.loaded: dict[str, Any] | None = None
        self.stopping = False
        self.warm = threading.Event()  # strands and boto3 imported: ready for a fast load
        status_r, status_w = os.pipe()
        listen_fd = sock.fileno()
        try:
            self.proc: subprocess.Popen[str] = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "strands_deploy.dev.worker",
                    "--root",
                    str(agent.folder),
                    "--entry",
                    agent.entry,
                    "--name",
                    agent.name,
                    "--listen-fd",
                    str(listen_fd),
                    "--status-fd",
                    str(status_w),
                ],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=agent.env,
                cwd=str(agent.folder),
                pass_fds=(listen_fd, status_w),
                start_new_session=True,
                text=True,
                bufsize=1,
            )
        finally:
            os.close(status_w)
        self.pid = self.proc.pid
        self._threads = [
            threading.Thread(target=self._read_status, args=(os.fdopen(status_r, "r"),), daemon=True),
            threading.Thread(target=self._pump, args=(self.proc.stdout,), daemon=True),
            threading.Thread(target=self._pump, args=(self.proc.stderr,), daemon=True),
        ]
        for t in self._threads:
            t.start()

    # -- pipes -------------------------------------------------------------------------------

    def _read_status(self, stream: IO[str]) -> None:
        with stream:
            for line in stream:
                with contextlib.suppress(ValueError):
                    event = json.loads(line)
                    if event.get("event") == "warm":
                        self.warm.set()
                    self.events.put(event)
        self.events.put({"event": "exited"})

    def _pump(self, stream: IO[str] | None) -> None:
        if stream is None:
            return
        with stream:
            for line in stream:
                line = line.rstrip("\n")
                record = _request_record(line)
                if record is not None:
                    self.printer(self.agent.name, "request", _format_request(record, self.rel_folder))
                elif line:
                    self.printer(self.agent.name, "output", line)

    def send(self, command: str) -> bool:
        try:
            assert self.proc.stdin is not None
            self.proc.stdin.write(command + "\n")
            self.proc.stdin.flush()
            return True
        except (BrokenPipeError, OSError, ValueError):
            return False

    def wait_for(self, name: str, timeout: float) -> dict[str, Any] | None:
        """The next status event called ``name``; None if the worker exits or time runs out."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            try:
                event = self.events.get(timeout=left)
            except queue.Empty:
                return None
            if event.get("event") == name:
                return event
            if event.get("event") == "exited":
                self.events.put(event)  # keep it for the next waiter
                return None

    # -- lifecycle ---------------------------------------------------------------------------

    def load(self, timeout: float = LOAD_TIMEOUT) -> dict[str, Any]:
        """Import the entry; returns the loaded event (``ok`` and the error fields)."""
        if not self.send("load"):
            return {"ok": False, "error": "the worker process exited before loading"}
        event = self.wait_for("loaded", timeout)
        if event is None:
            code = self.proc.poll()
            why = f"exited with code {code}" if code is not None else f"did not load within {timeout:.0f}s"
            event = {"ok": False, "error": f"the worker {why} (see its output above)"}
        self.loaded = event
        return event

    def serve(self) -> bool:
        return self.send("serve") and self.wait_for("serving", 10) is not None

    @property
    def ok(self) -> bool:
        return bool(self.loaded and self.loaded.get("ok"))

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self, grace: float = STOP_GRACE) -> None:
        """Stop accepting, let in-flight requests finish (up to ``grace``), then end it by pid."""
        self.stopping = True
        if self.proc.poll() is None:
            self.send("stop")
            with contextlib.suppress(OSError, ValueError):
                assert self.proc.stdin is not None
                self.proc.stdin.close()
            try:
                self.proc.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                self.proc.terminate()
                try:
                    self.proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait(timeout=5)
        for t in self._threads:
            t.join(timeout=2)


def _request_record(line: str) -> dict[str, Any] | None:
    if not line.startswith("{"):
        return None
    try:
        record = json.loads(line)
    except ValueError:
        return None
    return record if isinstance(record, dict) and record.get("msg") == "request" else None


def _format_request(record: dict[str, Any], folder: str) -> str:
    status = record.get("status", "?")
    parts = [f"{status}", f"{record.get('duration_ms', 0):.0f} ms"]
    if record.get("session_id"):
        parts.append(f"session {record['session_id']}")
    usage = record.get("usage") or {}
    if usage.get("totalTokens"):
        parts.append(f"{usage.get('inputTokens', 0)} in / {usage.get('outputTokens', 0)} out tokens")
    if record.get("error"):
        where = format_location(record, folder)
        parts.append(f"{where + ': ' if where else ''}{record['error']}")
    return "  ".join(parts)


class AgentSlot:
    """One agent's port, its serving worker and its warm spare."""

    def __init__(self, agent: DevAgent, printer: Printer, rel_folder: str) -> None:
        self.agent = agent
        self.printer = printer
        self.rel_folder = rel_folder
        self.sock = _listen(agent.port, agent.name)
        self.current: WorkerProcess | None = None
        self.spare: WorkerProcess | None = None
        self._pending = threading.Event()
        self._closed = threading.Event()
        self._lock = threading.Lock()  # one load/swap at a time
        self._spawn_lock = threading.Lock()
        self._workers: list[WorkerProcess] = []  # every worker ever started, to stop them all
        self._retired: list[threading.Thread] = []
        self._thread: threading.Thread | None = None

    def _spawn(self) -> WorkerProcess:
        with self._spawn_lock:
            if self._closed.is_set():
                raise _Closed()
            worker = WorkerProcess(self.agent, self.sock, self.printer, self.rel_folder)
            self._workers.append(worker)
            return worker

    def start(self) -> dict[str, Any]:
        """Start the first worker and a spare; returns the load result."""
        with self._lock:
            try:
                result = self._swap_in(initial=True)
            except _Closed:
                return {"ok": False, "error": "stopped"}
            spare = self.spare
        if spare is not None:  # the first reload is fast only once the spare is warm
            spare.warm.wait(LOAD_TIMEOUT)
        self._thread = threading.Thread(
            target=self._reload_loop, name=f"reload-{self.agent.name}", daemon=True
        )
        self._thread.start()
        return result

    def request_reload(self) -> None:
        self._pending.set()

    def _reload_loop(self) -> None:
        while not self._closed.is_set():
            if not self._pending.wait(timeout=0.5):
                continue
            self._pending.clear()
            if self._closed.is_set():
                break
            with self._lock:
                try:
                    self._swap_in(initial=False)
                except _Closed:
                    break

    def _swap_in(self, initial: bool) -> dict[str, Any]:
        started = time.monotonic()
        if self.spare is not None and not self.spare.alive():
            self._retire(self.spare, grace=0)
            self.spare = None
        new = self.spare or self._spawn()
        # At start the spare warms up in parallel with the first load; later, after the swap.
        self.spare = self._spawn() if initial else None
        result = new.load()
        old = self.current
        if result.get("ok") or old is None or not old.ok or not old.alive():
            if not new.serve():
                result = {"ok": False, "error": "the worker exited before serving (see its output above)"}
                self._retire(new)
            else:
                self.current = new
                if old is not None:
                    self._retire(old)
            elapsed = (time.monotonic() - started) * 1000
            if not result.get("ok"):
                self.printer(
                    self.agent.name, "error", self._describe(result) + "  (answering 500 until fixed)"
                )
            elif not initial:
                self.printer(self.agent.name, "ok", f"reloaded in {elapsed:.0f} ms")
        else:
            self.printer(
                self.agent.name, "error", self._describe(result) + "  (still serving the previous version)"
            )
            self._retire(new, grace=2)
        if self.spare is None:
            self.spare = self._spawn()  # warms up (imports strands) in the background
        return result

    def _describe(self, result: dict[str, Any]) -> str:
        where = format_location(result, self.rel_folder)
        return f"{where}: {result.get('error')}" if where else str(result.get("error"))

    def _retire(self, worker: WorkerProcess, grace: float = STOP_GRACE) -> None:
        t = threading.Thread(target=worker.stop, kwargs={"grace": grace}, daemon=True)
        t.start()
        self._retired.append(t)

    def check(self) -> None:
        """Replace a serving worker that died (the agent's code called exit, crashed...)."""
        cur = self.current
        if cur is not None and not cur.stopping and not cur.alive() and not self._pending.is_set():
            self.printer(
                self.agent.name, "error", f"worker exited with code {cur.proc.returncode}; restarting"
            )
            cur.stopping = True
            self.request_reload()

    def close(self) -> None:
        """Stop every worker of this agent (by pid) and release the port."""
        with self._spawn_lock:
            self._closed.set()
            workers = [w for w in self._workers if w.alive()]
        self._pending.set()
        stoppers = [threading.Thread(target=w.stop, kwargs={"grace": 5}) for w in workers]
        for t in stoppers:
            t.start()
        for t in [*stoppers, *self._retired]:
            t.join(timeout=20)
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.sock.close()


class _Closed(Exception):
    """The slot is closing: no new workers."""


def _listen(port: int, agent: str) -> socket.socket:
    try:
        sock = socket.create_server(("127.0.0.1", port), backlog=128)
    except OSError as e:
        raise StrandsDeployError(
            f"cannot listen on 127.0.0.1:{port} for agent {agent!r}: {e.strerror}",
            fix="stop whatever uses the port, or pick another base port with --port",
        ) from None
    sock.setblocking(False)
    return sock


class DevServer:
    """All agents of a `dev` session; ``run()`` blocks until Ctrl-C (or ``stop()``)."""

    def __init__(
        self,
        agents: list[DevAgent],
        project_root: Path,
        printer: Printer = plain_printer,
        on_ready: Callable[[list[tuple[DevAgent, dict[str, Any]]]], None] | None = None,
        watch_files: list[Path] | None = None,
    ) -> None:
        self.agents = agents
        self.project_root = project_root
        self.printer = printer
        self.on_ready = on_ready
        self.watch_files = watch_files or []
        self.slots: dict[str, AgentSlot] = {}
        self._stop = threading.Event()

    def _rel(self, folder: Path) -> str:
        try:
            return folder.resolve().relative_to(self.project_root.resolve()).as_posix()
        except ValueError:
            return str(folder)

    def _on_change(self, agent: str, paths: list[str]) -> None:
        slot = self.slots.get(agent)
        if slot is None:
            return
        names = ", ".join(sorted({self._rel(Path(p)) for p in paths})[:3])
        self.printer(agent, "info", f"changed: {names}")
        slot.request_reload()

    def stop(self) -> None:
        self._stop.set()

    def run(self) -> None:
        from strands_deploy.dev.reloader import Reloader

        reloader = Reloader({a.name: a.folder for a in self.agents}, self._on_change)
        try:
            for agent in self.agents:
                self.slots[agent.name] = AgentSlot(agent, self.printer, self._rel(agent.folder))
            reloader.start()
            results: dict[str, dict[str, Any]] = {}
            starters = [
                threading.Thread(
                    target=lambda s=slot: results.__setitem__(s.agent.name, s.start()), daemon=True
                )
                for slot in self.slots.values()
            ]
            for t in starters:
                t.start()
            for t in starters:
                t.join()
            if self.on_ready is not None:
                self.on_ready([(a, results.get(a.name, {})) for a in self.agents])
            mtimes = {p: _mtime(p) for p in self.watch_files}
            while not self._stop.wait(0.5):
                for slot in self.slots.values():
                    slot.check()
                for p, before in mtimes.items():
                    now = _mtime(p)
                    if now != before:
                        mtimes[p] = now
                        self.printer(
                            "", "info", f"{p.name} changed: restart dev to apply configuration changes"
                        )
        finally:
            with _no_interrupts():  # a second Ctrl-C must not leave workers behind
                self.printer("", "info", "stopping")
                reloader.stop()
                closers = [threading.Thread(target=s.close) for s in self.slots.values()]
                for t in closers:
                    t.start()
                for t in closers:
                    t.join()


@contextlib.contextmanager
def _no_interrupts() -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _mtime(path: Path) -> float | None:
    try:
        return path.stat().st_mtime
    except OSError:
        return None
