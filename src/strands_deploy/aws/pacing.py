"""Client-side pacing to AWS's documented per-account API quotas.

Going faster than a quota gains nothing: AWS answers the excess with throttling errors, each of
which costs a retry with backoff and drains botocore's retry quota (at 100 agents, 532 throttled
calls exhausted it and a deploy failed with "Rate exceeded"). So calls of a rate-limited class
wait for a token here, before every attempt, and the deploy runs at the quota instead of
bouncing off it. The figures are AWS's published defaults; accounts with raised quotas lose a
little speed, never correctness.

Sources: Lambda quotas page ("control plane API requests: 15 per second, excluding invocation,
GetFunction and GetPolicy"; GetFunction 100/s), CloudWatch service quotas (PutMetricAlarm and
DeleteAlarms 3 TPS, DescribeAlarms 9 TPS), API Gateway quotas (10 requests/s per account for
control-plane calls, burst 40).

An account whose quotas were raised (Service Quotas) sets ``STRANDS_DEPLOY_QUOTA_MULTIPLIER``
(e.g. ``2`` for quotas twice the defaults); the benchmarks set it to play a scaled model of AWS.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Quota:
    rate: float  # calls per second
    burst: float


# (service id, operation or "*") -> quota; the first match wins
QUOTAS: list[tuple[str, str, Quota]] = [
    ("lambda", "Invoke", Quota(0, 0)),  # not paced
    ("lambda", "GetFunction", Quota(100, 20)),
    ("lambda", "GetPolicy", Quota(15, 5)),
    ("lambda", "*", Quota(15, 5)),
    ("cloudwatch", "PutMetricAlarm", Quota(3, 3)),
    ("cloudwatch", "DeleteAlarms", Quota(3, 3)),
    ("cloudwatch", "DescribeAlarms", Quota(9, 5)),
    ("apigatewayv2", "*", Quota(10, 10)),
]


@dataclass
class Bucket:
    quota: Quota
    tokens: float
    updated: float
    lock: threading.Lock = field(default_factory=threading.Lock)

    def wait_time(self, now: float) -> float:
        """Take a token, returning how long the caller must sleep before using it."""
        with self.lock:
            self.tokens = min(self.quota.burst, self.tokens + (now - self.updated) * self.quota.rate)
            self.updated = now
            self.tokens -= 1
            return 0.0 if self.tokens >= 0 else -self.tokens / self.quota.rate


MULTIPLIER_ENV = "STRANDS_DEPLOY_QUOTA_MULTIPLIER"


def quota_multiplier() -> float:
    """How many times AWS's default quotas this account has (``STRANDS_DEPLOY_QUOTA_MULTIPLIER``;
    1 when unset or not a positive number)."""
    try:
        value = float(os.environ.get(MULTIPLIER_ENV, "1"))
    except ValueError:
        return 1.0
    return value if value > 0 else 1.0


class Pacer:
    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        multiplier: float | None = None,
    ):
        self.clock = clock
        self.sleep = sleep
        self.multiplier = quota_multiplier() if multiplier is None else multiplier
        self._buckets: dict[tuple[str, str], Bucket] = {}
        self._lock = threading.Lock()

    def bucket(self, service: str, operation: str) -> Bucket | None:
        for svc, op, quota in QUOTAS:
            if svc == service and op in (operation, "*"):
                if quota.rate <= 0:
                    return None
                key = (svc, op)
                with self._lock:
                    if key not in self._buckets:
                        scaled = Quota(quota.rate * self.multiplier, quota.burst * self.multiplier)
                        self._buckets[key] = Bucket(scaled, scaled.burst, self.clock())
                    return self._buckets[key]
        return None

    def pace(self, service: str, operation: str) -> float:
        bucket = self.bucket(service, operation)
        if bucket is None:
            return 0.0
        delay = bucket.wait_time(self.clock())
        if delay > 0:
            self.sleep(delay)
        return delay

    def attach(self, client: Any) -> None:
        """Pace every attempt (retries included) of ``client``'s rate-limited operations."""
        service = client.meta.service_model.service_id.hyphenize()
        if not any(svc == service for svc, _, _ in QUOTAS):
            return

        def before_attempt(operation_name: str = "", **_: Any) -> None:
            self.pace(service, operation_name)

        client.meta.events.register(f"request-created.{service}", before_attempt)
