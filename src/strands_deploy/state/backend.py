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

import dataclasses
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
from strands_deploy.state.document import check_successor, parse_state, state_bytes
from strands_deploy.state.model import State, now

__all__ = [
    "LocalFileBackend",
    "LockInfo",
    "LockLostError",
    "StateBackend",
    "StateConflictError",
    "StateVersion",
    "StateWriteError",
    "LockedError",
    "atomic_write",
    "written_by",
    "pid_alive",
]


class StateWriteError(StrandsDeployError):
    """The state could not be saved (disk full, read-only folder...); the previous one is intact."""


class StateConflictError(StrandsDeployError):
    """The stored state is not the one this command read: writing would overwrite someone's work."""


class LockLostError(StrandsDeployError):
    """The lock this command held was released or taken by someone else while it ran."""


class LockedError(StrandsDeployError):
    """The state is locked by someone else (``holder``; None when it was released meanwhile)."""

    def __init__(self, what: str, where: str | None, fix: str | None, holder: LockInfo | None) -> None:
        self.holder = holder
        super().__init__(what, where, fix)


@dataclass(frozen=True)
class StateVersion:
    """One stored version of a state (``ref`` is what ``read_version`` takes)."""

    ref: str
    at: str  # when it was stored (UTC, ISO 8601)
    deleted: bool = False  # the state was removed at that point (a migration away, S3 only)


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
    who: str | None = None  # the caller's identity (an AWS ARN for remote state)
    # Remote locks are refreshed by their holder every ``period`` seconds (a heartbeat);
    # ``silent_for``: seconds since the last refresh, as measured when the lock was read.
    period: float | None = None
    silent_for: float | None = None

    def describe(self) -> str:
        if self.damaged:
            return f"a damaged lock file ({self.damaged})"
        who = f" [{self.who}]" if self.who else ""
        return f"{self.user}@{self.host}{who} pid {self.pid} since {self.started_at} ({self.command})"

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
            "who": self.who,
            "period": self.period,
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
                who=d.get("who"),
                period=d.get("period"),
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
        for name in ("start_time", "boot_id", "who"):
            value = getattr(info, name)
            setattr(info, name, None if value is None else str(value))
        if isinstance(info.period, bool) or not isinstance(info.period, (int, float)) or info.period <= 0:
            info.period = None
        return info

    @classmethod
    def for_this_process(cls, command: str, who: str | None, period: float | None = None) -> LockInfo:
        """A new lock record naming this process as its holder (a random id)."""
        import uuid

        return cls(
            str(uuid.uuid4()),
            _user(),
            socket.gethostname(),
            os.getpid(),
            now(),
            command,
            start_time=process_start_time(os.getpid()),
            boot_id=boot_id(),
            who=who,
            period=period,
        )

    @classmethod
    def broken(cls, why: str) -> LockInfo:
        return cls(id="", user="?", host="?", pid=0, started_at="?", command="?", damaged=why)

    def stale_reason(self) -> str | None:
        """Why the holder is certainly gone, or None when it may still be running.

        A remote lock whose holder stopped refreshing it for two periods is stale wherever the
        holder runs. Otherwise only a holder on this host can be checked: its pid is dead, its pid
        now belongs to a process that started at another time (the pid was reused), or the
        machine rebooted.
        """
        if self.damaged:
            return f"the lock file is damaged ({self.damaged})"
        if self.period and self.silent_for is not None and self.silent_for > 2 * self.period:
            return (
                f"it has not been refreshed for {self.silent_for:.0f}s (a running holder refreshes "
                f"it every {self.period:.0f}s): its holder died or lost its network"
            )
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
    """Where one environment's state lives. ``identity`` (who is calling: an AWS ARN) and
    ``command`` are recorded in every written version and lock."""

    identity: str | None
    command: str

    def read(self) -> State | None: ...

    def write(self, state: State, *, force: bool = False) -> None:
        """Store ``state``. ``force`` (push --force) lifts the lineage and serial rules, never
        the check that nobody else wrote since this object last read."""
        ...

    def lock(self, command: str) -> LockInfo: ...

    def unlock(self, lock: LockInfo | None = None, force: bool = False) -> None: ...

    def lock_info(self) -> LockInfo | None: ...

    def verify_lock(self, lock: LockInfo) -> None: ...

    heartbeat_interval: float | None  # None: the lock needs no refresh (local: pids are checked)

    def heartbeat(self, lock: LockInfo) -> None:
        """Refresh the lock; LockLostError when it is no longer ours."""
        ...

    @property
    def location(self) -> str: ...

    @property
    def lock_location(self) -> str: ...

    def versions(self, limit: int | None = None) -> list[StateVersion]:
        """Stored versions, newest first."""
        ...

    def read_version(self, ref: str) -> State: ...

    def append_audit(self, record: dict[str, Any]) -> None: ...

    def audit(self, limit: int | None = None) -> list[dict[str, Any]]:
        """Audit records, newest first."""
        ...

    def secrets_key(self, initial: bytes | None = None, *, replace: bool = False) -> bytes:
        """The key that fingerprints secret values, shared by everyone using this state; created
        (as ``initial`` when given: a key migrated from another backend) if there is none;
        ``replace``: set to ``initial`` whatever is there (a migration brings the state's key)."""
        ...

    def retire(self) -> str:
        """Move the stored state out of the way after it was migrated elsewhere; where it went."""
        ...


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(path: Path, data: bytes, backup: bool = False, keep: Path | None = None) -> os.stat_result:
    """Write ``data`` to ``path`` atomically; returns the written file's stat (its identity).
    ``keep``: also link the new version there (a history copy that costs no write).

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
        if keep is not None:  # only a version that was written becomes history
            _link(str(path), keep)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return written


def _link(source: str, target: Path) -> None:
    """A hard link to the (already fsynced) new version; a copy where links are not supported."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.tmp")
        tmp.unlink(missing_ok=True)
        try:
            os.link(source, tmp)
        except OSError:
            import shutil

            shutil.copyfile(source, tmp)
        os.replace(tmp, target)
    except OSError:
        pass  # the history is a convenience: a failure to keep it never fails the write


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


_Identity = tuple[int, int, int]


def _identity(st: os.stat_result) -> _Identity:
    return (st.st_ino, st.st_mtime_ns, st.st_size)


HISTORY_KEEP = 1000  # versions the local backend keeps in .strands/state/history/<env>/


class LocalFileBackend:
    heartbeat_interval: float | None = None

    def __init__(self, root: Path, environment: str, *, history_keep: int = HISTORY_KEEP) -> None:
        self.root = root
        self.environment = environment
        self.path = root / f"{environment}.json"
        self.lock_path = root / f"{environment}.lock"
        self.history_dir = root / "history" / environment
        self.audit_path = root / f"{environment}.audit.jsonl"
        self.history_keep = history_keep
        self._history_count: int | None = None  # versions in history_dir, as last counted
        self.identity: str | None = None
        self.command = "?"
        self.cloud: str | None = None  # the embedded local cloud's life this state describes
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

    @property
    def lock_location(self) -> str:
        return str(self.lock_path)

    # -- state ------------------------------------------------------------------------------------
    def _restore_fix(self) -> str:
        backup = self.path.with_name(self.path.name + ".backup")
        if backup.exists():
            return f"restore the previous version: copy {backup} over {self.path.name}"
        return "restore it from version control or a backup (or move it away to start a new, empty state)"

    def read(self) -> State | None:
        raw, st = self._read_file(self.path)
        if raw is None or st is None:
            with self._mu:
                self._remember(None, None, None)
            return None
        state = parse_state(raw, str(self.path), self.environment, self._restore_fix())
        with self._mu:
            older = (
                self._lineage == state.lineage and self._serial is not None and state.serial < self._serial
            )
            if not older:
                self._remember(_identity(st), state.lineage, state.serial)
        return state

    def _read_file(self, path: Path) -> tuple[bytes | None, os.stat_result | None]:
        try:
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        except FileNotFoundError:
            return None, None
        except OSError as e:
            raise StrandsDeployError(
                f"cannot read the state file: {e.strerror}", str(path), "check the file's permissions"
            ) from None
        try:
            with os.fdopen(fd, "rb") as fh:
                st = os.fstat(fh.fileno())
                if not stat.S_ISREG(st.st_mode):
                    raise StrandsDeployError(
                        "the state file is not a regular file",
                        str(path),
                        f"move it away; the state of environment {self.environment!r} is a JSON file",
                    )
                return fh.read(), st
        except OSError as e:
            raise StrandsDeployError(
                f"cannot read the state file: {e.strerror}", str(path), "check the file's permissions"
            ) from None

    def _remember(self, identity: _Identity | None, lineage: str | None, serial: int | None) -> None:
        self._observed = True
        self._seen = identity
        self._lineage = lineage
        self._serial = serial

    def _check_write(self, state: State, force: bool) -> None:
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
        if not force:
            check_successor(state, self._lineage, self._serial, env, str(self.path))

    def write(self, state: State, *, force: bool = False) -> None:
        stamp = written_by(self.identity, self.command, self.cloud)
        data = state_bytes(dataclasses.replace(state, written=stamp))
        with self._mu:
            self._check_write(state, force)
            try:
                written = atomic_write(self.path, data, backup=True, keep=self._history_path(state))
            except OSError as e:
                raise state_write_error(self.path, e) from None
            self._remember(_identity(written), state.lineage, state.serial)
        self._prune_history()

    # -- history, audit, secrets key, migration ---------------------------------------------------
    def _history_path(self, state: State) -> Path:
        return self.history_dir / f"{state.serial:010d}.json"

    def _prune_history(self) -> None:
        """Keep the newest ``history_keep`` versions: the folder is listed on this object's first
        write and then only when about 100 more versions may have accumulated (amortised)."""
        if self._history_count is not None and self._history_count <= self.history_keep + 100:
            self._history_count += 1
            return
        try:
            names = sorted(os.listdir(self.history_dir))
        except OSError:
            return
        self._history_count = len(names)
        if len(names) <= self.history_keep + 100:
            return
        for name in names[: len(names) - self.history_keep]:
            (self.history_dir / name).unlink(missing_ok=True)
        self._history_count = self.history_keep

    def versions(self, limit: int | None = None) -> list[StateVersion]:
        try:
            names = sorted((n for n in os.listdir(self.history_dir) if n.endswith(".json")), reverse=True)
        except FileNotFoundError:
            names = []
        except OSError as e:
            raise StrandsDeployError(
                f"cannot list the state history: {e.strerror}", str(self.history_dir), "check its permissions"
            ) from None
        out = []
        for name in names[:limit] if limit else names:
            try:
                at = time.strftime(
                    "%Y-%m-%dT%H:%M:%SZ", time.gmtime(os.stat(self.history_dir / name).st_mtime)
                )
            except OSError:
                continue
            out.append(StateVersion(ref=name.removesuffix(".json"), at=at))
        return out

    def read_version(self, ref: str) -> State:
        path = self.history_dir / f"{ref}.json"
        raw, _ = self._read_file(path)
        if raw is None or not ref.isdigit():
            raise StrandsDeployError(
                f"there is no stored version {ref!r} of environment {self.environment!r}",
                str(self.history_dir),
                f"list the versions with `strands-deploy state history --env {self.environment}`",
            )
        return parse_state(raw, str(path), self.environment, "this version is damaged: pick another one")

    def append_audit(self, record: dict[str, Any]) -> None:
        line = (json.dumps(record, separators=(",", ":"), sort_keys=True) + "\n").encode()
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.audit_path, os.O_CREAT | os.O_APPEND | os.O_WRONLY, 0o644)
            try:
                os.write(fd, line)
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError as e:
            raise state_write_error(self.audit_path, e) from None

    def audit(self, limit: int | None = None) -> list[dict[str, Any]]:
        try:
            lines = self.audit_path.read_bytes().splitlines()
        except FileNotFoundError:
            return []
        except OSError as e:
            raise StrandsDeployError(
                f"cannot read the audit trail: {e.strerror}", str(self.audit_path), "check its permissions"
            ) from None
        records = []
        for line in reversed(lines):
            try:
                record = json.loads(line)
            except ValueError:
                continue  # a line cut short by a crash: the others still count
            if isinstance(record, dict):
                records.append(record)
            if limit and len(records) >= limit:
                break
        return records

    def secrets_key(self, initial: bytes | None = None, *, replace: bool = False) -> bytes:
        from strands_deploy.state.keys import fingerprint_key

        return fingerprint_key(self.root.parent.parent, self.environment, initial, replace=replace)

    def retire(self) -> str:
        """Move the state (and its audit trail, copied to the new backend) aside, not deleted."""
        suffix = f".migrated-{time.strftime('%Y%m%dT%H%M%S')}"
        moved = self.path.with_name(self.path.name + suffix)
        with self._mu:
            os.replace(self.path, moved)
            if self.audit_path.exists():
                os.replace(self.audit_path, self.audit_path.with_name(self.audit_path.name + suffix))
            self._remember(None, None, None)
        return f"moved to {moved}"

    def heartbeat(self, lock: LockInfo) -> None:
        self.verify_lock(lock)

    # -- lock -------------------------------------------------------------------------------------
    def lock(self, command: str) -> LockInfo:
        info = LockInfo.for_this_process(command, self.identity)
        self.command = command
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

    def _locked_error(self, holder: LockInfo | None) -> LockedError:
        return locked_error(self.environment, self.lock_location, holder)

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
        if force and lock is not None and not holder.damaged and holder.id != lock.id:
            raise StrandsDeployError(
                f"the lock is now held by {holder.describe()} (id {holder.id}), not the lock {lock.id}: "
                "nothing was released",
                str(self.lock_path),
                "check who holds it now; release that lock only if you are sure it is stale",
            )
        if not force and (holder.damaged or mine is None or holder.id != mine.id):
            raise StrandsDeployError(
                f"the lock is held by {holder.describe()}, not by this command",
                str(self.lock_path),
                f"use `strands-deploy state unlock --env {self.environment} --force` if you are sure it is stale",
            )
        self.lock_path.unlink(missing_ok=True)
        self._held = None


def locked_error(env: str, where: str, holder: LockInfo | None) -> LockedError:
    """What a command that finds the state locked tells the user (every backend says the same)."""
    if holder is not None and holder.damaged:
        return LockedError(
            f"the state of environment {env!r} is locked by {holder.describe()}",
            where,
            f"run `strands-deploy state unlock --env {env}` to release it",
            holder,
        )
    if holder is None:  # released between our create and our read: try again
        return LockedError(
            f"the state of environment {env!r} was locked by another command a moment ago",
            where,
            "run the command again",
            None,
        )
    stale = holder.stale_reason()
    return LockedError(
        f"the state of environment {env!r} is locked by {holder.describe()}"
        + (f" — {stale}" if stale else ""),
        where,
        f"run `strands-deploy state unlock --env {env}` to release the stale lock"
        if stale
        else "wait for that command to finish (`--lock-timeout 5m` waits for it), or, if it died, "
        f"run `strands-deploy state unlock --env {env} --force {holder.id}`",
        holder,
    )


def written_by(identity: str | None, command: str, cloud: str | None = None) -> dict[str, str]:
    """Who writes a state version: recorded in it for `state history`; ``cloud``: the local
    cloud's current life (see local/settings.emptied_id), so read commands can tell it was emptied."""
    out = {"at": now(), "by": identity or f"{_user()}@{socket.gethostname()}", "command": command}
    if cloud:
        out["cloud"] = cloud
    return out


def _user() -> str:
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError, ImportError):  # no login name (some containers)
        return str(os.getuid()) if hasattr(os, "getuid") else "unknown"
