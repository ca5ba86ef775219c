"""The in-memory state of a running command, persisted after every change with group commit.

Many threads record results at once. Each mutation bumps a generation number; the caller then
waits until a write that includes its generation is durable. One writer at a time serialises the
whole state; callers that arrive while it writes are covered by the next write, so N concurrent
results cost far fewer than N file writes, and no caller returns before its change is on disk.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from typing import Any

from strands_deploy.state.backend import StateBackend
from strands_deploy.state.model import PendingOperation, ResourceState, State


class StateStore:
    def __init__(self, backend: StateBackend, state: State) -> None:
        self.backend = backend
        self.state = state
        self._cond = threading.Condition()
        self._generation = 0
        self._flushed = 0
        self._writing = False
        self.writes = 0

    # -- mutations (each durable on return) ---------------------------------------------------
    def mutate(self, change: Callable[[State], Any]) -> Any:
        with self._cond:
            result = change(self.state)
            self._generation += 1
            mine = self._generation
        self._flush_until(mine)
        return result

    def begin(
        self,
        address: str,
        type_: str,
        action: str,
        inputs: dict[str, Any],
        physical_id: str | None = None,
        agent: str | None = None,
        dependencies: list[str] | None = None,
    ) -> str:
        op = PendingOperation(
            str(uuid.uuid4()),
            address,
            type_,
            action,
            inputs,
            physical_id,
            agent=agent,
            dependencies=list(dependencies or []),
        )
        self.mutate(lambda s: s.pending.__setitem__(op.id, op))
        return op.id

    def finish(self, op_id: str, address: str, record: ResourceState | None) -> None:
        def change(s: State) -> None:
            s.pending.pop(op_id, None)
            if record is None:
                s.resources.pop(address, None)
            else:
                s.resources[address] = record

        self.mutate(change)

    def abandon(self, op_id: str) -> None:
        """The call failed and nothing was created: drop the pending record."""
        self.mutate(lambda s: s.pending.pop(op_id, None))

    def get(self, address: str) -> ResourceState | None:
        with self._cond:
            return self.state.resources.get(address)

    def outputs(self, address: str) -> dict[str, Any] | None:
        with self._cond:
            r = self.state.resources.get(address)
            return dict(r.outputs) if r else None

    # -- persistence ----------------------------------------------------------------------------
    def _flush_until(self, generation: int) -> None:
        with self._cond:
            while self._flushed < generation:
                if self._writing:
                    self._cond.wait()
                    continue
                self._writing = True
                target = self._generation
                self.state.serial += 1
                # a consistent snapshot: records are replaced, never mutated, so shallow copies do
                snapshot = State(
                    environment=self.state.environment,
                    lineage=self.state.lineage,
                    serial=self.state.serial,
                    resources=dict(self.state.resources),
                    pending=dict(self.state.pending),
                )
                break
            else:
                return
        try:
            self.backend.write(snapshot)
            self.writes += 1
        finally:
            with self._cond:
                self._writing = False
                if self._flushed < target:
                    self._flushed = target
                self._cond.notify_all()
        if self._flushed < generation:
            self._flush_until(generation)

    def flush(self) -> None:
        self.mutate(lambda s: None)
