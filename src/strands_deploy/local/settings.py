"""Files shared by the control side (CLI) and the server, all under the state dir.

``<state_dir>/``
    ``endpoint.json``  written by the server once it listens: pid, port, endpoint, started_at, boot_id
    ``config.json``    written by the control side: ``{"model_script": "/abs/path.yaml" | null}``;
                       the server re-reads it when it changes, so no restart is needed
    ``server.log``     the server's stdout/stderr
    ``cache/``         unpacked function code and layers (safe to delete while stopped)

Invariant: every write is atomic (temp file + rename), so a reader never sees half a file.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
from pathlib import Path
from typing import Any

from strands_deploy.aws.session import LOCAL_ACCOUNT as _LOCAL_ACCOUNT

ENDPOINT_FILE = "endpoint.json"
CONFIG_FILE = "config.json"
LOG_FILE = "server.log"
CACHE_DIR = "cache"
LOCAL_ACCOUNT = _LOCAL_ACCOUNT  # moto's default account, the one every local resource lives in


def write_json_atomic(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=2)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


class ConfigReader:
    """The server's view of ``config.json``, re-read when its mtime changes."""

    def __init__(self, state_dir: Path) -> None:
        self._path = state_dir / CONFIG_FILE
        self._lock = threading.Lock()
        self._mtime: int | None = None
        self._data: dict[str, Any] = {}

    def get(self) -> dict[str, Any]:
        try:
            mtime = self._path.stat().st_mtime_ns
        except OSError:
            return {}
        with self._lock:
            if mtime != self._mtime:
                self._data = read_json(self._path) or {}
                self._mtime = mtime
            return dict(self._data)

    def model_script(self) -> str | None:
        value = self.get().get("model_script")
        return str(value) if value else None
