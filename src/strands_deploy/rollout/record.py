"""The rollout record kept in the state, per agent (``State.rollouts[agent]``), as plain JSON.

``{"current": {...} | None, "versions": [...]}``: ``current`` is the rollout in progress or the last
one (status ``running`` | ``waiting`` (blue-green, for promote) | ``promoted`` | ``rolled-back`` |
``aborted`` | ``failed``), with its history of events; ``versions`` lists each version a deploy
published: when, who, code hash, outcome. A request from another shell (``abort``,
``rollback``) is written to ``current.request`` and honoured by the running rollout at its next
check.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

ACTIVE = ("running", "waiting")
MAX_VERSIONS = 50  # history entries kept per agent


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class RolloutRecord:
    agent: str
    function: str
    alias: str
    strategy: str
    old_version: str
    new_version: str
    status: str = "running"
    weight: float = 0.0  # the new version's share of the traffic now
    step: int = 0  # index of the step being held
    steps: list[float] = field(default_factory=list)
    reason: str | None = None
    started: str = field(default_factory=now_iso)
    finished: str | None = None
    who: str | None = None
    green_alias: str | None = None
    green_url: str | None = None  # blue-green with `expose: url`: the green alias's own URL
    request: str | None = None  # "abort" | "rollback" | "promote", from another shell
    history: list[dict[str, Any]] = field(default_factory=list)

    def event(self, kind: str, detail: str = "", at: str | None = None) -> dict[str, Any]:
        item = {"at": at or now_iso(), "event": kind, "detail": detail, "weight": self.weight}
        self.history.append(item)
        return item

    @property
    def active(self) -> bool:
        return self.status in ACTIVE

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RolloutRecord:
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in d.items() if k in known})


def current(rollouts: dict[str, dict[str, Any]], agent: str) -> RolloutRecord | None:
    doc = (rollouts.get(agent) or {}).get("current")
    return RolloutRecord.from_dict(doc) if isinstance(doc, dict) else None


def put_current(rollouts: dict[str, dict[str, Any]], record: RolloutRecord) -> None:
    rollouts.setdefault(record.agent, {})["current"] = record.to_dict()


def versions(rollouts: dict[str, dict[str, Any]], agent: str) -> list[dict[str, Any]]:
    return list((rollouts.get(agent) or {}).get("versions") or [])


def add_version(rollouts: dict[str, dict[str, Any]], agent: str, entry: dict[str, Any]) -> None:
    """Record a published version (newest last); an entry for the same version is replaced."""
    items = [v for v in versions(rollouts, agent) if v.get("version") != entry.get("version")]
    items.append(entry)
    rollouts.setdefault(agent, {})["versions"] = items[-MAX_VERSIONS:]


def set_outcome(rollouts: dict[str, dict[str, Any]], agent: str, version: str, outcome: str) -> None:
    for v in rollouts.get(agent, {}).get("versions") or []:
        if v.get("version") == version:
            v["outcome"] = outcome
