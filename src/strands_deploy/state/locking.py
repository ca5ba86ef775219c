"""A state lock kept in a remote :class:`LockSlot` (an S3 object or a DynamoDB item).

Taking the lock is one conditional create, so of any number of concurrent commands exactly one
wins and the others are told who holds it. The holder refreshes its record every ``period``
seconds (``heartbeat``, run by a thread while the command holds the lock): a record silent for two
periods is reported as stale, wherever its holder ran. Every refresh and the release are
conditional on the token of the record this holder last wrote, so a holder whose lock was forced
away can neither refresh nor delete the new holder's lock: its next refresh fails, and from then
on ``verify`` (called before every state write, without a network call) raises
:class:`LockLostError`.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from strands_deploy.errors import StrandsDeployError
from strands_deploy.state.backend import LockInfo, LockLostError, locked_error
from strands_deploy.state.model import now
from strands_deploy.state.remote import LockRecord, LockSlot, ObjectStore, PreconditionFailed

DEFAULT_PERIOD = 30.0


class SlotLock:
    def __init__(self, slot: LockSlot, environment: str, *, period: float = DEFAULT_PERIOD) -> None:
        self.slot = slot
        self.environment = environment
        self.period = period
        self._held: LockInfo | None = None
        self._token: str | None = None
        self._lost: LockLostError | None = None
        self._mu = threading.Lock()

    def lock(
        self, command: str, identity: str | None, alongside: Callable[[], None] | None = None
    ) -> LockInfo:
        """Take the lock: a conditional create, then a read-back that the record is ours (a store
        whose conditional create is not atomic, like some S3 emulators, can let two creates
        through; only the one whose record stayed holds the lock). ``alongside`` runs during the
        read-back (the S3 backend fetches the state meanwhile)."""
        info = LockInfo.for_this_process(command, identity, self.period)
        try:
            token = self.slot.create(_body(info))
        except PreconditionFailed:
            raise locked_error(self.environment, self.slot.location, self.holder()) from None
        with ThreadPoolExecutor(max_workers=1) as pool:
            side = pool.submit(alongside) if alongside is not None else None
            record = self.slot.read()
            if side is not None:
                side.result()
        holder = None if record is None else _parse(record)
        if holder is None or holder.id != info.id:
            raise locked_error(self.environment, self.slot.location, holder)
        with self._mu:
            self._held, self._token, self._lost = info, record.token if record else token, None
        return info

    def holder(self) -> LockInfo | None:
        record = self.slot.read()
        return None if record is None else _parse(record)

    def heartbeat(self, lock: LockInfo) -> None:
        """Refresh the record; LockLostError (remembered for ``verify``) when it is not ours."""
        with self._mu:
            self._check_mine(lock)
            token = self._token
        assert token is not None
        try:
            new_token = self.slot.replace(_body(lock), token)
        except PreconditionFailed:
            with self._mu:
                self._lost = self._lost_error(self._safe_holder())
                raise self._lost from None
        with self._mu:
            if self._token == token:
                self._token = new_token

    def verify(self, lock: LockInfo) -> None:
        """Raise LockLostError unless ``lock`` is still the current record (one small read;
        called before every state write, so a forced unlock stops the run at its next write)."""
        with self._mu:
            if self._lost is None:
                self._check_mine(lock)
        holder = self.holder()
        if holder is None or holder.damaged or holder.id != lock.id:
            with self._mu:
                self._lost = self._lost_error(holder)
                raise self._lost

    def _check_mine(self, lock: LockInfo) -> None:
        if self._lost is not None:
            raise self._lost
        if self._held is None or self._held.id != lock.id:
            raise LockLostError(
                f"this command does not hold the lock on environment {self.environment!r}",
                self.slot.location,
                "run the command again",
            )

    def _safe_holder(self) -> LockInfo | None:
        with contextlib.suppress(StrandsDeployError):
            return self.holder()
        return None

    def _lost_error(self, holder: LockInfo | None) -> LockLostError:
        env = self.environment
        what = (
            f"the lock on environment {env!r} was released while this command held it (a forced unlock)"
            if holder is None
            else f"the lock on environment {env!r} is now held by {holder.describe()}, not by this command"
        )
        return LockLostError(
            what + "; it stopped so that two commands never change the state at once",
            self.slot.location,
            "check what the other command changed (`strands-deploy state history`), then run this command again",
        )

    def unlock(self, lock: LockInfo | None = None, force: bool = False) -> None:
        """Release our lock; with ``force``, the current lock (only if its id is ``lock.id``
        when a lock is named: a lock taken since it was shown to the user is never removed)."""
        if force:
            self._force(lock)
            return
        with self._mu:
            mine, token = self._held, self._token
        if mine is None or token is None or (lock is not None and lock.id != mine.id):
            holder = self.holder()
            if holder is None:
                return
            raise self._not_ours(holder)
        try:
            self.slot.delete(token)
        except PreconditionFailed:
            holder = self.holder()
            if holder is not None and holder.id != mine.id:
                raise self._not_ours(holder) from None
        finally:
            with self._mu:
                self._held = self._token = None

    def _force(self, lock: LockInfo | None) -> None:
        record = self.slot.read()
        if record is None:
            return
        holder = _parse(record)
        if lock is not None and holder.id != lock.id:
            raise StrandsDeployError(
                f"the lock of environment {self.environment!r} is now {holder.describe()} "
                f"(id {holder.id}), not the lock {lock.id}: nothing was released",
                self.slot.location,
                "check who holds it now; release that lock only if you are sure it is stale",
            )
        try:
            self.slot.delete(record.token)
        except PreconditionFailed:
            raise StrandsDeployError(
                f"the lock of environment {self.environment!r} changed while it was being released",
                self.slot.location,
                "run `strands-deploy state unlock` again to see who holds it now",
            ) from None

    def _not_ours(self, holder: LockInfo) -> StrandsDeployError:
        return StrandsDeployError(
            f"the lock is held by {holder.describe()}, not by this command",
            self.slot.location,
            f"use `strands-deploy state unlock --env {self.environment} --force {holder.id or '<LOCK_ID>'}` "
            "if you are sure it is stale",
        )


def _parse(record: LockRecord) -> LockInfo:
    try:
        data = json.loads(record.body)
    except (ValueError, RecursionError):
        return LockInfo.broken("not valid JSON")
    info = LockInfo.from_dict(data)
    info.silent_for = record.age
    return info


def _body(info: LockInfo) -> bytes:
    return json.dumps({**info.to_dict(), "heartbeat_at": now()}, separators=(",", ":")).encode()


class ObjectLockSlot:
    """A lock slot that is one object of an :class:`ObjectStore` (S3 conditional writes)."""

    def __init__(self, store: ObjectStore, key: str) -> None:
        self.store = store
        self.key = key

    @property
    def location(self) -> str:
        return self.store.location(self.key)

    def create(self, body: bytes) -> str:
        return self.store.put(self.key, body, if_absent=True)

    def read(self) -> LockRecord | None:
        obj = self.store.get(self.key)
        if obj is None:
            return None
        age = None
        if obj.server_time is not None and obj.last_modified is not None:
            age = max(0.0, obj.server_time - obj.last_modified)
        return LockRecord(obj.body, obj.etag, age)

    def replace(self, body: bytes, token: str) -> str:
        return self.store.put(self.key, body, if_match=token)

    def delete(self, token: str) -> None:
        try:
            self.store.delete(self.key, if_match=token)
        except PreconditionFailed:
            if self.store.get(self.key) is not None:
                raise
