"""The S3 state backend: one object per environment, written only on top of what was read.

Layout under the configured key ``K`` (default ``<project>/<env>.json``):
- ``K``               the state (sealed when ``encrypt: client``); every version kept by bucket
                      versioning is its history;
- ``K.lock``          the lock (S3 conditional writes), unless a DynamoDB lock table is used;
- ``K.secrets-key``   the key that fingerprints secret values, shared by the team (sealed too);
- ``K.audit/<time>-<id>.json``  one object per audit record (append-only: created, never replaced).

Every state write is conditional on the ETag this object last read or wrote (``If-Match``), or
on there being no state (``If-None-Match: *``) when it saw none: a writer holding a stale copy (a
forced unlock, a restored laptop) is refused, never overwrites. S3 PUTs are atomic, so a crash
mid-write leaves the previous version readable.
"""

from __future__ import annotations

import dataclasses
import json
import secrets
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from strands_deploy.errors import StrandsDeployError
from strands_deploy.state.backend import (
    LockInfo,
    StateConflictError,
    StateVersion,
    StateWriteError,
    written_by,
)
from strands_deploy.state.crypto import Sealer, plain_sealer
from strands_deploy.state.document import check_successor, parse_state, state_bytes
from strands_deploy.state.keys import KEY_BYTES
from strands_deploy.state.locking import DEFAULT_PERIOD, ObjectLockSlot, SlotLock
from strands_deploy.state.model import State
from strands_deploy.state.remote import LockSlot, ObjectStore, PreconditionFailed, StoredObject, StoreError


def _iso(epoch: float | None) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch or 0))


class S3Backend:
    # writes are conditional on the ETag last read: the lock check may run during a write
    verify_alongside = True

    def __init__(
        self,
        store: ObjectStore,
        key: str,
        environment: str,
        *,
        lock_slot: LockSlot | None = None,
        sealer: Sealer | None = None,
        heartbeat_interval: float = DEFAULT_PERIOD,
    ) -> None:
        self.store = store
        self.key = key
        self.environment = environment
        self.sealer = sealer or plain_sealer()
        self.heartbeat_interval: float | None = heartbeat_interval
        self._slot = lock_slot or ObjectLockSlot(store, f"{key}.lock")
        self._lock = SlotLock(self._slot, environment, period=heartbeat_interval)
        self.identity: str | None = None
        self.command = "?"
        # what this object last saw stored: _etag None = no state; _observed False = never looked
        self._observed = False
        self._etag: str | None = None
        self._lineage: str | None = None
        self._serial: int | None = None
        self._secrets_key: bytes | None = None
        # the state as fetched right after this object took the lock (used once by ``read``)
        self._prefetched: tuple[StoredObject | None] | None = None
        self._mu = threading.Lock()

    @property
    def location(self) -> str:
        return self.store.location(self.key)

    @property
    def lock_location(self) -> str:
        return self._slot.location

    # -- state ------------------------------------------------------------------------------------
    def _restore_fix(self) -> str:
        return (
            "restore a previous version: `strands-deploy state history --env "
            f"{self.environment}` lists them, `state rollback N` restores one"
        )

    def _parse(self, body: bytes, where: str) -> State:
        return parse_state(self.sealer.open(body, where), where, self.environment, self._restore_fix())

    def _fetch(self) -> StoredObject | None:
        """The state object, with the secrets key fetched alongside the first time (synthesis
        needs it next)."""
        if self._secrets_key is None:
            with ThreadPoolExecutor(max_workers=1) as pool:
                key = pool.submit(self._prefetch_secrets_key)
                obj = self.store.get(self.key)
                key.result()
            return obj
        return self.store.get(self.key)

    def _prefetch_state(self) -> None:
        """Run while the lock is confirmed: the state as it is under the lock, for ``read``."""
        self._prefetched = (self._fetch(),)

    def read(self) -> State | None:
        prefetched, self._prefetched = self._prefetched, None
        obj = prefetched[0] if prefetched is not None else self._fetch()
        if obj is None:
            with self._mu:
                self._remember(None, None, None)
            return None
        state = self._parse(obj.body, self.location)
        with self._mu:
            older = (
                self._lineage == state.lineage and self._serial is not None and state.serial < self._serial
            )
            if not older:
                self._remember(obj.etag, state.lineage, state.serial)
        return state

    def _remember(self, etag: str | None, lineage: str | None, serial: int | None) -> None:
        self._observed = True
        self._etag = etag
        self._lineage = lineage
        self._serial = serial

    def write(self, state: State, *, force: bool = False) -> None:
        stamped = dataclasses.replace(state, written=written_by(self.identity, self.command))
        with self._mu:
            if not force:
                check_successor(state, self._lineage, self._serial, self.environment, self.location)
            body = self.sealer.seal(state_bytes(stamped))
            try:
                if self._etag is not None:
                    etag = self.store.put(self.key, body, if_match=self._etag)
                else:
                    etag = self.store.put(self.key, body, if_absent=True)
            except PreconditionFailed:
                raise self._conflict() from None
            except StoreError as e:
                raise StateWriteError(
                    f"the state could not be saved: {e.what}",
                    e.where,
                    f"{e.fix}; then run the command again (its journal lets the next deploy "
                    "recover what was in flight)",
                ) from None
            self._remember(etag, state.lineage, state.serial)

    def _conflict(self) -> StateConflictError:
        env = self.environment
        again = "run the command again: it reads the current state and plans from it"
        if not self._observed:
            what = "exists but this command never read it; writing would overwrite it"
        elif self._etag is None:
            what = "was created by another command while this one ran; this command's changes were not saved over it"
        else:
            what = (
                "was changed by another command since this one read it (or removed); this "
                "command's changes were not saved over it"
            )
        return StateConflictError(
            f"the state of environment {env!r} {what}",
            self.location,
            f"make sure only one command deploys {env!r} at a time (they take its lock), then {again}",
        )

    # -- lock -------------------------------------------------------------------------------------
    def lock(self, command: str) -> LockInfo:
        self.command = command
        try:
            return self._lock.lock(command, self.identity, alongside=self._prefetch_state)
        except BaseException:
            self._prefetched = None  # read under someone else's lock: never used
            raise

    def unlock(self, lock: LockInfo | None = None, force: bool = False) -> None:
        self._lock.unlock(lock, force)

    def lock_info(self) -> LockInfo | None:
        return self._lock.holder()

    def verify_lock(self, lock: LockInfo) -> None:
        self._lock.verify(lock)

    def heartbeat(self, lock: LockInfo) -> None:
        self._lock.heartbeat(lock)

    # -- history ----------------------------------------------------------------------------------
    def versions(self, limit: int | None = None) -> list[StateVersion]:
        found = [
            StateVersion(ref=v.version_id, at=_iso(v.last_modified), deleted=v.deleted)
            for v in self.store.versions(self.key)
        ]
        return found[:limit] if limit else found

    def read_version(self, ref: str) -> State:
        obj = self.store.get(self.key, version_id=ref)
        if obj is None:
            raise StrandsDeployError(
                f"there is no stored version {ref!r} of environment {self.environment!r}",
                self.location,
                f"list the versions with `strands-deploy state history --env {self.environment}`",
            )
        return self._parse(obj.body, f"{self.location} (version {ref})")

    # -- audit trail ------------------------------------------------------------------------------
    @property
    def _audit_prefix(self) -> str:
        return f"{self.key}.audit/"

    def append_audit(self, record: dict[str, Any]) -> None:
        stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime()) + f".{time.time_ns() % 10**9:09d}Z"
        key = f"{self._audit_prefix}{stamp}-{uuid.uuid4().hex[:8]}.json"
        body = self.sealer.seal(json.dumps(record, separators=(",", ":"), sort_keys=True).encode())
        try:
            self.store.put(key, body, if_absent=True)
        except PreconditionFailed:  # an id collision: never overwrite a record
            self.store.put(f"{key[:-5]}-{uuid.uuid4().hex}.json", body, if_absent=True)

    def audit(self, limit: int | None = None) -> list[dict[str, Any]]:
        keys = sorted(self.store.list_keys(self._audit_prefix), reverse=True)
        keys = keys[:limit] if limit else keys

        def fetch(key: str) -> dict[str, Any] | None:
            obj = self.store.get(key)
            if obj is None:
                return None
            try:
                record = json.loads(self.sealer.open(obj.body, self.store.location(key)))
            except ValueError:
                return None
            except StrandsDeployError as e:  # one unreadable record never hides the others
                return {"at": key.rsplit("/", 1)[-1][:15], "result": "unreadable", "detail": e.what}
            return record if isinstance(record, dict) else None

        with ThreadPoolExecutor(max_workers=max(1, min(8, len(keys)))) as pool:
            return [r for r in pool.map(fetch, keys) if r is not None]

    # -- secrets key, migration -------------------------------------------------------------------
    def _prefetch_secrets_key(self) -> None:
        """Read an existing secrets key (never create one: a read-only command must not write)."""
        key_name = f"{self.key}.secrets-key"
        try:
            obj = self.store.get(key_name)
            if obj is not None:
                value = self.sealer.open(obj.body, self.store.location(key_name))
                if len(value) == KEY_BYTES:
                    with self._mu:
                        self._secrets_key = value
        except StrandsDeployError:
            pass  # secrets_key() reads it again and reports the problem where it matters

    def secrets_key(self, initial: bytes | None = None, *, replace: bool = False) -> bytes:
        """Shared by everyone deploying this environment, so a secret's fingerprint is the same
        on every machine; created once (conditional create: concurrent first users agree)."""
        key_name = f"{self.key}.secrets-key"
        if replace and initial is not None and len(initial) == KEY_BYTES:
            self.store.put(key_name, self.sealer.seal(initial))
            with self._mu:
                self._secrets_key = initial
            return initial
        with self._mu:
            if self._secrets_key is not None:
                return self._secrets_key
        obj = self.store.get(key_name)
        if obj is None:
            fresh = (
                initial
                if initial is not None and len(initial) == KEY_BYTES
                else secrets.token_bytes(KEY_BYTES)
            )
            try:
                self.store.put(key_name, self.sealer.seal(fresh), if_absent=True)
                value = fresh
            except PreconditionFailed:
                obj = self.store.get(key_name)
        if obj is not None:
            value = self.sealer.open(obj.body, self.store.location(key_name))
            if len(value) != KEY_BYTES:
                raise StrandsDeployError(
                    "the secrets' fingerprint key is damaged",
                    self.store.location(key_name),
                    "delete it: the next plan shows every secret as changed once, then all agree again",
                )
        with self._mu:
            self._secrets_key = value
        return value

    def retire(self) -> str:
        with self._mu:
            etag = self._etag
        if etag is None:
            raise StrandsDeployError(
                "the state to move away was not read first", self.location, "run the command again"
            )
        try:
            self.store.delete(self.key, if_match=etag)
        except PreconditionFailed:
            raise self._conflict() from None
        with self._mu:
            self._remember(None, None, None)
        kept = (
            " (kept as a previous version: bucket versioning is on)"
            if self.store.versioning_enabled()
            else ""
        )
        return f"deleted {self.location}{kept}"
