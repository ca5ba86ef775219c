"""The state of one environment: what exists, as the tool last saw it.

Invariants:
- ``serial`` increases by one on every persisted change; ``lineage`` never changes for a state's
  lifetime (a state from another lineage is never overwritten silently).
- A resource appears in ``resources`` only once its create call returned; an operation in flight
  is in ``pending`` (written before the AWS call), so a crash leaves a record of what may exist.
- No secret value is ever stored: secrets' properties hold only their source and fingerprint.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from strands_deploy import __version__

STATE_VERSION = 1


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class ResourceState:
    type: str
    physical_id: str
    inputs: dict[str, Any]
    outputs: dict[str, Any]
    dependencies: list[str] = field(default_factory=list)
    agent: str | None = None
    status: str = "ok"  # ok | tainted (half-created: the next plan replaces it)
    updated_at: str = field(default_factory=now)

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "physical_id": self.physical_id,
            "inputs": self.inputs,
            "outputs": self.outputs,
            "dependencies": self.dependencies,
            "agent": self.agent,
            "status": self.status,
            "updated_at": self.updated_at,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ResourceState:
        return cls(
            type=d["type"],
            physical_id=d["physical_id"],
            inputs=d.get("inputs", {}),
            outputs=d.get("outputs", {}),
            dependencies=list(d.get("dependencies", [])),
            agent=d.get("agent"),
            status=d.get("status", "ok"),
            updated_at=d.get("updated_at", ""),
        )


@dataclass
class PendingOperation:
    id: str
    address: str
    type: str
    action: str  # create | update | delete | replace
    inputs: dict[str, Any]
    physical_id: str | None = None
    started_at: str = field(default_factory=now)
    agent: str | None = None
    dependencies: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "address": self.address,
            "type": self.type,
            "action": self.action,
            "inputs": self.inputs,
            "physical_id": self.physical_id,
            "started_at": self.started_at,
            "agent": self.agent,
            "dependencies": self.dependencies,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> PendingOperation:
        return cls(
            id=d["id"],
            address=d["address"],
            type=d["type"],
            action=d["action"],
            inputs=d.get("inputs") or {},
            physical_id=d.get("physical_id"),
            started_at=d.get("started_at", ""),
            agent=d.get("agent"),
            dependencies=list(d.get("dependencies") or []),
        )


@dataclass
class State:
    environment: str
    lineage: str = field(default_factory=lambda: str(uuid.uuid4()))
    serial: int = 0
    version: int = STATE_VERSION
    tool_version: str = __version__
    resources: dict[str, ResourceState] = field(default_factory=dict)
    pending: dict[str, PendingOperation] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "tool_version": __version__,
            "environment": self.environment,
            "lineage": self.lineage,
            "serial": self.serial,
            "resources": {a: r.to_dict() for a, r in sorted(self.resources.items())},
            "pending": [p.to_dict() for p in self.pending.values()],
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> State:
        return cls(
            environment=d["environment"],
            lineage=d["lineage"],
            serial=int(d["serial"]),
            version=int(d.get("version", STATE_VERSION)),
            tool_version=d.get("tool_version", ""),
            resources={a: ResourceState.from_dict(r) for a, r in d.get("resources", {}).items()},
            pending={p["id"]: PendingOperation.from_dict(p) for p in d.get("pending", [])},
        )

    def copy(self) -> State:
        return State.from_dict(self.to_dict())
