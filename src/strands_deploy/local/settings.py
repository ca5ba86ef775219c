"""Files shared by the control side (CLI) and the server, all under the state dir.

``<state_dir>/`` (mode 0700)
    ``endpoint.json``  written by the server once it listens: pid, port, endpoint, started_at, boot_id
                       and ``token``, the per-start secret every ``/_strands/*`` control route but
                       health requires (in the :data:`TOKEN_HEADER` header)
    ``config.json``    written by the control side: ``{"model_script": "/abs/path.yaml" | null,
                       "cors_origins": ["http://localhost:3000", ...], "idle_timeout_seconds": N}``
                       (the last optional: default 4 hours, 0 never) and ``"iam": false`` to stop
                       checking functions' calls against their roles (default on); the server re-reads it when
                       it changes, so no restart is needed
    ``snapshot.pickle`` the server's saved state (see :mod:`.persist`), restored at start
    ``server.log``     the server's stdout/stderr
    ``cache/``         unpacked function code and layers (safe to delete while stopped)

Invariants: every write is atomic (temp file + rename), so a reader never sees half a file; every
file written here is created with mode 0600 (readable by the user only), since ``endpoint.json``
holds the control token.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from strands_deploy.aws.session import LOCAL_ACCOUNT as _LOCAL_ACCOUNT

ENDPOINT_FILE = "endpoint.json"
# Written each time the cloud starts empty or is reset: a unique id (time + random), recorded in the
# state by deploys, so read commands can tell that the resources a state lists are gone.
EMPTIED_MARKER = "emptied_at"


def emptied_id() -> str:
    import uuid
    from datetime import UTC, datetime

    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ") + "-" + uuid.uuid4().hex[:8]


CONFIG_FILE = "config.json"
LOG_FILE = "server.log"
CACHE_DIR = "cache"
LOCAL_ACCOUNT = _LOCAL_ACCOUNT  # moto's default account, the one every local resource lives in
TOKEN_HEADER = "X-Strands-Token"  # carries endpoint.json's ``token`` to the /_strands/* control routes
CORS_ENV = "STRANDS_LOCAL_CORS_ORIGINS"  # comma- or space-separated origins allowed to use CORS
SNAPSHOT_FILE = "snapshot.pickle"  # the server's saved state (see persist.py)
DEFAULT_IDLE_TIMEOUT = 4 * 3600  # seconds without a request before the server stops itself
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(raw: str | float) -> int:
    """Seconds in ``raw``: ``90``, ``90s``, ``30m``, ``2h``, ``1d``, ``1h30m``; ``0``/``never``/``off``
    is 0 (no idle stop). ValueError if it is none of these."""
    if isinstance(raw, int | float):
        if raw < 0:
            raise ValueError(f"{raw} is negative")
        return int(raw)
    text = str(raw).strip().lower()
    if text in ("never", "off", "none", "0"):
        return 0
    if text.isdigit():
        return int(text)
    total, number = 0, ""
    for ch in text:
        if ch.isdigit():
            number += ch
        elif ch in _UNITS and number:
            total += int(number) * _UNITS[ch]
            number = ""
        else:
            raise ValueError(f"{raw!r} is not a duration (examples: 90s, 30m, 2h, 1d, never)")
    if number or not text:
        raise ValueError(f"{raw!r} is not a duration (examples: 90s, 30m, 2h, 1d, never)")
    return total


def make_private_dir(path: Path) -> None:
    """Create ``path`` (and its parents) and make it 0700: it holds the control token."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    with contextlib.suppress(OSError):  # not ours to change (another owner): leave it as it is
        os.chmod(path, 0o700)


def normalize_origin(raw: str) -> str | None:
    """``scheme://host[:port]`` in lower case without a trailing slash, or None if ``raw`` is not
    an http(s) origin (a path, query, user info or ``*`` are refused: an origin names one site)."""
    text = raw.strip().rstrip("/")
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname or "*" in text:
        return None
    if parts.path or parts.query or parts.fragment or parts.username or parts.password:
        return None
    scheme, host = parts.scheme.lower(), parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    if port == {"http": 80, "https": 443}[scheme]:
        port = None  # browsers leave the default port out of Origin
    return f"{scheme}://{host}" + (f":{port}" if port is not None else "")


def split_origins(raw: str) -> list[str]:
    """The origins in ``$STRANDS_LOCAL_CORS_ORIGINS`` (commas or white space between them)."""
    return [part for part in raw.replace(",", " ").split() if part]


def write_json_atomic(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        if hasattr(os, "fchmod"):
            os.fchmod(fd, 0o600)  # mkstemp's default too; stated, since endpoint.json holds the token
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

    def idle_timeout(self) -> int:
        """Seconds without a request before the server stops itself (0: never)."""
        value = self.get().get("idle_timeout_seconds", DEFAULT_IDLE_TIMEOUT)
        try:
            return parse_duration(value) if value is not None else DEFAULT_IDLE_TIMEOUT
        except (TypeError, ValueError):
            return DEFAULT_IDLE_TIMEOUT

    def iam_enabled(self) -> bool:
        """Whether functions' calls are checked against their roles (``"iam": false`` turns it off)."""
        return self.get().get("iam", True) is not False

    def cors_origins(self) -> frozenset[str]:
        """The origins the user allowed to use the local cloud from a browser (none by default)."""
        value = self.get().get("cors_origins")
        items: Iterable[Any] = value if isinstance(value, list) else ()
        return frozenset(o for o in (normalize_origin(str(v)) for v in items) if o)
