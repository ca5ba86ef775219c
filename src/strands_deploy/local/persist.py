"""Keep the local cloud's resources across restarts: snapshots of moto's backends.

Mechanism: **pickle snapshots of moto's in-memory backends**, taken by the server process itself.
moto keeps every resource of every service in ``BackendDict`` objects (``service -> account ->
region -> backend``); the ones in use are listed in ``BackendDict._instances``. A snapshot pickles
all of them *in one pickle* (so objects shared between services stay shared), together with what
the local cloud keeps beside moto (``extras``: the Function URL qualifiers, the recorded
``LoggingConfig``s). A restore, before the server serves its first request, unpickles them and puts
each account's backends back into the *same* module-level ``BackendDict`` objects moto's code
refers to (``lambda_backends``, ``dynamodb_backends``...).

Why not moto's request recorder + replay: replaying ``CreateFunction``, ``CreateFunctionUrlConfig``,
``CreateApi``, ``CreateQueue``... generates *new* random ids (URL ids, API ids, message ids,
version ids), which would break every output and state file that records them; ids must survive.
A pickle keeps every object as it was, ids included, and costs milliseconds for typical projects.

What plain pickle cannot do is handled by :class:`_Pickler`: locks and conditions (recreated
fresh), ``WeakValueDictionary``/``WeakKeyDictionary`` (kept with their current content) and
``defaultdict``\\ s whose factory is a lambda (rebuilt with a factory that copies an empty value).
If the whole state still does not pickle, services are pickled one by one and the ones that fail
are left out of the snapshot (named in the server log and in ``local status``), the rest is kept.

When: after mutating requests, once they pause (0.5 s of quiet, at most 5 s after the first
change), on stop (SIGTERM, ``local stop``, idle stop), never while a request is inside moto (a
small gate, :meth:`Persister.request`, makes the snapshot wait for a quiet moment; if none comes
within a second it is retried later). So a crash or ``kill -9`` loses at most the last few
seconds of changes.

File: ``<state_dir>/snapshot.pickle``: one JSON header line (format, moto and Python versions,
time taken, SHA-256 of the payload, services kept and skipped), then the pickle. Written
atomically (temp file, fsync, rename, fsync of the folder), mode 0600. A snapshot that cannot be
restored - another moto or Python version, a damaged or truncated file, an unpickling error - is
moved aside to ``snapshot.bad-<time>.pickle`` and the cloud starts empty; the server log and
``local status`` say why. ``local reset`` deletes the snapshot.

Trust: unpickling runs code named by the file; the file is the user's own, written by this
server in a 0700 folder, the same trust as the code of their functions in ``cache/``.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import importlib
import io
import json
import logging
import os
import pickle
import sys
import tempfile
import threading
import time
import weakref
from collections import defaultdict
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from strands_deploy.local.settings import SNAPSHOT_FILE

log = logging.getLogger("strands_deploy.local.persist")


FORMAT = 1
MAGIC = "strands-local-snapshot"
QUIET_SECONDS = 0.5  # save once mutating requests pause this long...
MAX_DELAY_SECONDS = 5.0  # ...or at the latest this long after the first unsaved change
GATE_WAIT_SECONDS = 1.0  # how long a snapshot waits for requests inside moto to finish

_LOCK = type(threading.Lock())
_RLOCK = type(threading.RLock())


class SnapshotError(Exception):
    """A snapshot that cannot be restored (the message says why)."""


# -- pickling -------------------------------------------------------------------------------------
class _Prototype:
    """A picklable ``defaultdict`` factory: returns a copy of an empty value (the lambda's result)."""

    def __init__(self, proto: Any) -> None:
        self.proto = proto

    def __call__(self) -> Any:
        return copy.deepcopy(self.proto)


def _defaultdict(factory: Any, items: dict[Any, Any]) -> defaultdict[Any, Any]:
    d: defaultdict[Any, Any] = defaultdict(factory)
    d.update(items)
    return d


def _defaultdict_subclass(cls: type, factory: Any) -> Any:
    """A ``defaultdict`` subclass without calling its own ``__init__`` (moto's take other arguments);
    its attributes and items follow (pickle's state and dict items)."""
    obj: Any = defaultdict.__new__(cls)
    defaultdict.__init__(obj, factory)
    return obj


def _weak_values(items: dict[Any, Any]) -> weakref.WeakValueDictionary[Any, Any]:
    return weakref.WeakValueDictionary(items)


def _weak_keys(items: dict[Any, Any]) -> weakref.WeakKeyDictionary[Any, Any]:
    return weakref.WeakKeyDictionary(items)


def _local_function(fn: Any) -> bool:
    qualname = getattr(fn, "__qualname__", "")
    return callable(fn) and ("<lambda>" in qualname or "<locals>" in qualname)


class _Pickler(pickle.Pickler):
    def reducer_override(self, obj: Any) -> Any:
        if isinstance(obj, _LOCK):
            return threading.Lock, ()
        if isinstance(obj, _RLOCK):
            return threading.RLock, ()
        if isinstance(obj, threading.Condition):
            return threading.Condition, ()
        if isinstance(obj, weakref.WeakValueDictionary):
            return _weak_values, (dict(obj.items()),)
        if isinstance(obj, weakref.WeakKeyDictionary):
            return _weak_keys, (dict(obj.items()),)
        if isinstance(obj, defaultdict):
            factory = obj.default_factory
            if factory is not None and _local_function(factory):
                factory = _Prototype(factory())
            if type(obj) is defaultdict:
                return _defaultdict, (factory, dict(obj))
            return (
                _defaultdict_subclass,
                (type(obj), factory),
                getattr(obj, "__dict__", None),
                None,
                iter(obj.items()),
            )
        return NotImplemented


def _dumps(obj: Any) -> bytes:
    buf = io.BytesIO()
    _Pickler(buf, protocol=pickle.HIGHEST_PROTOCOL).dump(obj)
    return buf.getvalue()


def _backend_dicts() -> list[Any]:
    from moto.core.base_backend import BackendDict

    instances: list[Any] = BackendDict._instances  # type: ignore[misc]
    return [bd for bd in list(instances) if len(bd)]


def _key(bd: Any) -> str:
    return f"{bd.backend.__module__}:{bd.service_name}"


def dump_state(extras: dict[str, Any]) -> tuple[bytes, list[str], list[str]]:
    """Pickle every backend in use plus ``extras``: (payload, services kept, services skipped)."""
    backends = {_key(bd): dict(bd) for bd in _backend_dicts()}
    try:
        return _dumps({"backends": backends, "extras": extras}), sorted(backends), []
    except RuntimeError:
        raise  # changed while pickling: the caller retries
    except Exception as whole:
        skipped: list[str] = []
        for key in list(backends):
            try:
                _dumps(backends[key])
            except RuntimeError:
                raise
            except Exception as e:
                log.warning(
                    "snapshot: service %s cannot be saved (%s: %s); it will start empty",
                    key,
                    type(e).__name__,
                    e,
                )
                skipped.append(key)
                del backends[key]
        if not skipped:
            raise SnapshotError(f"the local cloud's state cannot be pickled: {whole}") from whole
        return _dumps({"backends": backends, "extras": extras}), sorted(backends), skipped


def _find_backend_dict(key: str) -> Any:
    from moto.core.base_backend import BackendDict

    module_name, _, service = key.partition(":")
    module = importlib.import_module(module_name)
    for value in vars(module).values():
        if isinstance(value, BackendDict) and value.service_name == service:
            return value
    from moto.backends import get_backend

    return get_backend(service)  # type: ignore[call-overload]


def restore_state(state: dict[str, Any]) -> dict[str, Any]:
    """Put unpickled backends back into moto's ``BackendDict``\\ s; return the extras."""
    from moto.core.base_backend import BackendDict, backend_lock

    backends = state["backends"]
    targets = {key: _find_backend_dict(key) for key in backends}  # fail before changing anything
    with backend_lock:
        for key, accounts in backends.items():
            bd = targets[key]
            dict.clear(bd)
            dict.update(bd, accounts)
            instances: list[Any] = BackendDict._instances  # type: ignore[misc]
            if bd not in instances:
                instances.append(bd)
    extras = state.get("extras")
    return extras if isinstance(extras, dict) else {}


def _versions() -> dict[str, str]:
    import moto

    return {"moto": str(moto.__version__), "python": f"{sys.version_info[0]}.{sys.version_info[1]}"}


def write_snapshot(path: Path, payload: bytes, services: list[str], skipped: list[str]) -> dict[str, Any]:
    """Write header + payload atomically (temp file, fsync, rename, fsync dir); return the header."""
    header = {
        "magic": MAGIC,
        "format": FORMAT,
        **_versions(),
        "taken_at": datetime.now(UTC).isoformat(),
        "sha256": hashlib.sha256(payload).hexdigest(),
        "size": len(payload),
        "services": services,
        "skipped": skipped,
    }
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        if hasattr(os, "fchmod"):
            os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(json.dumps(header).encode("utf-8") + b"\n")
            fh.write(payload)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    with contextlib.suppress(OSError):
        dfd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    return header


def read_header(path: Path) -> dict[str, Any] | None:
    """The snapshot's header (no unpickling), or None if there is none readable."""
    try:
        with open(path, "rb") as fh:
            data = json.loads(fh.readline(64 * 1024))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("magic") == MAGIC else None


def read_snapshot(path: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """(header, state) of a snapshot, or :class:`SnapshotError` saying why it cannot be used."""
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise SnapshotError(f"cannot read it: {e.strerror or e}") from e
    line, newline, payload = raw.partition(b"\n")
    try:
        header = json.loads(line) if newline else None
    except ValueError:
        header = None
    if not isinstance(header, dict) or header.get("magic") != MAGIC:
        raise SnapshotError("it is not a local cloud snapshot (damaged header)")
    if header.get("format") != FORMAT:
        raise SnapshotError(f"it has format {header.get('format')}, this version reads format {FORMAT}")
    current = _versions()
    for what in ("moto", "python"):
        if header.get(what) != current[what]:
            raise SnapshotError(
                f"it was taken with {what} {header.get(what)}, this server runs {what} {current[what]}"
            )
    if len(payload) != header.get("size") or hashlib.sha256(payload).hexdigest() != header.get("sha256"):
        raise SnapshotError("it is damaged (its checksum does not match: truncated or modified)")
    try:
        state = pickle.loads(payload)
    except Exception as e:
        raise SnapshotError(f"it cannot be unpickled ({type(e).__name__}: {e})") from e
    if not isinstance(state, dict) or not isinstance(state.get("backends"), dict):
        raise SnapshotError("it does not hold the local cloud's state")
    return header, state


# -- the server's persister -------------------------------------------------------------------------
class Persister:
    """Snapshots of one server's state: restore at start, save after changes and at stop.

    ``collect_extras`` returns what the server keeps beside moto (picklable); ``apply_extras``
    puts it back after a restore.
    """

    def __init__(
        self,
        state_dir: Path,
        collect_extras: Callable[[], dict[str, Any]],
        apply_extras: Callable[[dict[str, Any]], None],
    ) -> None:
        self.path = state_dir / SNAPSHOT_FILE
        self._collect_extras = collect_extras
        self._apply_extras = apply_extras
        self._cond = threading.Condition()
        self._active = 0  # requests inside moto
        self._pending = False  # a snapshot waits for them: new ones hold back a little
        self._exclusive = False  # a snapshot is pickling: new ones wait
        self._write_lock = threading.Lock()  # one save (or reset) at a time
        self._dirty_since: float | None = None
        self._last_change = 0.0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.status: dict[str, Any] = {"file": str(self.path), "restored": False}

    # -- the gate around moto --------------------------------------------------------------------
    @contextlib.contextmanager
    def request(self) -> Iterator[None]:
        """Hold around every call into moto: a snapshot is never taken in the middle of one."""
        with self._cond:
            while self._exclusive:
                self._cond.wait()
            deadline = time.monotonic() + GATE_WAIT_SECONDS
            while self._pending and time.monotonic() < deadline:
                self._cond.wait(0.05)
            while self._exclusive:
                self._cond.wait()
            self._active += 1
        try:
            yield
        finally:
            with self._cond:
                self._active -= 1
                self._cond.notify_all()

    def changed(self) -> None:
        """A request may have changed something: save soon."""
        now = time.monotonic()
        self._last_change = now
        if self._dirty_since is None:
            self._dirty_since = now

    # -- restore -------------------------------------------------------------------------------
    def _mark_emptied(self) -> None:
        """Record when the cloud started empty or was reset (``emptied_at``): read commands
        compare it with the state's last write to say that deployed resources are gone."""
        from strands_deploy.local.settings import EMPTIED_MARKER, emptied_id

        marker = self.path.with_name(EMPTIED_MARKER)
        try:
            marker.write_text(emptied_id())
        except OSError as e:
            log.warning("cannot write %s: %s", marker, e)

    def restore(self) -> None:
        """Load the snapshot if there is one; a bad one is moved aside and the cloud starts empty."""
        if not self.path.exists():
            log.info("no snapshot at %s: starting empty", self.path)
            self._mark_emptied()
            return
        try:
            header, state = read_snapshot(self.path)
            extras = restore_state(state)
            self._apply_extras(extras)
        except Exception as e:
            reason = str(e) if isinstance(e, SnapshotError) else f"{type(e).__name__}: {e}"
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
            aside = self.path.with_name(f"snapshot.bad-{stamp}.pickle")
            try:
                os.replace(self.path, aside)
            except OSError:
                aside = self.path
            message = (
                f"the snapshot {self.path.name} could not be restored: {reason}; the local cloud starts "
                f"EMPTY (the file is kept as {aside.name}; deploy again to recreate your resources)"
            )
            log.error("%s", message)
            self._reset_moto()
            self._mark_emptied()
            self.status.update({"restored": False, "error": message, "kept_aside": str(aside)})
            return
        self.status.update(
            {
                "restored": True,
                "taken_at": header.get("taken_at"),
                "services": header.get("services"),
                "skipped": header.get("skipped") or [],
            }
        )
        log.info(
            "restored the snapshot taken at %s (%d service(s))",
            header.get("taken_at"),
            len(header.get("services") or []),
        )

    @staticmethod
    def _reset_moto() -> None:
        from moto.core.base_backend import BackendDict

        with contextlib.suppress(Exception):
            BackendDict.reset()

    # -- save ----------------------------------------------------------------------------------
    def _quiet_moment(self, wait: float) -> bool:
        """Wait until no request is inside moto, then hold new ones out (True), or give up."""
        with self._cond:
            self._pending = True
            deadline = time.monotonic() + wait
            while self._active and time.monotonic() < deadline:
                self._cond.wait(0.05)
            self._pending = False
            if self._active:
                self._cond.notify_all()
                return False
            self._exclusive = True
            return True

    def _release(self) -> None:
        with self._cond:
            self._exclusive = False
            self._cond.notify_all()

    def save(self, final: bool = False) -> bool:
        """Take a snapshot now (``final``: at stop, waiting longer for a quiet moment)."""
        with self._write_lock:
            dirty_since, self._dirty_since = self._dirty_since, None
            payload = b""
            services: list[str] = []
            skipped: list[str] = []
            for _attempt in range(5):
                if not self._quiet_moment(10.0 if final else GATE_WAIT_SECONDS):
                    continue
                try:
                    payload, services, skipped = dump_state(self._collect_extras())
                    break
                except RuntimeError:  # something outside moto's requests changed a dict meanwhile
                    payload = b""
                except Exception as e:
                    log.error("snapshot failed: %s: %s", type(e).__name__, e)
                    self.status["save_error"] = f"{type(e).__name__}: {e}"
                    return False
                finally:
                    self._release()
                time.sleep(0.05)
            if not payload:
                if self._dirty_since is None:
                    self._dirty_since = dirty_since or time.monotonic()  # try again later
                return False
            try:
                header = write_snapshot(self.path, payload, services, skipped)
            except OSError as e:
                log.error("cannot write the snapshot %s: %s", self.path, e)
                self.status["save_error"] = f"cannot write {self.path}: {e}"
                if self._dirty_since is None:
                    self._dirty_since = dirty_since or time.monotonic()
                return False
            self.status.pop("save_error", None)
            self.status.update({"last_saved_at": header["taken_at"], "last_saved_skipped": skipped})
            return True

    def reset(self, do_reset: Callable[[], Any]) -> Any:
        """Run a reset and delete the snapshot, with no save in between."""
        with self._write_lock:
            result = do_reset()
            self.path.unlink(missing_ok=True)
            self._mark_emptied()
            self._dirty_since = None
            self.status.update({"restored": False, "reset_at": datetime.now(UTC).isoformat()})
            for key in ("taken_at", "services", "skipped", "last_saved_at"):
                self.status.pop(key, None)
            return result

    # -- background saver ------------------------------------------------------------------------
    def _due(self) -> bool:
        since = self._dirty_since
        if since is None:
            return False
        now = time.monotonic()
        return now - self._last_change >= QUIET_SECONDS or now - since >= MAX_DELAY_SECONDS

    def _run(self) -> None:
        while not self._stop.wait(0.2):
            if self._due():
                try:
                    self.save()
                except Exception:
                    log.exception("snapshot failed")

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="snapshots", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the background saver and take the final snapshot."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=15)
        if self._dirty_since is None and (self.path.exists() or not _backend_dicts()):
            return  # nothing changed since the last snapshot (or since a reset)
        self.changed()
        if self.save(final=True):
            log.info("state saved to %s", self.path)
