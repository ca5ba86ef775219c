"""Is a process still the one we think it is? (pid liveness, start time, boot id)

A pid alone does not name a process for long: after the holder of a lock dies, the kernel may give
its pid to an unrelated process, and after a reboot every recorded pid is meaningless. So a record
of "who holds this" keeps the pid *and* the process start time (and the boot id on Linux); the
process is the same only if all of them still match.

This module is on the CLI start-up path: it imports only the standard library's ``os``.
"""

from __future__ import annotations

import os

BOOT_ID_FILE = "/proc/sys/kernel/random/boot_id"


def stat_fields(raw: bytes) -> list[str] | None:
    """The fields of a /proc/<pid>/stat line after the command name (from field 3, the state).

    The command name (field 2) is in parentheses and may itself contain spaces or ')', so the
    fields are split after the *last* ')'.
    """
    _, sep, rest = raw.rpartition(b")")
    if not sep:
        return None
    return rest.decode("ascii", "replace").split()


def _proc_stat_fields(pid: int) -> list[str] | None:
    """The fields of /proc/<pid>/stat, or None (not Linux, or no such pid)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            return stat_fields(fh.read())
    except OSError:
        return None


def pid_alive(pid: int) -> bool:
    """True when a process with this pid exists (and is not a zombie waiting to be reaped)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # it exists, it is just not ours to signal
    except (OSError, OverflowError):  # OverflowError: not a pid at all (e.g. from a damaged record)
        return False
    fields = _proc_stat_fields(pid)
    # a zombie has exited: it only waits for its parent to collect its status
    return not (fields and fields[0] == "Z")


def process_start_time(pid: int) -> str | None:
    """When the process started, as an opaque string that differs for a reused pid; None if unknown.

    On Linux this is field 22 of /proc/<pid>/stat (clock ticks after boot). Elsewhere it is
    unknown (None), and callers fall back to pid liveness alone.
    """
    if pid <= 0:
        return None
    fields = _proc_stat_fields(pid)
    if fields is None or len(fields) < 20:
        return None
    return fields[19]  # field 22, counting from field 3


def boot_id() -> str | None:
    """A value that changes on every boot (Linux), or None where there is none."""
    try:
        with open(BOOT_ID_FILE, encoding="ascii") as fh:
            return fh.read().strip() or None
    except (OSError, ValueError):
        return None


def same_process(pid: int, start_time: str | None) -> bool:
    """True when ``pid`` is alive and (when both are known) started at ``start_time``."""
    if not pid_alive(pid):
        return False
    if start_time is None:
        return True
    current = process_start_time(pid)
    return current is None or current == start_time
