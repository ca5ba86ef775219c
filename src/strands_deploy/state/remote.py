"""The storage a remote state backend is built on, as small protocols the aws layer implements.

``state/`` sits below ``aws/`` and imports no botocore: the S3 backend (``state/s3.py``) works on
an :class:`ObjectStore` and a :class:`LockSlot`; ``aws/object_store.py`` and ``aws/lock_table.py``
implement them over boto3, converting every botocore failure once, at that boundary. Tests pass
the real adapters against a moto server, or fakes.

Guarantees an implementation keeps:
- ``put(if_absent=True)`` succeeds for exactly one of any number of concurrent callers; the others
  get :class:`PreconditionFailed` (S3: ``If-None-Match: *``; DynamoDB: a condition expression).
- ``put(if_match=etag)`` / ``delete(if_match=etag)`` apply only while the object is still that
  version; otherwise (changed, or gone) :class:`PreconditionFailed` and nothing changes.
- A ``put`` is atomic: a reader sees the previous body or the new one, never a mix.
- Any other failure is a :class:`StoreError` whose what / where / fix a user can act on (missing
  bucket: the fix is ``strands-deploy state bootstrap``; access denied: the action to grant).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from strands_deploy.errors import StrandsDeployError


class PreconditionFailed(Exception):
    """A conditional put or delete did not apply: the object is not (or no longer) the expected
    version, or it exists when it was required to be absent."""


class StoreError(StrandsDeployError):
    """The store could not be reached or refused the call; nothing was changed by that call."""


@dataclass(frozen=True)
class StoredObject:
    body: bytes
    etag: str  # opaque version token for if_match (S3: the ETag, quotes included)
    version_id: str | None = None  # S3 version id when the bucket keeps versions
    last_modified: float | None = None  # epoch seconds, by the store's clock
    server_time: float | None = None  # the store's clock when it answered (HTTP Date), epoch seconds


@dataclass(frozen=True)
class ObjectVersion:
    version_id: str
    last_modified: float  # epoch seconds, by the store's clock
    is_latest: bool
    deleted: bool = False  # a delete marker (the object was deleted at that point)


class ObjectStore(Protocol):
    """Objects under one bucket. Keys are full object keys."""

    def location(self, key: str) -> str:
        """How a user finds ``key``: ``s3://bucket/key``."""
        ...

    def get(self, key: str, version_id: str | None = None) -> StoredObject | None:
        """The object (a given version when ``version_id``), None when there is no such object."""
        ...

    def put(self, key: str, body: bytes, *, if_match: str | None = None, if_absent: bool = False) -> str:
        """Store ``body`` atomically and return its etag. ``if_absent``: only if no object exists;
        ``if_match``: only if the current object has this etag (a missing object fails too)."""
        ...

    def delete(self, key: str, *, if_match: str | None = None) -> None:
        """Delete ``key`` (a missing object is not an error unless ``if_match`` is given)."""
        ...

    def list_keys(self, prefix: str) -> list[str]:
        """Every key under ``prefix``, sorted."""
        ...

    def versions(self, key: str) -> list[ObjectVersion]:
        """Every stored version of exactly ``key``, newest first ([] when there is none)."""
        ...

    def versioning_enabled(self) -> bool:
        """Whether the bucket keeps every version of an object."""
        ...


@dataclass(frozen=True)
class LockRecord:
    body: bytes  # the lock record as JSON (LockInfo.to_dict)
    token: str  # what ``replace`` and ``delete`` are conditional on
    age: float | None = None  # seconds since the record was last written, when known


class LockSlot(Protocol):
    """One lock (for one state): created only when free, replaced and deleted only by the
    holder of the current token."""

    @property
    def location(self) -> str: ...

    def create(self, body: bytes) -> str:
        """Take the lock; its token. PreconditionFailed when a lock record exists."""
        ...

    def read(self) -> LockRecord | None:
        """The current lock record, None when the lock is free."""
        ...

    def replace(self, body: bytes, token: str) -> str:
        """Rewrite the record (a heartbeat); the new token. PreconditionFailed when the current
        record is not ``token`` (the lock was released or taken by someone else)."""
        ...

    def delete(self, token: str) -> None:
        """Release. PreconditionFailed when the current record is not ``token`` (a missing record
        is not an error: nothing to release)."""
        ...
