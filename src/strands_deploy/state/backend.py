"""State backends behind one small protocol (read, write, lock), and the local file backend.

The local backend keeps ``.strands/state/<env>.json``: every write goes to a temp file in the
same folder, is fsynced, and replaces the file atomically (the previous version is kept as
``<env>.json.backup``). The lock is a file created with O_CREAT|O_EXCL — atomic, never
check-then-write — holding who took it.

Rules every backend keeps (tests/conformance checks them):
- ``write`` is optimistic concurrency control: it refuses (:class:`StateConflictError`) when the
  stored state is not the one this backend object last read or wrote (someone else wrote it, or
  it exists and was never read), when the lineage differs, or when the serial does not increase.
  The local backend compares the file's identity (inode, mtime, size) remembered at the last
  read/write, so the check costs one ``stat`` per write, not a parse (S3 will compare ETags).
- A failed write raises :class:`StateWriteError` and leaves the previous state intact.
- A lock records its holder's pid, process start time and boot id, so a pid reused by another
  process after a crash, or a reboot, is recognised as a stale lock. ``verify_lock`` (called before
  every state write) raises :class:`LockLostError` when someone forced the lock away.
"""

from __future__ import annotations

import errno
import json
import os
import socket
import stat
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from strands_deploy.errors import StrandsDeployError
from strands_deploy.process import boot_id, pid_alive, process_start_time, same_process
from strands_deploy.state.model import STATE_VERSION, MalformedState, State, now

__all__ = [
    "LocalFileBackend",
    "LockInfo",
    "LockLostError",
    "StateBackend",
    "StateConflictError",
    "StateWriteError",
    "atomic_write",
    "pid_alive",
]


class StateWriteError(StrandsDeployError):
    """The state could not be saved (disk full, read-only folder...); the previous one is intact."""


class StateConflictError(StrandsDeployError):
    """The stored state is not the one this command read: writing would overwrite someone's work."""


class LockLostError(StrandsDeployError):
    """The lock this command held was released or taken by someone else while it ran."""


@dataclass
class LockInfo:
    id: str
    user: str
    host: str
    pid: int
    started_at: str
    command: str
    start_time: str | None = None  # the holder process's start time (tells a reused pid apart)
    boot_id: str | None = None  # the holder machine's boot (tells a reboot apart)
    damaged: str | None = None  # set when the lock file could not be read: why

    def describe(self) -> str:
        if self.damaged:
            return f"a damaged lock file ({self.damaged})"
        return f"{self.user}@{self.host} pid {self.pid} since {self.started_at} ({self.command})"

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "user": self.user,
            "host": self.host,
            "pid": self.pid,
            "started_at": self.started_at,
            "command": self.command,
            "start_time": self.start_time,
            "boot_id": self.boot_id,
        }

    @classmethod
    def from_dict(cls, d: Any) -> LockInfo:
        """A lock record; a damaged one (``damaged`` set) when ``d`` is not a valid record."""
        if not isinstance(d, dict):
            return cls.broken("not a lock record")
        try:
            info = cls(
                id=d["id"],
                user=d.get("user", "?"),
                host=d.get("host", "?"),
                pid=d["pid"],
                started_at=d.get("started_at", "?"),
                command=d.get("command", "?"),
                start_time=d.get("start_time"),
                boot_id=d.get("boot_id"),
            )
        except KeyError as e:
            return cls.broken(f"no {e.args[0]!r} field")
        if (
            not isinstance(info.id, str)
            or not info.id
            or isinstance(info.pid, bool)
            or not isinstance(info.pid, int)
        ):
            return cls.broken("not a lock record")
        for name in ("user", "host", "started_at", "command"):
            setattr(info, name, str(getattr(info, name)))
        for name in ("start_time", "boot_id"):
            value = getattr(info, name)
            setattr(info, name, None if value is None else str(value))
        return info

    @classmethod
    def broken(cls, why: str) -> LockInfo:
        return cls(id="", user="?", host="?", pid=0, started_at="?", command="?", damaged=why)

    def stale_reason(self) -> str | None:
        """Why the holder is certainly gone, or None when it may still be running.

        Only a holder on this host can be checked: its pid is dead, its pid now belongs to a
        process that started at another time (the pid was reused), or the machine rebooted.
        """
        if self.damaged:
            return f"the lock file is damaged ({self.damaged})"
        if self.host != socket.gethostname():
            return None
        current_boot = boot_id()
        if self.boot_id and current_boot and self.boot_id != current_boot:
            return "that process is no longer running (the machine has restarted since)"
        if not pid_alive(self.pid):
            return "that process is no longer running"
        if not same_process(self.pid, self.start_time):
            return f"that process is no longer running (pid {self.pid} now belongs to another process)"
        return None


class StateBackend(Protocol):
    def read(self) -> State | None: ...

    def write(self, state: State) -> None: ...

    def lock(self, command: str) -> LockInfo: ...

    def unlock(self, lock: LockInfo | None = None, force: bool = False) -> None: ...

    def lock_info(self) -> LockInfo | None: ...

    def verify_lock(self, lock: LockInfo) -> None: ...

    @property
    def location(self) -> str: ...


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(path: Path, data: bytes, backup: bool = False) -> os.stat_result:
    """Write ``data`` to ``path`` atomically; returns the written file's stat (its identity).

    Raises OSError; the temp file is always removed and ``path`` keeps its previous content on
    any failure.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
            # the identity the file keeps after the rename (a rename changes no inode or mtime)
            written = os.fstat(fh.fileno())
        if backup and path.exists():
            _copy_backup(path)
        os.replace(tmp, path)
        _fsync_dir(path.parent)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return written


def _copy_backup(path: Path) -> None:
    # a hard link is instant and atomic; the backup then keeps the previous content after replace
    backup = path.with_name(path.name + ".backup")
    tmp = path.with_name(f".{path.name}.backup.tmp")
    try:
        if tmp.exists():
            tmp.unlink()
        os.link(path, tmp)
        os.replace(tmp, backup)
    except OSError:
        pass


def state_write_error(path: Path, e: OSError) -> StateWriteError:
    """What a failed state write tells the user (the OS error converted once, here)."""
    then = "then run the command again (its journal lets the next deploy recover what was in flight)"
    if e.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
        return StateWriteError(
            "the local disk is full: the state could not be saved", str(path), f"free some disk space, {then}"
        )
    if e.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        return StateWriteError(
            f"the state folder is read-only / not writable: the state could not be saved ({e.strerror})",
            str(path),
            f"make {path.parent} writable (check its permissions and that the disk is not mounted "
            f"read-only), {then}",
        )
    return StateWriteError(
        f"the state could not be saved: {e.strerror or e}",
        str(path),
        f"fix the cause above, {then}",
    )


_BOMS = (
    (b"\xff\xfe\x00\x00", "UTF-32"),
    (b"\x00\x00\xfe\xff", "UTF-32"),
    (b"\xff\xfe", "UTF-16"),
    (b"\xfe\xff", "UTF-16"),
)

_Identity = tuple[int, int, int]


def _identity(st: os.stat_result) -> _Identity:
    return (st.st_ino, st.st_mtime_ns, st.st_size)


class LocalFileBackend:
    def __init__(self, root: Path, environment: str) -> None:
        self.root = root
        self.environment = environment
        self.path = root / f"{environment}.json"
        self.lock_path = root / f"{environment}.lock"
        self._held: LockInfo | None = None
        # What this object last saw of the stored state (by read or write): ``_observed`` is
        # False until then; ``_seen`` is the file's identity, None when there was no file.
        self._observed = False
        self._seen: _Identity | None = None
        self._lineage: str | None = None
        self._serial: int | None = None
        self._mu = threading.Lock()  # a read in one thread never rewinds what a write remembered

    @property
    def location(self) -> str:
        return str(self.path)

    # -- state ------------------------------------------------------------------------------------
    def _malformed(self, what: str, where: str | None = None) -> StrandsDeployError:
        backup = self.path.with_name(self.path.name + ".backup")
        fix = (
            f"restore the previous version: copy {backup} over {self.path.name}"
            if backup.exists()
            else "restore it from version control or a backup (or move it away to start a new, empty state)"
        )
        return StrandsDeployError(what, where or str(self.path), fix)

    def read(self) -> State | None:
        try:
            fd = os.open(self.path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        except FileNotFoundError:
            with self._mu:
                self._remember(None, None, None)
            return None
        except OSError as e:
            raise StrandsDeployError(
                f"cannot read the state file: {e.strerror}", str(self.path), "check the file's permissions"
            ) from None
        try:
            with os.fdopen(fd, "rb") as fh:
                st = os.fstat(fh.fileno())
                if not stat.S_ISREG(st.st_mode):
                    raise StrandsDeployError(
                        "the state file is not a regular file",
                        str(self.path),
                        f"move it away; the state of environment {self.environment!r} is a JSON file",
                    )
                raw = fh.read()
        except OSError as e:
            raise StrandsDeployError(
                f"cannot read the state file: {e.strerror}", str(self.path), "check the file's permissions"
            ) from None
        state = self._parse(raw)
        with self._mu:
            older = (
                self._lineage == state.lineage and self._serial is not None and state.serial < self._serial
            )
            if not older:
                self._remember(_identity(st), state.lineage, state.serial)
        return state

    def _parse(self, raw: bytes) -> State:
        for bom, encoding in _BOMS:
            if raw.startswith(bom):
                raise self._malformed(f"the state file is not UTF-8 text (it looks like {encoding})")
        if b"\x00" in raw:
            if raw.strip(b"\x00") and (raw[:1] == b"\x00" or raw[1:2] == b"\x00"):
                raise self._malformed("the state file is not UTF-8 text (it looks like UTF-16)")
            raise self._malformed(
                "the state file contains NUL bytes (it was damaged, e.g. cut short by a crash or a disk error)"
            )
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as e:
            line = raw.count(b"\n", 0, e.start) + 1
            raise self._malformed(
                f"the state file is not UTF-8 text (invalid byte 0x{raw[e.start]:02x} at line {line})",
                f"{self.path}:{line}",
            ) from None
        try:
            data = json.loads(text)
        except json.JSONDecodeError as e:
            raise self._malformed(
                f"the state file is not valid JSON ({e.msg} at line {e.lineno})",
                f"{self.path}:{e.lineno}:{e.colno}",
            ) from None
        except RecursionError:
            raise self._malformed(
                "the state file is malformed: it is nested too deeply to be a state"
            ) from None
        try:
            version = State.version_of(data)
        except MalformedState as e:
            raise self._malformed(f"the state file is malformed: {e.problem}") from None
        if version > STATE_VERSION:
            raise StrandsDeployError(
                f"the state file was written by a newer strands-deploy (state version {version}, "
                f"this one reads {STATE_VERSION})",
                str(self.path),
                f"upgrade strands-deploy (written by {data.get('tool_version', 'unknown')})",
            )
        if data.get("environment") != self.environment:
            raise StrandsDeployError(
                f"the state file belongs to environment {data.get('environment')!r}, not {self.environment!r}",
                str(self.path),
                "move the file back to its own environment's name",
            )
        try:
            return State.from_dict(data)
        except MalformedState as e:
            raise self._malformed(f"the state file is malformed: {e.problem}") from None

    def _remember(self, identity: _Identity | None, lineage: str | None, serial: int | None) -> None:
        self._observed = True
        self._seen = identity
        self._lineage = lineage
        self._serial = serial

    def _check_write(self, state: State) -> None:
        """Refuse to overwrite a state this object has not seen (one ``stat``, no parse)."""
        try:
            current: _Identity | None = _identity(os.stat(self.path))
        except FileNotFoundError:
            current = None
        except OSError as e:
            raise state_write_error(self.path, e) from None
        env = self.environment
        again = "run the command again: it reads the current state and plans from it"
        if current is not None and not self._observed:
            raise StateConflictError(
                f"the state of environment {env!r} exists but this command never read it; "
                "writing would overwrite it",
                str(self.path),
                again,
            )
        if current != self._seen:
            if current is None:
                what = "was removed or moved away while this command ran"
            elif self._seen is None:
                what = "was created by another command while this one ran"
            else:
                what = "was changed by another command since this one read it"
            raise StateConflictError(
                f"the state of environment {env!r} {what}; this command's changes were not saved over it",
                str(self.path),
                f"make sure only one command deploys {env!r} at a time (they take its lock), then {again}",
            )
        if self._lineage is not None and state.lineage != self._lineage:
            raise StateConflictError(
                f"the state to save has lineage {state.lineage}, but the stored state of environment "
                f"{env!r} has lineage {self._lineage}: they describe different deployments",
                str(self.path),
                "move the stored state away first if you mean to replace it",
            )
        if self._serial is not None and state.serial <= self._serial:
            raise StateConflictError(
                f"the state to save has serial {state.serial}, not greater than the stored serial "
                f"{self._serial}: it is older than what is stored",
                str(self.path),
                again,
            )

    def write(self, state: State) -> None:
        data = json.dumps(state.to_dict(), separators=(",", ":"), sort_keys=False).encode()
        with self._mu:
            self._check_write(state)
            try:
                written = atomic_write(self.path, data, backup=True)
            except OSError as e:
                raise state_write_error(self.path, e) from None
            self._remember(_identity(written), state.lineage, state.serial)

    # -- lock -------------------------------------------------------------------------------------
    def lock(self, command: str) -> LockInfo:
        import uuid

        info = LockInfo(
            str(uuid.uuid4()),
            _user(),
            socket.gethostname(),
            os.getpid(),
            now(),
            command,
            start_time=process_start_time(os.getpid()),
            boot_id=boot_id(),
        )
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.lock_path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            raise self._locked_error(self._settled_holder()) from None
        except OSError as e:
            raise StrandsDeployError(
                f"cannot create the lock file: {e.strerror}",
                str(self.lock_path),
                f"make {self.root} writable (and check that the disk is not full)",
            ) from None
        try:
            with os.fdopen(fd, "w") as fh:
                json.dump(info.to_dict(), fh)
                fh.flush()
                os.fsync(fh.fileno())
        except OSError as e:
            self.lock_path.unlink(missing_ok=True)
            raise StrandsDeployError(
                f"cannot write the lock file: {e.strerror}",
                str(self.lock_path),
                f"free some disk space or make {self.root} writable, then run the command again",
            ) from None
        self._held = info
        return info

    def _settled_holder(self) -> LockInfo | None:
        """The holder, waiting briefly when the lock file was *just* created and is still empty
        (O_CREAT|O_EXCL makes it exist a moment before its holder has written who it is)."""
        deadline = time.monotonic() + 0.2
        while True:
            holder = self.lock_info()
            if holder is None or holder.damaged != "empty" or time.monotonic() > deadline:
                return holder
            try:
                if time.time() - os.stat(self.lock_path).st_mtime > 2:
                    return holder
            except OSError:
                return self.lock_info()
            time.sleep(0.02)

    def _locked_error(self, holder: LockInfo | None) -> StrandsDeployError:
        env = self.environment
        if holder is not None and holder.damaged:
            return StrandsDeployError(
                f"the state of environment {env!r} is locked by {holder.describe()}",
                str(self.lock_path),
                f"run `strands-deploy state unlock --env {env}` to release it",
            )
        if holder is None:  # released between our create and our read: try again
            return StrandsDeployError(
                f"the state of environment {env!r} was locked by another command a moment ago",
                str(self.lock_path),
                "run the command again",
            )
        stale = holder.stale_reason()
        return StrandsDeployError(
            f"the state of environment {env!r} is locked by {holder.describe()}"
            + (f" — {stale}" if stale else ""),
            str(self.lock_path),
            f"run `strands-deploy state unlock --env {env}` to release the stale lock"
            if stale
            else f"wait for that command to finish (or, if it died, run `strands-deploy state unlock --env {env}`)",
        )

    def lock_info(self) -> LockInfo | None:
        """Who holds the lock: None when there is no lock file; ``damaged`` set when it is unreadable."""
        try:
            raw = self.lock_path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as e:
            return LockInfo.broken(f"unreadable: {e.strerror}")
        if not raw.strip():
            return LockInfo.broken("empty")
        try:
            data = json.loads(raw)
        except (ValueError, RecursionError):
            return LockInfo.broken("not valid JSON")
        return LockInfo.from_dict(data)

    def verify_lock(self, lock: LockInfo) -> None:
        holder = self.lock_info()
        if holder is not None and not holder.damaged and holder.id == lock.id:
            return
        env = self.environment
        if holder is None:
            what = (
                f"the lock on environment {env!r} was released while this command held it (a forced unlock)"
            )
        else:
            what = f"the lock on environment {env!r} is now held by {holder.describe()}, not by this command"
        raise LockLostError(
            what + "; it stopped so that two commands never change the state at once",
            str(self.lock_path),
            "check what the other command changed (`strands-deploy state show`), then run this command again",
        )

    def unlock(self, lock: LockInfo | None = None, force: bool = False) -> None:
        holder = self.lock_info()
        if holder is None:
            self._held = None
            return
        mine = lock or self._held
        if not force and (holder.damaged or mine is None or holder.id != mine.id):
            raise StrandsDeployError(
                f"the lock is held by {holder.describe()}, not by this command",
                str(self.lock_path),
                f"use `strands-deploy state unlock --env {self.environment} --force` if you are sure it is stale",
            )
        self.lock_path.unlink(missing_ok=True)
        self._held = None


def _user() -> str:
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError, ImportError):  # no login name (some containers)
        return str(os.getuid()) if hasattr(os, "getuid") else "unknown"
