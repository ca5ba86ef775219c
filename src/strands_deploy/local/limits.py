"""Lambda's limits as the local cloud enforces them: payload sizes, memory, process groups, files.

Payloads (AWS's quotas and AWS's error answers): a synchronous ``Invoke``, a Function URL request and
an HTTP API's Lambda event may be at most 6 MB (6,291,456 bytes), an asynchronous
(``InvocationType=Event``) payload at most 256 KB (262,144 bytes), a response at most 6 MB.

Memory: Lambda counts a sandbox's resident memory; the local cloud caps each worker's address
space (``RLIMIT_AS``, inherited by its child processes) at the configured memory plus
:data:`MEMORY_ALLOWANCE_MB`, the virtual memory a Python runtime reserves without using it (shared
libraries, thread stacks, malloc arenas). Workers also run with ``MALLOC_ARENA_MAX=2`` so that
threads do not reserve 64 MB arenas each.

Processes: each worker leads its own session and process group; every stop of a worker (timeout,
crash, out of memory, pool replacement, server stop) kills the group and any process left in the
worker's session, by id, never by name.

Files: the unpacked code and layers are made read-only; each worker gets its own temp folder.
Where possible (Linux, root or ``CAP_SYS_ADMIN``, ``unshare`` installed) the worker runs in its own
mount namespace in which the whole code cache is mounted read-only, so even root cannot write it.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

log = logging.getLogger("strands_deploy.local.limits")

SYNC_PAYLOAD = 6 * 1024 * 1024  # 6,291,456 bytes: RequestResponse invoke, Function URLs, HTTP APIs
ASYNC_PAYLOAD = 256 * 1024  # 262,144 bytes: InvocationType=Event
RESPONSE_PAYLOAD = 6 * 1024 * 1024
# what Lambda writes in its ResponseSizeTooLarge message (its quota plus 100 bytes of framing)
RESPONSE_LIMIT_AS_REPORTED = RESPONSE_PAYLOAD + 100
MEMORY_ALLOWANCE_MB = int(os.environ.get("STRANDS_LOCAL_MEMORY_ALLOWANCE_MB", "512"))
TIMEOUT_MARGIN = 0.25  # seconds between the configured timeout and the answer, at most (roughly)


def address_space_limit(memory_mb: int) -> int:
    """RLIMIT_AS, in bytes, for a function configured with ``memory_mb``."""
    return (int(memory_mb) + MEMORY_ALLOWANCE_MB) * 1024 * 1024


# -- payloads ------------------------------------------------------------------------------------


class RequestTooLarge(HTTPException):
    """Invoke's 413 ``RequestEntityTooLargeException``, rendered the way Lambda's API does."""

    code = 413

    def __init__(self, message: str) -> None:
        super().__init__(description=message)
        self.message = message

    def get_response(self, environ: Any = None, scope: Any = None) -> Response:  # type: ignore[override]
        return Response(
            json.dumps({"Type": "User", "message": self.message}),
            status=413,
            headers={"x-amzn-ErrorType": "RequestEntityTooLargeException"},
            content_type="application/json",
        )


def check_invoke_payload(size: int, invocation_type: str = "RequestResponse") -> None:
    """Raise :class:`RequestTooLarge` with AWS's message when an Invoke payload is over its quota."""
    if size > SYNC_PAYLOAD:
        raise RequestTooLarge(
            f"Request must be smaller than {SYNC_PAYLOAD} bytes for the InvokeFunction operation"
        )
    if invocation_type == "Event" and size > ASYNC_PAYLOAD:
        raise RequestTooLarge(
            f"{size} byte payload is too large for the Event invocation type (limit {ASYNC_PAYLOAD} bytes)"
        )


class EventTooLarge(Exception):
    """A Function URL / HTTP API request whose Lambda event is over 6 MB (answered with 413)."""


def function_url_too_large() -> Response:
    body = {"Message": f"Request must be smaller than {SYNC_PAYLOAD} bytes for the InvokeFunction operation"}
    return Response(json.dumps(body), status=413, content_type="application/json")


def http_api_too_large() -> Response:
    return Response(
        json.dumps({"message": "Request Entity Too Large"}), status=413, content_type="application/json"
    )


def response_too_large_message(size: int) -> str:
    return (
        f"Response payload size ({size} bytes) exceeded maximum allowed payload size "
        f"({RESPONSE_LIMIT_AS_REPORTED} bytes)."
    )


# -- processes -----------------------------------------------------------------------------------


def _session_members(sid: int) -> list[int]:
    """Pids whose session id is ``sid`` (Linux /proc; elsewhere none)."""
    found: list[int] = []
    try:
        entries = os.listdir("/proc")
    except OSError:
        return found
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            text = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = text.rpartition(")")[2].split()
        # after "pid (comm)": state ppid pgrp session ...
        if len(fields) > 3 and fields[3] == str(sid):
            found.append(int(entry))
    return found


def kill_group(leader: int) -> None:
    """SIGKILL the process group (and session) a worker leads, by its id. A process that made
    its own session with setsid() escapes (as it would a shell's job control)."""
    if not hasattr(os, "killpg") or leader <= 1:
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(leader, signal.SIGKILL)
    for pid in _session_members(leader):  # children that moved to their own process group
        if pid != os.getpid():
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)


# -- files ---------------------------------------------------------------------------------------


def make_read_only(folder: Path) -> None:
    """Clear every write bit under ``folder`` (files and folders), like Lambda's /var/task."""
    if not folder.is_dir() or not os.stat(folder).st_mode & stat.S_IWUSR:
        return  # already done (the folder itself is the last one changed)
    for root, dirs, files in os.walk(folder, topdown=False):
        for name in [*files, *dirs]:
            path = os.path.join(root, name)
            with contextlib.suppress(OSError):
                st = os.lstat(path)
                if not stat.S_ISLNK(st.st_mode):
                    os.chmod(path, stat.S_IMODE(st.st_mode) & ~0o222)
    with contextlib.suppress(OSError):
        os.chmod(folder, stat.S_IMODE(os.stat(folder).st_mode) & ~0o222)


def make_writable(folder: Path) -> None:
    """Undo :func:`make_read_only` so the folder can be deleted (the owner gets write back)."""
    for root, dirs, _files in os.walk(folder):
        for name in dirs:
            with contextlib.suppress(OSError):
                os.chmod(os.path.join(root, name), 0o755)
    with contextlib.suppress(OSError):
        os.chmod(folder, 0o755)


def new_temp_dir(function_name: str, root: Path | None = None) -> str:
    """A worker's own temp folder (its TMPDIR), under ``root`` (the state folder's ``tmp/``)."""
    if root is not None:
        root.mkdir(parents=True, exist_ok=True)
    return tempfile.mkdtemp(prefix=f"{function_name[:40]}-", dir=root)


def remove_temp_dir(path: str) -> None:
    make_writable(Path(path))  # the function may have made its own files read-only
    shutil.rmtree(path, ignore_errors=True)


_sandbox_lock = threading.Lock()
_sandbox_ok: bool | None = None


def read_only_mounts_available() -> bool:
    """Whether ``unshare`` can give a worker a private mount namespace with read-only bind mounts
    (Linux, root or CAP_SYS_ADMIN). Probed once; ``STRANDS_LOCAL_SANDBOX=0`` turns it off."""
    global _sandbox_ok
    with _sandbox_lock:
        if _sandbox_ok is None:
            _sandbox_ok = False
            unshare = shutil.which("unshare")
            if (
                sys.platform.startswith("linux")
                and unshare
                and os.environ.get("STRANDS_LOCAL_SANDBOX", "1") != "0"
            ):
                probe = tempfile.mkdtemp(prefix="strands-ro-probe-")
                try:
                    cmd = [*mount_prefix([probe]), "sh", "-c", f'! touch "{probe}/x" 2>/dev/null']
                    rc = subprocess.run(cmd, capture_output=True, timeout=10).returncode
                    _sandbox_ok = rc == 0
                except (OSError, subprocess.SubprocessError):
                    _sandbox_ok = False
                finally:
                    shutil.rmtree(probe, ignore_errors=True)
            log.info("read-only code mounts for workers: %s", "on" if _sandbox_ok else "off")
        return _sandbox_ok


def mount_prefix(read_only: list[str]) -> list[str]:
    """The argv prefix that runs a command in a private mount namespace where ``read_only``
    folders are read-only bind mounts. ``unshare`` and ``sh`` exec, so the pid stays the worker's."""
    # argv: sh -c SCRIPT sh <folder>... -- <command>...
    script = (
        'while [ "$1" != "--" ]; do mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" "$1" || exit 97; '
        'shift; done; shift; exec "$@"'
    )
    return [
        shutil.which("unshare") or "unshare",
        "--mount",
        "--propagation",
        "private",
        "--",
        "sh",
        "-c",
        script,
        "sh",
        *read_only,
        "--",
    ]
