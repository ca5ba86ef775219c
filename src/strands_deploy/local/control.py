"""Start, find, stop and reset a project's local cloud (used by the CLI and the deploy engine).

Files live in ``<project>/.strands/local/`` (see :mod:`.settings`). The server is started detached
(its own session, stdin closed, output to ``server.log``), so it outlives the CLI command that
started it; it writes ``endpoint.json`` itself once it listens, which is how we learn the port
when asked for any free one (``port=0``).

Invariants: a pid from ``endpoint.json`` is only signalled after checking it is this project's
server (it answers ``/_strands/health`` with that pid, or its command line is our server module),
so a stale file whose pid was reused never gets an unrelated process killed; concurrent
``ensure_running`` calls for one project are serialized by a file lock.

Every call to a ``/_strands/*`` control route but health sends the token the server wrote into
``endpoint.json`` (mode 0600, in a 0700 folder) for this start; health is open because it is how
a server is found before its token is known (a lost ``endpoint.json`` is written again by the
server when asked for health).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from strands_deploy.errors import StrandsDeployError
from strands_deploy.local import settings
from strands_deploy.process import pid_alive

DEFAULT_PORT = 4566
START_TIMEOUT = 60.0
SERVER_MODULE = "strands_deploy.local.server"
WORKER_MODULE = "strands_deploy.local.worker"
_LOG_ROTATE_BYTES = 5 * 1024 * 1024
_children: dict[int, subprocess.Popen[bytes]] = {}  # servers this process started, for reaping

PORT_FIX = (
    "choose another port: `strands-deploy local start --port 4567` (or STRANDS_LOCAL_PORT=4567), "
    "or --port 0 for any free port"
)


def mark_emptied(sd: Path) -> None:
    """Record that the local cloud's resources are gone (see :func:`emptied_at`)."""
    with contextlib.suppress(OSError):
        sd.mkdir(parents=True, exist_ok=True)
        (sd / settings.EMPTIED_MARKER).write_text(settings.emptied_id())


def emptied_at(project_dir: Path) -> str | None:
    """The id of the local cloud's last start-empty or reset (time + random), if known."""
    try:
        return (state_dir(project_dir) / settings.EMPTIED_MARKER).read_text().strip() or None
    except OSError:
        return None


def state_dir(project_dir: Path) -> Path:
    return Path(project_dir).resolve() / ".strands" / "local"


# -- processes ----------------------------------------------------------------------------------
def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    child = _children.get(pid)
    if child is not None:
        return child.poll() is None  # also reaps it, so it is not left a zombie
    return pid_alive(pid)  # a zombie (exited, not yet reaped by its parent) counts as gone


def _cmdline(pid: int) -> str | None:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode("utf-8", "replace")
    except OSError:
        pass
    try:
        out = subprocess.run(["ps", "-o", "command=", "-p", str(pid)], capture_output=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.decode("utf-8", "replace").strip() or None


def _is_ours(pid: int, module: str) -> bool:
    cmd = _cmdline(pid)
    return cmd is not None and module in cmd


def _wait_gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _pid_alive(pid):
            return True
        time.sleep(0.05)
    return not _pid_alive(pid)


def _signal(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, sig)


# -- HTTP ---------------------------------------------------------------------------------------
def _get_json(
    url: str, timeout: float = 2.0, method: str = "GET", token: str | None = None
) -> dict[str, Any] | None:
    headers = {settings.TOKEN_HEADER: token} if token else {}
    req = urllib.request.Request(url, method=method, data=b"" if method == "POST" else None, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            data = json.loads(r.read())
    except (OSError, ValueError, urllib.error.URLError):
        return None
    return data if isinstance(data, dict) else None


def _health(endpoint: str) -> dict[str, Any] | None:
    info = _get_json(f"{endpoint}/_strands/health")
    return info if info and info.get("service") == "strands-deploy-local-cloud" else None


def _token(info: dict[str, Any]) -> str | None:
    token = info.get("token")
    return str(token) if token else None


def _running(sd: Path) -> dict[str, Any] | None:
    """The recorded server (with its ``token``) if it is alive and answering as this project's
    local cloud."""
    info = settings.read_json(sd / settings.ENDPOINT_FILE)
    if not info:
        return None
    pid, endpoint = int(info.get("pid") or 0), str(info.get("endpoint") or "")
    if not _pid_alive(pid):
        return None
    health = _health(endpoint) if endpoint else None
    if health and health.get("pid") == pid:
        return {**info, **health}
    return None


# -- configuration ------------------------------------------------------------------------------
def _resolve_port(port: int | None) -> int:
    if port is not None:
        return int(port)
    raw = os.environ.get("STRANDS_LOCAL_PORT", "").strip()
    if not raw:
        return DEFAULT_PORT
    try:
        value = int(raw)
    except ValueError:
        raise StrandsDeployError(
            f"STRANDS_LOCAL_PORT must be a port number, not {raw!r}",
            "environment variable STRANDS_LOCAL_PORT",
            "set it to a number such as 4566, or 0 for any free port",
        ) from None
    if not 0 <= value <= 65535:
        raise StrandsDeployError(
            f"STRANDS_LOCAL_PORT {value} is not a valid port", "STRANDS_LOCAL_PORT", "use 0-65535"
        )
    return value


def _checked_script(model_script: Path | None) -> str | None:
    """The script's absolute path after checking it exists and parses (errors name the file)."""
    if model_script is None:
        return None
    path = Path(model_script).resolve()
    if not path.is_file():
        raise StrandsDeployError(
            "model_script file not found",
            str(path),
            "create it (see docs/local-cloud.md) or remove environments.local.model_script",
        )
    from strands_deploy.local.model_script import parse

    problem = parse(path.read_text(encoding="utf-8"), str(path)).error
    if problem:
        what, _, fix = problem.partition("; fix: ")
        raise StrandsDeployError(what, str(path), fix or None)
    return str(path)


def _resolve_cors(cors_origins: Sequence[str] | None) -> list[str] | None:
    """The origins to allow, normalized: ``cors_origins`` if given, else $STRANDS_LOCAL_CORS_ORIGINS
    if set, else None (not asked: a running server keeps its own, a new one allows none)."""
    where = "--cors-origin"
    if cors_origins is None:
        raw = os.environ.get(settings.CORS_ENV)
        if raw is None:
            return None
        cors_origins, where = settings.split_origins(raw), f"environment variable {settings.CORS_ENV}"
    origins: list[str] = []
    for raw_origin in cors_origins:
        origin = settings.normalize_origin(raw_origin)
        if origin is None:
            raise StrandsDeployError(
                f"{raw_origin!r} is not a web origin",
                where,
                "give scheme, host and optional port only, e.g. http://localhost:3000 (no path, no '*')",
            )
        if origin not in origins:
            origins.append(origin)
    return origins


def _write_config(
    sd: Path,
    script: str | None,
    cors_origins: list[str] | None,
    idle_timeout: int | None = None,
    iam: bool | None = None,
) -> None:
    """Record the server's settings; ``cors_origins`` / ``idle_timeout`` / ``iam`` None keep the
    recorded ones."""
    current = settings.read_json(sd / settings.CONFIG_FILE) or {}
    if cors_origins is None:
        kept = current.get("cors_origins")
        cors_origins = [str(o) for o in kept] if isinstance(kept, list) else []
    new: dict[str, Any] = {"model_script": script, "cors_origins": cors_origins}
    if idle_timeout is None and "idle_timeout_seconds" in current:
        new["idle_timeout_seconds"] = current["idle_timeout_seconds"]
    elif idle_timeout is not None:
        new["idle_timeout_seconds"] = int(idle_timeout)
    if iam is None and "iam" in current:
        new["iam"] = current["iam"]
    elif iam is not None:
        new["iam"] = bool(iam)
    if current != new:  # unchanged: keep the mtime
        settings.write_json_atomic(sd / settings.CONFIG_FILE, new)


@contextlib.contextmanager
def _locked(sd: Path) -> Iterator[None]:
    if os.name != "posix":
        yield
        return
    import fcntl

    with open(sd / "lock", "a+") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def _check_port(port: int, sd: Path) -> dict[str, Any] | None:
    """None if ``port`` is free; this project's server info if it is already there (adopted);
    otherwise a clear error naming who holds the port."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            pass
    except OSError:
        return None
    health = _health(f"http://127.0.0.1:{port}")
    if health and Path(str(health.get("state_dir"))) == sd:
        # endpoint.json was lost; answering health, the server has written it again (with the token)
        info = settings.read_json(sd / settings.ENDPOINT_FILE)
        if info and info.get("pid") == health.get("pid"):
            return {**info, **health}
        settings.write_json_atomic(sd / settings.ENDPOINT_FILE, health)  # without the token
        return health
    if health:
        raise StrandsDeployError(
            f"port {port} is used by the local cloud of another project ({health.get('state_dir')}, "
            f"pid {health.get('pid')})",
            f"127.0.0.1:{port}",
            f"stop that one (`strands-deploy -C <its project> local stop`) or {PORT_FIX}",
        )
    raise StrandsDeployError(
        f"port {port} is already in use by another program", f"127.0.0.1:{port}", PORT_FIX
    )


def _log_tail(path: Path, lines: int = 15) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def _spawn(sd: Path, port: int) -> subprocess.Popen[bytes]:
    log_path = sd / settings.LOG_FILE
    if log_path.exists() and log_path.stat().st_size > _LOG_ROTATE_BYTES:
        os.replace(log_path, log_path.with_suffix(".log.1"))
    env = {k: v for k, v in os.environ.items() if k not in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE")}
    with open(log_path, "ab") as log_fh:
        proc = subprocess.Popen(
            [sys.executable, "-m", SERVER_MODULE, "--port", str(port), "--state-dir", str(sd)],
            stdin=subprocess.DEVNULL,
            stdout=log_fh,
            stderr=subprocess.STDOUT,
            cwd=str(sd),
            env=env,
            start_new_session=True,  # detached: survives the CLI and its Ctrl-C
            close_fds=True,
        )
    _children[proc.pid] = proc
    return proc


# -- public API ---------------------------------------------------------------------------------
def ensure_running(
    project_dir: Path,
    port: int | None = None,
    model_script: Path | None = None,
    cors_origins: Sequence[str] | None = None,
    idle_timeout: int | None = None,
    iam: bool | None = None,
) -> str:
    """Start the project's local cloud unless it is already running; return its endpoint URL.

    ``port`` None means $STRANDS_LOCAL_PORT or 4566; 0 means any free port. Idempotent: a running
    server is reused (an explicit different ``port`` is an error, since moving it would lose its
    resources). ``model_script`` is (re)recorded every time; the server picks changes up live.
    ``cors_origins`` (else $STRANDS_LOCAL_CORS_ORIGINS) are the web origins allowed to call the
    local cloud from a browser; when neither is given a running server keeps its own and a new
    one allows none. ``idle_timeout`` (seconds, 0 never) is recorded in ``config.json``; None
    keeps the recorded one (default 4 hours). ``iam`` False stops checking functions' calls
    against their roles (True checks again; None keeps the recorded setting, default on). Starting a server prints one line on stderr saying
    where it runs; its state is restored from the last snapshot.
    """
    sd = state_dir(project_dir)
    script = _checked_script(model_script)
    origins = _resolve_cors(cors_origins)
    settings.make_private_dir(sd)
    with _locked(sd):
        info = _running(sd)
        if info is not None:
            if port not in (None, 0) and int(info["port"]) != port:
                raise StrandsDeployError(
                    f"the local cloud is already running on port {info['port']}, not {port}",
                    str(sd / settings.ENDPOINT_FILE),
                    "use it as is, or `strands-deploy local stop` first (its resources are kept)",
                )
            _write_config(sd, script, origins, idle_timeout, iam)
            return str(info["endpoint"])
        recorded = settings.read_json(sd / settings.ENDPOINT_FILE) or {}
        rpid = int(recorded.get("pid") or 0)
        if _pid_alive(rpid) and _is_ours(rpid, str(sd)) and _is_ours(rpid, SERVER_MODULE):
            raise StrandsDeployError(
                f"the local cloud (pid {rpid}) is running but not answering",
                str(sd / settings.LOG_FILE),
                "read its log, then `strands-deploy local stop` and start it again",
            )
        want = _resolve_port(port)
        if want != 0:
            adopted = _check_port(want, sd)
            if adopted is not None:
                _write_config(sd, script, origins, idle_timeout, iam)
                return str(adopted["endpoint"])
        _write_config(sd, script, origins or [], idle_timeout, iam)  # a new start: only the origins given
        proc = _spawn(sd, want)
        deadline = time.monotonic() + START_TIMEOUT
        log_path = sd / settings.LOG_FILE
        while time.monotonic() < deadline:
            code = proc.poll()
            if code is not None:
                tail = _log_tail(log_path)
                if code == 3:
                    raise StrandsDeployError(
                        f"port {want} is already in use by another program", f"127.0.0.1:{want}", PORT_FIX
                    )
                raise StrandsDeployError(
                    f"the local cloud exited at start (exit code {code})",
                    str(log_path),
                    f"read the log above; its last lines:\n{tail}",
                )
            info = settings.read_json(sd / settings.ENDPOINT_FILE)
            if info and info.get("pid") == proc.pid and _health(str(info.get("endpoint"))):
                print(
                    f"local cloud started on 127.0.0.1:{info.get('port')} (stop: strands-deploy local stop)",
                    file=sys.stderr,
                    flush=True,
                )
                return str(info["endpoint"])
            time.sleep(0.1)
        _stop_pid(proc.pid, [])
        raise StrandsDeployError(
            f"the local cloud did not answer within {START_TIMEOUT:.0f}s", str(log_path), "read its log"
        )


def rss_bytes(pid: int) -> int | None:
    """Resident memory of ``pid`` in bytes (``/proc/<pid>/status``, else ``ps``), or None."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        return None
    except (OSError, ValueError, IndexError):
        pass
    try:
        out = subprocess.run(["ps", "-o", "rss=", "-p", str(pid)], capture_output=True, timeout=5)
        return int(out.stdout.strip()) * 1024
    except (OSError, subprocess.SubprocessError, ValueError):
        return None


def _uptime(started_at: Any) -> float | None:
    from datetime import UTC, datetime

    try:
        started = datetime.fromisoformat(str(started_at))
    except ValueError:
        return None
    return max(0.0, (datetime.now(UTC) - started).total_seconds())


def snapshot_file(project_dir: Path) -> Path:
    return state_dir(project_dir) / settings.SNAPSHOT_FILE


def status(project_dir: Path) -> dict[str, Any] | None:
    """The running server's endpoint, pid, port, started_at, uptime, memory, boot_id, workers
    (count, pids, memory), snapshot (restored? taken when? last saved?) and idle timeout, or None."""
    sd = state_dir(project_dir)
    info = _running(sd)
    if info is None:
        return None
    workers = (_get_json(f"{info['endpoint']}/_strands/workers", token=_token(info)) or {}).get(
        "workers"
    ) or []
    worker_pids = [int(w["pid"]) for w in workers if isinstance(w, dict) and w.get("pid")]
    worker_rss = [r for r in (rss_bytes(p) for p in worker_pids) if r is not None]
    return {
        "endpoint": info["endpoint"],
        "pid": info["pid"],
        "port": info["port"],
        "started_at": info.get("started_at"),
        "uptime_seconds": _uptime(info.get("started_at")),
        "rss_bytes": rss_bytes(int(info["pid"])),
        "boot_id": info.get("boot_id"),
        "state_dir": str(sd),
        "log": str(sd / settings.LOG_FILE),
        "workers": len(workers),
        "worker_pids": worker_pids,
        "workers_rss_bytes": sum(worker_rss) if worker_rss else (0 if not worker_pids else None),
        "snapshot": info.get("snapshot") or {},
        "idle_timeout_seconds": info.get("idle_timeout_seconds"),
    }


def _stop_pid(pid: int, worker_pids: list[int]) -> None:
    _signal(pid, signal.SIGTERM)  # the server stops its workers and removes endpoint.json
    if not _wait_gone(pid, 10.0):
        _signal(pid, signal.SIGKILL)
        _wait_gone(pid, 5.0)
    _children.pop(pid, None)
    for wpid in worker_pids:  # normally already gone; these only if the server was SIGKILLed
        if _pid_alive(wpid) and _is_ours(wpid, WORKER_MODULE):
            _signal(wpid, signal.SIGKILL)


def stop(project_dir: Path) -> bool:
    """Stop the project's server (by pid: SIGTERM, then SIGKILL) and its workers; False if none ran."""
    sd = state_dir(project_dir)
    endpoint_file = sd / settings.ENDPOINT_FILE
    info = settings.read_json(endpoint_file)
    if not info:
        return False
    pid = int(info.get("pid") or 0)
    health = _health(str(info.get("endpoint") or "")) if _pid_alive(pid) else None
    ours = health is not None and health.get("pid") == pid
    if not ours and not (_pid_alive(pid) and _is_ours(pid, SERVER_MODULE)):
        endpoint_file.unlink(missing_ok=True)  # stale: that pid is gone or is someone else's
        return False
    workers = _get_json(f"{info['endpoint']}/_strands/workers", token=_token(info)) if ours else None
    worker_pids = [int(w["pid"]) for w in (workers or {}).get("workers", [])]
    _stop_pid(pid, worker_pids)
    current = settings.read_json(endpoint_file)
    if current and current.get("pid") == pid:
        endpoint_file.unlink(missing_ok=True)
    return True


def reset(project_dir: Path) -> None:
    """Delete every local resource (moto's reset, and the snapshot), stop warm workers and clear the
    unpacked cache."""
    import shutil

    sd = state_dir(project_dir)
    info = _running(sd)
    if info is not None:
        url = f"{info['endpoint']}/_strands/reset"
        if _get_json(url, timeout=30, method="POST", token=_token(info)) is None:
            raise StrandsDeployError(
                "the local cloud did not accept the reset",
                str(info["endpoint"]),
                f"check that {sd / settings.ENDPOINT_FILE} holds its token, or run `strands-deploy local stop`",
            )
        return
    (sd / settings.SNAPSHOT_FILE).unlink(missing_ok=True)
    mark_emptied(sd)
    shutil.rmtree(sd / settings.CACHE_DIR, ignore_errors=True)
