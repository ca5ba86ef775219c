"""The in-memory state of a running command, persisted after every change with group commit.

Many threads record results at once. Each mutation bumps a generation number; the caller then
waits until a write that includes its generation is durable. One writer at a time serialises the
whole state; callers that arrive while it writes are covered by the next write, so N concurrent
results cost far fewer than N file writes, and no caller returns before its change is on disk.

A write that fails (disk full, read-only folder, the lock taken away by a forced unlock) is never
reported as saved: it is raised to every caller whose change was in that batch and to every later
caller, and ``on_failure`` listeners (the engine) stop starting AWS calls.
"""

from __future__ import annotations

import dataclasses
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from strands_deploy.errors import StrandsDeployError
from strands_deploy.state.backend import LockInfo, StateBackend
from strands_deploy.state.model import PendingOperation, ResourceState, State


class StateStore:
    def __init__(self, backend: StateBackend, state: State, lock: LockInfo | None = None) -> None:
        self.backend = backend
        self.state = state
        self.lock = lock  # when held: checked before every write (a forced unlock stops the run)
        self._cond = threading.Condition()
        self._generation = 0
        self._flushed = 0
        self._writing = False
        self.writes = 0
        self.failure: StrandsDeployError | None = None
        self._listeners: list[Callable[[StrandsDeployError], None]] = []

    def on_failure(self, listener: Callable[[StrandsDeployError], None]) -> None:
        self._listeners.append(listener)

    # -- mutations (each durable on return) ---------------------------------------------------
    def mutate(self, change: Callable[[State], Any]) -> Any:
        with self._cond:
            if self.failure is not None:
                raise self.failure
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

    def finish(self, op_id: str, address: str, record: ResourceState | None, *, durable: bool = True) -> None:
        """The operation ``op_id`` is done: its result replaces the pending record. With
        ``durable=False`` the caller does not wait for the write: the next durable change (the next
        ``begin``, which must be on disk before its AWS call) or ``flush`` carries it. Until then
        the disk still shows the operation as pending, which a crash's recovery resolves by reading
        AWS, so nothing is lost; an apply saves twice as few times per resource."""

        def change(s: State) -> None:
            s.pending.pop(op_id, None)
            if record is None:
                s.resources.pop(address, None)
            else:
                s.resources[address] = record

        if durable:
            self.mutate(change)
            return
        with self._cond:
            if self.failure is not None:
                raise self.failure
            change(self.state)
            self._generation += 1

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
        while True:
            with self._cond:
                while self._writing and self._flushed < generation and self.failure is None:
                    self._cond.wait()
                if self.failure is not None:
                    raise self.failure
                if self._flushed >= generation:
                    return
                self._writing = True
                target = self._generation
                # a consistent snapshot: records are replaced, never mutated, so shallow copies do
                snapshot = dataclasses.replace(
                    self.state,
                    serial=self.state.serial + 1,
                    resources=dict(self.state.resources),
                    pending=dict(self.state.pending),
                )
            error: StrandsDeployError | None = None
            try:
                self._write(snapshot)
            except StrandsDeployError as exc:
                error = exc
            except OSError as exc:  # a backend that did not convert its own failure
                error = StrandsDeployError(
                    f"the state could not be saved: {exc.strerror or exc}",
                    self.backend.location,
                    "fix the cause (disk space, permissions) and run the command again",
                )
            with self._cond:
                self._writing = False
                if error is None:
                    self.state.serial = snapshot.serial
                    self._flushed = max(self._flushed, target)
                    self.writes += 1
                else:
                    self.failure = error
                self._cond.notify_all()
            if error is not None:
                for listener in self._listeners:
                    listener(error)
                raise error

    def _write(self, snapshot: State) -> None:
        verify = getattr(self.backend, "verify_lock", None)
        if self.lock is None or verify is None:
            self.backend.write(snapshot)
        elif getattr(self.backend, "verify_alongside", False):
            # A remote backend whose writes are conditional on the version last read (S3's ETag)
            # cannot overwrite anyone's work without the lock, so the lock check (a network read)
            # runs during the write instead of before it: a lost lock still stops the run at this
            # write, without adding a round trip to every journal entry.
            with ThreadPoolExecutor(max_workers=1) as pool:
                check = pool.submit(verify, self.lock)
                try:
                    self.backend.write(snapshot)
                finally:
                    check.result()
        else:
            verify(self.lock)
            self.backend.write(snapshot)

    def flush(self) -> None:
        self.mutate(lambda s: None)
