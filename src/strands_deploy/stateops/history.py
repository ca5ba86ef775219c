"""The history of a state: every stored version with who wrote it, with which command, and what
changed since the version before it (resources added, changed, removed)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from strands_deploy.errors import StrandsDeployError
from strands_deploy.state.backend import StateBackend, StateVersion
from strands_deploy.state.model import State


@dataclass
class HistoryEntry:
    ref: str
    at: str
    serial: int | None
    by: str | None
    command: str | None
    summary: str
    lineage: str | None = None
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "ref": self.ref,
            "at": self.at,
            "serial": self.serial,
            "by": self.by,
            "command": self.command,
            "summary": self.summary,
            "lineage": self.lineage,
            "error": self.error,
        }


def changes_between(before: State | None, after: State) -> str:
    """``+2 ~1 -0 resources`` style summary, naming up to three addresses."""
    old = before.resources if before else {}
    new = after.resources
    added = sorted(set(new) - set(old))
    removed = sorted(set(old) - set(new))
    changed = sorted(
        a
        for a in set(new) & set(old)
        if new[a].to_dict() | {"updated_at": ""} != old[a].to_dict() | {"updated_at": ""}
    )
    parts = []
    for sign, names in (("+", added), ("~", changed), ("-", removed)):
        if names:
            shown = ", ".join(names[:3]) + (f" (+{len(names) - 3} more)" if len(names) > 3 else "")
            parts.append(f"{sign}{len(names)} {shown}")
    pending = len(after.pending)
    if pending:
        parts.append(f"{pending} in flight")
    return "; ".join(parts) or "no resource changes"


def history(backend: StateBackend, limit: int = 20) -> list[HistoryEntry]:
    """The newest ``limit`` versions (one more is read to summarise the oldest shown)."""
    versions = backend.versions(limit + 1)

    def load(v: StateVersion) -> State | StrandsDeployError | None:
        if v.deleted:
            return None
        try:
            return backend.read_version(v.ref)
        except StrandsDeployError as e:
            return e

    with ThreadPoolExecutor(max_workers=max(1, min(8, len(versions)))) as pool:
        states = list(pool.map(load, versions))
    entries = []
    for i, v in enumerate(versions[:limit]):
        got = states[i]
        before = states[i + 1] if i + 1 < len(states) else None
        if got is None or isinstance(got, StrandsDeployError):
            entries.append(
                HistoryEntry(
                    v.ref,
                    v.at,
                    None,
                    None,
                    None,
                    "state removed (moved to another backend)" if got is None else "unreadable",
                    error=None if got is None else got.what,
                )
            )
            continue
        written = got.written or {}
        entries.append(
            HistoryEntry(
                v.ref,
                written.get("at", v.at),
                got.serial,
                written.get("by"),
                written.get("command"),
                changes_between(before if isinstance(before, State) else None, got),
                got.lineage,
            )
        )
    return entries


def find_serial(backend: StateBackend, serial: int, *, batch: int = 16) -> State:
    """The stored version with ``serial`` (versions are read newest first, ``batch`` at a time)."""
    versions = [v for v in backend.versions() if not v.deleted]
    for start in range(0, len(versions), batch):
        chunk = versions[start : start + batch]
        with ThreadPoolExecutor(max_workers=min(8, len(chunk))) as pool:
            states = list(pool.map(lambda v: _try_read(backend, v.ref), chunk))
        for state in states:
            if state is not None and state.serial == serial:
                return state
        if states and all(s is not None and s.serial < serial for s in states):
            break
    raise StrandsDeployError(
        f"no stored version of the state has serial {serial}",
        backend.location,
        "list the versions with `strands-deploy state history` (old versions expire after the "
        "bucket's lifecycle period; the local backend keeps the last 1000)",
    )


def _try_read(backend: StateBackend, ref: str) -> State | None:
    try:
        return backend.read_version(ref)
    except StrandsDeployError:
        return None
