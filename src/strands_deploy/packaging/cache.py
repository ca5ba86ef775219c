"""The per-user cache of built dependency layers, shared by every project on the machine.

``$STRANDS_DEPLOY_CACHE_DIR``, else ``$XDG_CACHE_HOME/strands-deploy``, else
``~/.cache/strands-deploy``. Layer zips for AWS are keyed by requirements hash, target, runtime
and architecture (the same dependencies are built once per machine); a project keeps a hard link
(or a copy) of each layer it uses in its own ``.strands/cache``. Every file appears atomically (a
temp file in the same folder, then ``os.replace``), and a build holds a lock file so that two
processes asking for the same layer build it once.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

# the cache's location is decided in strands_deploy.paths (re-exported here for packaging's users)
from strands_deploy.paths import APP as APP
from strands_deploy.paths import CACHE_ENV_VAR as ENV_VAR  # noqa: F401
from strands_deploy.paths import shared_cache_dir as shared_cache_dir


def usable_dir(path: Path) -> Path | None:
    """``path``, created if needed, when files can be written there; else None."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return path if os.access(path, os.W_OK | os.X_OK) else None


def place(src: Path, dst: Path) -> None:
    """Make ``dst`` hold ``src``'s bytes, atomically: a hard link (free), else a copy."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=dst.parent, suffix=".tmp")
    os.close(fd)
    try:
        os.unlink(tmp)
        try:
            os.link(src, tmp)
        except OSError:  # another file system, or links not allowed
            shutil.copyfile(src, tmp)
        os.replace(tmp, dst)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


@contextlib.contextmanager
def build_lock(path: Path) -> Iterator[None]:
    """Hold ``<path>.lock`` (between processes) while building ``path``; a no-op where file
    locks are not available."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(f"{path}.lock", "a+b") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
