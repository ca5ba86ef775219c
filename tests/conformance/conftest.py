"""The state backend conformance harness.

Every backend passes the same tests (as OpenTofu's ``statemgr.TestFull``). A backend joins the
suite by adding one harness class to ``HARNESSES``: the harness makes backend objects for an
environment and offers the few things a test cannot do through the protocol itself (forge a lock
record as another process would leave it, damage the lock, make the storage refuse writes).
"""

from __future__ import annotations

import contextlib
import json
import resource
import signal
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Protocol

import pytest

from strands_deploy.aws.session import AwsContext
from strands_deploy.state.backend import LocalFileBackend, StateBackend


class BackendHarness(Protocol):
    def backend(self, env: str = "dev") -> StateBackend:
        """A new backend object on ``env`` (two objects on one environment act as two processes)."""
        ...

    def write_lock_record(self, env: str, record: dict[str, Any]) -> None:
        """Store ``record`` as the lock of ``env`` (as another process would have left it)."""
        ...

    def write_lock_bytes(self, env: str, data: bytes) -> None:
        """Store raw bytes as the lock of ``env`` (a damaged lock)."""
        ...

    def failing_writes(self) -> contextlib.AbstractContextManager[None]:
        """Within this block every state write fails at the storage (e.g. a full disk)."""
        ...

    def leftovers(self, env: str) -> list[str]:
        """Partial writes left behind (temp files, incomplete uploads): must stay empty."""
        ...


class LocalHarness:
    def __init__(self, root: Path) -> None:
        self.root = root

    def backend(self, env: str = "dev") -> StateBackend:
        return LocalFileBackend(self.root, env)

    def write_lock_record(self, env: str, record: dict[str, Any]) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        (self.root / f"{env}.lock").write_text(json.dumps(record))

    def write_lock_bytes(self, env: str, data: bytes) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        (self.root / f"{env}.lock").write_bytes(data)

    @contextlib.contextmanager
    def failing_writes(self) -> Iterator[None]:
        # A real failure from the kernel, not a patched function: a file-size limit of a few bytes
        # makes the temp file's write fail (EFBIG) exactly like a full disk fails it (ENOSPC);
        # permissions cannot be used since root (these tests may run as root) ignores them.
        soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
        previous = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # report EFBIG, do not kill us
        resource.setrlimit(resource.RLIMIT_FSIZE, (16, hard))
        try:
            yield
        finally:
            resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
            signal.signal(signal.SIGXFSZ, previous)

    def leftovers(self, env: str) -> list[str]:
        if not self.root.exists():
            return []
        return sorted(p.name for p in self.root.iterdir() if p.name.endswith(".tmp"))


BUCKET = "acme-state"


class S3Harness:
    """The S3 backend on a real moto server over HTTP, through the real boto3 adapters.

    ``failing_writes`` answers every PutObject with S3's own 403 AccessDenied (a botocore
    ``before-send`` hook stands in for a bucket policy, which moto does not enforce): the failure
    travels the same path as one from AWS, through the adapter's error conversion.
    """

    def __init__(self, aws: AwsContext, heartbeat_interval: float = 30.0) -> None:
        self.aws = aws
        self.s3 = aws.client("s3")
        self.heartbeat_interval = heartbeat_interval
        self.s3.create_bucket(Bucket=BUCKET)
        self.s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})

    def key(self, env: str) -> str:
        return f"acme/{env}.json"

    def backend(self, env: str = "dev") -> StateBackend:
        from strands_deploy.aws.object_store import S3ObjectStore
        from strands_deploy.state.s3 import S3Backend

        store = S3ObjectStore(self.s3, BUCKET)
        return S3Backend(store, self.key(env), env, heartbeat_interval=self.heartbeat_interval)

    def write_lock_record(self, env: str, record: dict[str, Any]) -> None:
        self.write_lock_bytes(env, json.dumps(record).encode())

    def write_lock_bytes(self, env: str, data: bytes) -> None:
        self.s3.put_object(Bucket=BUCKET, Key=f"{self.key(env)}.lock", Body=data)

    @contextlib.contextmanager
    def failing_writes(self) -> Iterator[None]:
        from botocore.awsrequest import AWSResponse

        class Raw:
            def stream(self, *args: Any, **kwargs: Any) -> Iterator[bytes]:
                yield (
                    b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code>'
                    b"<Message>Access Denied</Message></Error>"
                )

        def deny(request: Any, **kwargs: Any) -> AWSResponse:
            return AWSResponse(request.url, 403, {}, Raw())

        events = self.s3.meta.events
        events.register("before-send.s3.PutObject", deny, unique_id="conformance-deny")
        try:
            yield
        finally:
            events.unregister("before-send.s3.PutObject", unique_id="conformance-deny")

    def leftovers(self, env: str) -> list[str]:
        uploads = self.s3.list_multipart_uploads(Bucket=BUCKET).get("Uploads", [])
        return sorted(u["Key"] for u in uploads)


LOCK_TABLE = "acme-locks"


class S3DynamoHarness(S3Harness):
    """The S3 backend whose lock is an item of a Terraform-compatible DynamoDB lock table (lock id
    ``<bucket>/<key>``, as ``make_backend`` names it), both on the same moto server.

    A forged or damaged lock is written as :class:`DynamoLockSlot` writes its item (``LockID``,
    ``Info``, ``Token``, ``Heartbeat``). DynamoDB strings must be valid UTF-8, so bytes that are not
    (``b"\\xff\\xfe\\x00"``) cannot be an ``Info`` string at all: they are stored as a binary ``Info``,
    the damaged item another tool could leave behind.
    """

    def __init__(self, aws: AwsContext, heartbeat_interval: float = 30.0) -> None:
        super().__init__(aws, heartbeat_interval)
        self.ddb = aws.client("dynamodb")
        self.ddb.create_table(
            TableName=LOCK_TABLE,
            AttributeDefinitions=[{"AttributeName": "LockID", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "LockID", "KeyType": "HASH"}],
            BillingMode="PAY_PER_REQUEST",
        )

    def lock_id(self, env: str) -> str:
        return f"{BUCKET}/{self.key(env)}"

    def backend(self, env: str = "dev") -> StateBackend:
        from strands_deploy.aws.lock_table import DynamoLockSlot
        from strands_deploy.aws.object_store import S3ObjectStore
        from strands_deploy.state.s3 import S3Backend

        store = S3ObjectStore(self.s3, BUCKET)
        slot = DynamoLockSlot(self.ddb, LOCK_TABLE, self.lock_id(env))
        return S3Backend(
            store, self.key(env), env, lock_slot=slot, heartbeat_interval=self.heartbeat_interval
        )

    def write_lock_bytes(self, env: str, data: bytes) -> None:
        try:
            info: dict[str, Any] = {"S": data.decode("utf-8")}
        except UnicodeDecodeError:
            info = {"B": data}
        self.ddb.put_item(
            TableName=LOCK_TABLE,
            Item={
                "LockID": {"S": self.lock_id(env)},
                "Info": info,
                "Token": {"S": uuid.uuid4().hex},
                "Heartbeat": {"N": repr(time.time())},
            },
        )


HARNESSES: dict[str, Callable[[pytest.FixtureRequest, Path], BackendHarness]] = {
    "local": lambda request, tmp: LocalHarness(tmp / "state"),
    "s3": lambda request, tmp: S3Harness(request.getfixturevalue("aws")),
    "s3-dynamodb": lambda request, tmp: S3DynamoHarness(request.getfixturevalue("aws")),
}


@pytest.fixture(params=sorted(HARNESSES))
def backend_factory(request: pytest.FixtureRequest, tmp_path: Path) -> BackendHarness:
    return HARNESSES[request.param](request, tmp_path)
