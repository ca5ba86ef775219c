"""The "role is usable" gate: Lambda refuses an execution role for some seconds after IAM created
it (propagation, ~7 s). Without a gate every function of a deploy retries CreateFunction on its
own, spending Lambda's 15 calls/s control-plane quota and sleeping past the moment the role works.

One function at a time probes (retrying at a short, flat interval); the others wait. A probe's
success teaches two things: roles created no later than the probed one are usable now, and the
propagation delay (success time minus creation time) tells when a role created later will be.
Roles this run did not create are assumed usable (a retry still covers a surprise).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

# how often the probing function retries CreateFunction while the role propagates
PROBE_INTERVAL = 0.2
TICKS_PER_ATTEMPT = 5
# how long a waiting function sleeps between looks at the gate (it wakes at once on news)
WAIT_SLICE = 1.0


class RoleGate:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._cond = threading.Condition()
        self._created: dict[str, float] = {}  # role ARN -> when this run created it
        self._usable_upto = float("-inf")  # roles created at or before this are usable
        self._delay: float | None = None  # learned: creation -> usable
        self._prober: str | None = None

    def created(self, role_arn: str) -> None:
        with self._cond:
            self._created[role_arn] = self._clock()

    def wait_turn(self, role_arn: str, sleep: Callable[[float], None], give_up_after: float = 120.0) -> bool:
        """Block until this role is likely usable. True: the caller is the probe (it should
        retry quickly and report with :meth:`done`); False: go (a retry still covers a miss)."""
        waited = 0.0
        while True:
            with self._cond:
                born = self._created.get(role_arn)
                if born is None or born <= self._usable_upto:
                    return False
                if self._delay is not None:
                    remaining = born + self._delay - self._clock()
                    break
                if self._prober is None or waited >= give_up_after:
                    self._prober = role_arn
                    return True
                self._cond.wait(WAIT_SLICE)
                waited += WAIT_SLICE
        if remaining > 0:
            sleep(remaining)
        return False

    def done(self, role_arn: str, usable: bool) -> None:
        """Report a CreateFunction with this role: ``usable`` when it got through."""
        with self._cond:
            born = self._created.get(role_arn)
            if usable and born is not None:
                now = self._clock()
                self._usable_upto = max(self._usable_upto, born)
                delay = now - born
                self._delay = delay if self._delay is None else min(self._delay, delay)
            if self._prober == role_arn:
                self._prober = None
            self._cond.notify_all()


def overlapping_attempts(
    attempt: Callable[[], T],
    not_ready: Callable[[BaseException], bool],
    duplicate: Callable[[BaseException], bool],
    *,
    sleep: Callable[[float], None],
    interval: float = PROBE_INTERVAL,
    timeout: float = 90.0,
    in_flight: int = 4,
) -> T:
    """The probe's CreateFunction: a new attempt every ``interval`` s, up to ``in_flight`` at
    once, until one succeeds. Lambda takes ~0.5 s to refuse an unusable role, so one attempt at a
    time would notice a usable role up to that late; overlapping attempts notice it within
    ``interval``. An attempt refused as a duplicate (an overlapping one got through first) waits
    for the others' answers; any other error is raised. After ``timeout`` s of waiting, the last
    refusal is raised."""
    from concurrent.futures import Future, ThreadPoolExecutor

    running: set[Future[T]] = set()
    waited, last, duplicated, ticks = 0.0, None, None, 0
    # not a `with`: on success the attempts still in flight are not waited for (each ends as a
    # refusal or a duplicate, both harmless)
    pool = ThreadPoolExecutor(max_workers=in_flight)
    try:
        while True:
            for f in [f for f in running if f.done()]:
                running.discard(f)
                exc = f.exception()
                if exc is None:
                    return f.result()
                if not_ready(exc):
                    last = exc
                elif duplicate(exc):
                    duplicated = exc
                else:
                    raise exc
            if not running and (duplicated is not None or waited >= timeout):
                raise duplicated or last or TimeoutError("role not usable")
            due = ticks % TICKS_PER_ATTEMPT == 0
            if due and len(running) < in_flight and waited < timeout and duplicated is None:
                running.add(pool.submit(attempt))
            # answers are looked at every tick (a fifth of the interval): a success is used at once
            sleep(interval / TICKS_PER_ATTEMPT)
            waited += interval / TICKS_PER_ATTEMPT
            ticks += 1
    finally:
        pool.shutdown(wait=False)
