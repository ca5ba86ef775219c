"""State backends behind one small protocol (read, write, lock), and the local file backend.

The local backend keeps ``.strands/state/<env>.json``: every write goes to a temp file in the
same folder, is fsynced, and replaces the file atomically (the previous version is kept as
``<env>.json.backup``). The lock is a file created with O_CREAT|O_EXCL — atomic, never
check-then-write — holding who took it.
"""

from __future__ import annotations

import getpass
import json
import os
import socket
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from strands_deploy.errors import StrandsDeployError
from strands_deploy.state.model import STATE_VERSION, State, now


@dataclass
class LockInfo:
    id: str
    user: str
    host: str
    pid: int
    started_at: str
    command: str

    def describe(self) -> str:
        return f"{self.user}@{self.host} pid {self.pid} since {self.started_at} ({self.command})"


class StateBackend(Protocol):
    def read(self) -> State | None: ...

    def write(self, state: State) -> None: ...

    def lock(self, command: str) -> LockInfo: ...

    def unlock(self, lock: LockInfo | None = None, force: bool = False) -> None: ...

    def lock_info(self) -> LockInfo | None: ...

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


def atomic_write(path: Path, data: bytes, backup: bool = False) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        if backup and path.exists():
            _copy_backup(path)
        os.replace(tmp, path)
        _fsync_dir(path.parent)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


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


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class LocalFileBackend:
    def __init__(self, root: Path, environment: str) -> None:
        self.root = root
        self.environment = environment
        self.path = root / f"{environment}.json"
        self.lock_path = root / f"{environment}.lock"
        self._held: LockInfo | None = None

    @property
    def location(self) -> str:
        return str(self.path)

    def read(self) -> State | None:
        try:
            text = self.path.read_text()
        except FileNotFoundError:
            return None
        except OSError as e:
            raise StrandsDeployError(
                f"cannot read the state file: {e.strerror}", str(self.path), "check the file's permissions"
            ) from None
        try:
            data: dict[str, Any] = json.loads(text)
        except json.JSONDecodeError as e:
            backup = self.path.with_name(self.path.name + ".backup")
            raise StrandsDeployError(
                f"the state file is not valid JSON ({e.msg} at line {e.lineno})",
                f"{self.path}:{e.lineno}:{e.colno}",
                f"restore the previous version from {backup.name}"
                if backup.exists()
                else "restore it from version control or a backup",
            ) from None
        version = data.get("version")
        if not isinstance(version, int) or version > STATE_VERSION:
            raise StrandsDeployError(
                f"the state file was written by a newer strands-deploy (state version {version!r}, "
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
        except (KeyError, TypeError, ValueError) as e:
            raise StrandsDeployError(
                f"the state file is malformed ({e})",
                str(self.path),
                "restore the previous version from the .backup file",
            ) from None

    def write(self, state: State) -> None:
        data = json.dumps(state.to_dict(), separators=(",", ":"), sort_keys=False).encode()
        atomic_write(self.path, data, backup=True)

    def lock(self, command: str) -> LockInfo:
        import uuid

        info = LockInfo(
            str(uuid.uuid4()), getpass.getuser(), socket.gethostname(), os.getpid(), now(), command
        )
        self.root.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(self.lock_path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            holder = self.lock_info()
            stale = holder is not None and holder.host == socket.gethostname() and not pid_alive(holder.pid)
            raise StrandsDeployError(
                f"the state of environment {self.environment!r} is locked by "
                f"{holder.describe() if holder else 'an unknown holder'}"
                + (" — that process is no longer running" if stale else ""),
                str(self.lock_path),
                "run `strands-deploy state unlock --env " + self.environment + "` to release the stale lock"
                if stale
                else "wait for that command to finish (or, if it died, run `strands-deploy state unlock`)",
            ) from None
        with os.fdopen(fd, "w") as fh:
            json.dump(info.__dict__, fh)
            fh.flush()
            os.fsync(fh.fileno())
        self._held = info
        return info

    def lock_info(self) -> LockInfo | None:
        try:
            return LockInfo(**json.loads(self.lock_path.read_text()))
        except (OSError, ValueError, TypeError):
            return None

    def unlock(self, lock: LockInfo | None = None, force: bool = False) -> None:
        holder = self.lock_info()
        if holder is None and not self.lock_path.exists():
            return
        mine = lock or self._held
        if not force and (holder is None or mine is None or holder.id != mine.id):
            raise StrandsDeployError(
                "the lock is held by someone else",
                str(self.lock_path),
                "use `strands-deploy state unlock --force` if you are sure it is stale",
            )
        self.lock_path.unlink(missing_ok=True)
        self._held = None
