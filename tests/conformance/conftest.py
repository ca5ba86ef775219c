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
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Protocol

import pytest

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


HARNESSES: dict[str, Callable[[Path], BackendHarness]] = {
    "local": LocalHarness,
    # "s3": S3Harness,  (the S3 backend joins here, against the moto server)
}


@pytest.fixture(params=sorted(HARNESSES))
def backend_factory(request: pytest.FixtureRequest, tmp_path: Path) -> BackendHarness:
    return HARNESSES[request.param](tmp_path / "state")
