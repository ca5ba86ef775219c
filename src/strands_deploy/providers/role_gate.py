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

# how often the probing function retries CreateFunction while the role propagates
PROBE_INTERVAL = 0.25
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
