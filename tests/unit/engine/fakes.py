"""Fakes passed into the engine (never patched in): a cloud, a provider over it that can fail any
call before or after "AWS acted", and a state backend that can fail writes or lose its lock."""

from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass, field
from typing import Any, ClassVar

from strands_deploy.errors import StrandsDeployError
from strands_deploy.providers.base import Created, Outputs, Props, Provider, ProviderContext
from strands_deploy.state.backend import LockInfo
from strands_deploy.state.model import State


class Crash(BaseException):
    """The process dies here (kill -9): nothing after this line of the engine runs."""


class FakeAwsError(StrandsDeployError):
    def __init__(self, code: str, message: str = "") -> None:
        self.code = code
        self.response = {"Error": {"Code": code, "Message": message or code}}
        super().__init__(f"{code}: {message}", None, "fake")


@dataclass
class FakeCloud:
    """What exists: physical id -> {"type", "name", "props", "tags"}."""

    items: dict[str, dict[str, Any]] = field(default_factory=dict)
    calls: list[tuple[str, str]] = field(default_factory=list)
    # (operation, address) -> "before" (fails, nothing happens) | "after" (acts, then fails) | "crash"
    faults: dict[tuple[str, str], str] = field(default_factory=dict)
    ids: Any = field(default_factory=lambda: itertools.count(1))
    lock: threading.Lock = field(default_factory=threading.Lock)

    def fault(self, op: str, address: str) -> str | None:
        return self.faults.pop((op, address), None)

    def by_name(self, type_: str, name: str) -> list[str]:
        return [pid for pid, it in self.items.items() if it["type"] == type_ and it["name"] == name]


class FakeProvider(Provider):
    type_name: ClassVar[str] = "fake.thing"
    replace_on: ClassVar[frozenset[str]] = frozenset({"key"})
    stable_outputs: ClassVar[frozenset[str]] = frozenset({"arn", "name"})

    def __init__(self, cloud: FakeCloud, type_name: str = "fake.thing", random_id: bool = False) -> None:
        self.cloud = cloud
        self.type_name = type_name  # type: ignore[misc]
        self.random_id = random_id  # type: ignore[misc]

    def _step(self, op: str, address: str, act: Any) -> Any:
        with self.cloud.lock:
            self.cloud.calls.append((op, address))
        fault = self.cloud.fault(op, address)
        if fault == "before":
            raise FakeAwsError("InternalFailure", f"{op} failed before acting")
        result = act()
        if fault == "after":
            raise FakeAwsError("RequestTimeout", f"{op}: the response was lost")
        if fault == "crash":
            raise Crash()
        return result

    def _outputs(self, pid: str) -> Outputs:
        it = self.cloud.items[pid]
        return {
            "arn": f"arn:fake:{it['name']}:{pid}",
            "name": it["name"],
            "observed": {**it["props"], "tags": dict(it["tags"])},
        }

    def create(self, ctx: ProviderContext, address: str, props: Props) -> Created:
        name = str(props["name"])

        def act() -> str:
            with self.cloud.lock:
                if not self.random_id and self.cloud.by_name(self.type_name, name):
                    raise FakeAwsError("ResourceAlreadyExistsException", f"{name} already exists")
                pid = name if not self.random_id else f"id-{next(self.cloud.ids)}"
                self.cloud.items[pid] = {
                    "type": self.type_name,
                    "name": name,
                    "props": {k: v for k, v in props.items() if k != "tags"},
                    "tags": dict(props.get("tags") or {}),
                }
                return pid

        pid = self._step("create", address, act)
        return Created(pid, self._outputs(pid))

    def read(self, ctx: ProviderContext, address: str, physical_id: str, props: Props) -> Outputs | None:
        fault = self.cloud.fault("read", address)
        if fault:
            raise FakeAwsError("InternalFailure", "read failed")
        with self.cloud.lock:
            return self._outputs(physical_id) if physical_id in self.cloud.items else None

    def update(
        self, ctx: ProviderContext, address: str, physical_id: str, old: Props, new: Props, outputs: Outputs
    ) -> Outputs:
        def act() -> None:
            with self.cloud.lock:
                it = self.cloud.items[physical_id]
                it["props"] = {k: v for k, v in new.items() if k != "tags"}
                it["tags"] = dict(new.get("tags") or {})

        self._step("update", address, act)
        return self._outputs(physical_id)

    def delete(
        self, ctx: ProviderContext, address: str, physical_id: str, props: Props, outputs: Outputs
    ) -> None:
        def act() -> None:
            with self.cloud.lock:
                self.cloud.items.pop(physical_id, None)

        self._step("delete", address, act)

    def find(self, ctx: ProviderContext, address: str, props: Props) -> Created | None:
        fault = self.cloud.fault("find", address)
        if fault:
            raise FakeAwsError("InternalFailure", "find failed")
        with self.cloud.lock:
            for pid in self.cloud.by_name(self.type_name, str(props["name"])):
                tags = self.cloud.items[pid]["tags"]
                if (
                    tags.get("strands:project") == ctx.project
                    and tags.get("strands:environment") == ctx.environment
                ):
                    return Created(pid, self._outputs(pid))
        return None


class MemoryBackend:
    """A state backend in memory; ``fail_writes_after`` makes the N+1th write fail (disk full)."""

    def __init__(self, environment: str = "dev") -> None:
        self.environment = environment
        self.stored: dict[str, Any] | None = None
        self.writes = 0
        self.fail_writes_after: int | None = None
        self.lock_id: str | None = None

    @property
    def location(self) -> str:
        return f"memory://{self.environment}"

    def read(self) -> State | None:
        return State.from_dict(self.stored) if self.stored else None

    def write(self, state: State) -> None:
        if self.fail_writes_after is not None and self.writes >= self.fail_writes_after:
            raise StrandsDeployError(
                "the local disk is full: the state could not be saved", self.location, "free space"
            )
        self.stored = state.to_dict()
        self.writes += 1

    def lock(self, command: str) -> LockInfo:
        info = LockInfo("lock-1", "me", "host", 1, "now", command)
        self.lock_id = info.id
        return info

    def unlock(self, lock: LockInfo | None = None, force: bool = False) -> None:
        self.lock_id = None

    def lock_info(self) -> LockInfo | None:
        return None

    def verify_lock(self, lock: LockInfo) -> None:
        if self.lock_id != lock.id:
            raise StrandsDeployError(
                "the state lock was taken away (a forced unlock)", self.location, "deploy again"
            )
