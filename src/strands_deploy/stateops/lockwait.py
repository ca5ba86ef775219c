"""Taking the lock with a patience (``--lock-timeout``), and keeping it alive while held.

``acquire`` retries while another command holds the lock, calling ``on_wait(holder, seconds_left)``
between attempts so a front end can show a countdown; the clock and sleep are passed in (tests
use fakes). ``Heartbeat`` refreshes a remote lock every ``interval`` seconds from a daemon thread:
a refresh that finds the lock gone marks it lost, and the next state write stops the command.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from types import TracebackType

from strands_deploy.errors import StrandsDeployError
from strands_deploy.state.backend import LockedError, LockInfo, LockLostError, StateBackend

OnWait = Callable[[LockInfo | None, float], None]


def acquire(
    backend: StateBackend,
    command: str,
    timeout: float = 0.0,
    on_wait: OnWait | None = None,
    *,
    poll: float = 1.0,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> LockInfo:
    """The lock, or the LockedError of the last attempt once ``timeout`` seconds have passed.
    After waiting, ``on_wait(None, 0.0)`` says the wait is over."""
    deadline = clock() + max(0.0, timeout)
    waited = False
    while True:
        try:
            held = backend.lock(command)
        except LockedError as e:
            left = deadline - clock()
            if left <= 0:
                if timeout > 0:
                    raise LockedError(
                        f"{e.what} (waited {timeout:.0f}s for it)", e.where, e.fix, e.holder
                    ) from None
                raise
            if on_wait is not None:
                on_wait(e.holder, left)
            waited = True
            sleep(min(poll, left))
            continue
        if waited and on_wait is not None:
            on_wait(None, 0.0)  # done waiting: a countdown can clear its line
        return held


class Heartbeat:
    """Refreshes ``lock`` every ``interval`` seconds while in the ``with`` block."""

    def __init__(self, backend: StateBackend, lock: LockInfo, interval: float | None) -> None:
        self.backend = backend
        self.lock = lock
        self.interval = interval
        self.beats = 0
        self.error: StrandsDeployError | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> Heartbeat:
        if self.interval:
            self._thread = threading.Thread(target=self._run, name="state-lock-heartbeat", daemon=True)
            self._thread.start()
        return self

    def _run(self) -> None:
        assert self.interval is not None
        while not self._stop.wait(self.interval):
            try:
                self.backend.heartbeat(self.lock)
                self.beats += 1
            except LockLostError as e:
                self.error = e  # the backend remembers it too: the next write raises it
                return
            except StrandsDeployError as e:  # the network: try again at the next beat
                self.error = e

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
