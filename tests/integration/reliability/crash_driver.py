"""Runs a deploy that kills its own process (SIGKILL) at a chosen point.

Usage: python crash_driver.py PROJECT_DIR create:N|write:N

The faults are injected through the seams the services offer (a provider lookup and a state
backend passed in), not by patching: after the N-th provider create returns (before its result is
recorded), or in the middle of the N-th state write (temp file half written, never renamed).
"""

from __future__ import annotations

import os
import signal
import sys
import tempfile
from pathlib import Path
from typing import Any

from strands_deploy import services as svc
from strands_deploy.providers.registry import get_provider
from strands_deploy.state.backend import LocalFileBackend
from strands_deploy.state.model import State


def die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


class KillAfterCreate:
    count = 0

    def __init__(self, inner: Any, target: int) -> None:
        self.inner = inner
        self.target = target

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def create(self, *args: Any, **kwargs: Any) -> Any:
        created = self.inner.create(*args, **kwargs)
        KillAfterCreate.count += 1
        if KillAfterCreate.count == self.target:
            die()
        return created


class KillDuringWrite(LocalFileBackend):
    def __init__(self, root: Path, environment: str, target: int) -> None:
        super().__init__(root, environment)
        self.target = target
        self.count = 0

    def write(self, state: State) -> None:
        self.count += 1
        if self.count == self.target:
            import json

            data = json.dumps(state.to_dict()).encode()
            fd, _ = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.", suffix=".tmp")
            os.write(fd, data[: len(data) // 2])
            die()
        super().write(state)


def main() -> None:
    root, point = Path(sys.argv[1]), sys.argv[2]
    kind, n = point.split(":")
    services = svc.open_services(root, "local")
    if kind == "create":
        services.providers = lambda t: KillAfterCreate(get_provider(t), int(n))
    else:
        services.backend = KillDuringWrite(root / ".strands" / "state", "local", int(n))
    services.concurrency = 1  # a deterministic order of calls, so each point is hit exactly
    svc.deploy(services)
    sys.exit(3)  # the kill point was never reached


if __name__ == "__main__":
    main()
