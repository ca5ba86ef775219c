"""The state of one environment: what exists, as the tool last saw it.

Invariants:
- ``serial`` increases by one on every persisted change; ``lineage`` never changes for a state's
  lifetime (a state from another lineage is never overwritten silently).
- A resource appears in ``resources`` only once its create call returned; an operation in flight
  is in ``pending`` (written before the AWS call), so a crash leaves a record of what may exist.
- No secret value is ever stored: secrets' properties hold only their source and fingerprint.
- A state is bound to the project, account and region it describes (``None`` in files written
  before the binding existed); whoever reads it compares them with the configuration.
- ``from_dict`` accepts only well-formed documents: anything else raises :class:`MalformedState`
  naming the field, never a KeyError or TypeError from deep inside.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from strands_deploy import __version__

STATE_VERSION = 1


class MalformedState(ValueError):
    """The document is not a state of this format; ``problem`` says which field and why."""

    def __init__(self, problem: str) -> None:
        self.problem = problem
        super().__init__(problem)


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _kind(value: Any) -> str:
    """How a JSON value reads in a message: 'a list', 'null', 'a string'..."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


# Explicit checks rather than a schema library: they cost microseconds per record, so a state of
# thousands of resources still loads in a few milliseconds beyond json.loads itself.
def _str(d: dict[str, Any], key: str, where: str, *, optional: bool = False, default: Any = None) -> Any:
    if key not in d:
        if optional:
            return default
        raise MalformedState(f"{where} has no `{key}`")
    value = d[key]
    if isinstance(value, str) or (optional and value is None):
        return value
    raise MalformedState(f"{where}: `{key}` is {_kind(value)}, expected a string")


def _obj(d: dict[str, Any], key: str, where: str) -> dict[str, Any]:
    value = d.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise MalformedState(f"{where}: `{key}` is {_kind(value)}, expected an object")
    return value


def _str_list(d: dict[str, Any], key: str, where: str) -> list[str]:
    value = d.get(key)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise MalformedState(f"{where}: `{key}` must be a list of strings")
    return list(value)


@dataclass
class ResourceState:
    type: str
    physical_id: str
    inputs: dict[str, Any]
    outputs: dict[str, Any]
    dependencies: list[str] = field(default_factory=list)
    agent: str | None = None
    status: str = "ok"  # ok | tainted (only in states of 0.1: the next plan replaces it)
    updated_at: str = field(default_factory=now)

    # Records are replaced or their fields reassigned, never changed inside (the store snapshots
    # them shallowly), so each keeps its JSON once encoded: a state write joins the encoded
    # records instead of encoding every record again (a 9,000-resource state is 12 MB).
    def __setattr__(self, name: str, value: Any) -> None:
        object.__setattr__(self, name, value)
        if name != "_encoded":
            object.__setattr__(self, "_encoded", None)

    def encoded(self) -> str:
        """The record as compact JSON (cached until a field is reassigned)."""
        cached: str | None = self.__dict__.get("_encoded")
        if cached is None:
            cached = json.dumps(self.to_dict(), separators=(",", ":"), sort_keys=False)
            object.__setattr__(self, "_encoded", cached)
        return cached

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
    def from_dict(cls, d: dict[str, Any], where: str = "a resource record") -> ResourceState:
        if not isinstance(d, dict):
            raise MalformedState(f"{where} is {_kind(d)}, expected an object")
        return cls(
            type=_str(d, "type", where),
            physical_id=_str(d, "physical_id", where),
            inputs=_obj(d, "inputs", where),
            outputs=_obj(d, "outputs", where),
            dependencies=_str_list(d, "dependencies", where),
            agent=_str(d, "agent", where, optional=True),
            status=_str(d, "status", where, optional=True) or "ok",
            updated_at=_str(d, "updated_at", where, optional=True) or "",
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
    def from_dict(cls, d: dict[str, Any], where: str = "a pending operation") -> PendingOperation:
        if not isinstance(d, dict):
            raise MalformedState(f"{where} is {_kind(d)}, expected an object")
        return cls(
            id=_str(d, "id", where),
            address=_str(d, "address", where),
            type=_str(d, "type", where),
            action=_str(d, "action", where),
            inputs=_obj(d, "inputs", where),
            physical_id=_str(d, "physical_id", where, optional=True),
            started_at=_str(d, "started_at", where, optional=True) or "",
            agent=_str(d, "agent", where, optional=True),
            dependencies=_str_list(d, "dependencies", where),
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
    # what this state describes: checked against the configuration by whoever reads it
    project: str | None = None
    account: str | None = None
    region: str | None = None
    # who wrote this version, when, with which command ({"at", "by", "command"}): set by the
    # backend on every write, read by `state history`
    written: dict[str, str] | None = None
    # progressive delivery (strands_deploy.rollout): per agent, the rollout in progress or the last
    # one, and the versions it deployed (plain JSON, owned by rollout/record.py)
    rollouts: dict[str, dict[str, Any]] = field(default_factory=dict)

    def to_dict(self, *, with_resources: bool = True) -> dict[str, Any]:
        doc = {
            "version": self.version,
            "tool_version": __version__,
            "environment": self.environment,
            "project": self.project,
            "account": self.account,
            "region": self.region,
            "lineage": self.lineage,
            "serial": self.serial,
            "pending": [p.to_dict() for p in self.pending.values()],
        }
        if with_resources:
            doc["resources"] = {a: r.to_dict() for a, r in sorted(self.resources.items())}
        if self.written is not None:
            doc["written"] = dict(self.written)
        if self.rollouts:
            doc["rollouts"] = self.rollouts
        return doc

    @staticmethod
    def version_of(d: Any) -> int:
        """The format version of a state document (checked before anything else is read)."""
        if not isinstance(d, dict):
            raise MalformedState(f"the top level is {_kind(d)}, expected an object")
        if "version" not in d:
            raise MalformedState("it has no `version` field")
        version = d["version"]
        if isinstance(version, bool) or not isinstance(version, int) or version < 1:
            raise MalformedState(
                f"the `version` field is invalid ({version!r}; expected a whole number such as 1)"
            )
        return version

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> State:
        version = cls.version_of(d)
        serial = d.get("serial")
        if isinstance(serial, bool) or not isinstance(serial, int) or serial < 0:
            shown = "missing" if "serial" not in d else repr(serial)
            raise MalformedState(f"the `serial` field is invalid ({shown}; expected a whole number >= 0)")
        lineage = _str(d, "lineage", "the state")
        if not lineage:
            raise MalformedState("the `lineage` field is empty")
        raw_resources = d.get("resources", {})
        if not isinstance(raw_resources, dict):
            raise MalformedState(
                f"`resources` is {_kind(raw_resources)}, expected an object (address → record)"
            )
        raw_pending = d.get("pending", [])
        if not isinstance(raw_pending, list):
            raise MalformedState(f"`pending` is {_kind(raw_pending)}, expected a list")
        resources = {a: ResourceState.from_dict(r, f"resource {a!r}") for a, r in raw_resources.items()}
        pending: dict[str, PendingOperation] = {}
        for i, p in enumerate(raw_pending):
            op = PendingOperation.from_dict(p, f"pending operation #{i + 1}")
            pending[op.id] = op
        return cls(
            environment=_str(d, "environment", "the state"),
            lineage=lineage,
            serial=serial,
            version=version,
            tool_version=_str(d, "tool_version", "the state", optional=True) or "",
            resources=resources,
            pending=pending,
            project=_str(d, "project", "the state", optional=True),
            account=_str(d, "account", "the state", optional=True),
            region=_str(d, "region", "the state", optional=True),
            written={str(k): str(v) for k, v in _obj(d, "written", "the state").items()} or None,
            rollouts={str(k): v for k, v in _obj(d, "rollouts", "the state").items() if isinstance(v, dict)},
        )

    def copy(self) -> State:
        import copy

        return State.from_dict(copy.deepcopy(self.to_dict()))
