"""Small polling helpers with bounded exponential backoff and jitter.

boto3's own waiters poll at a fixed delay and cannot take an injected sleep; these use
``ctx.sleep`` so tests run instantly, and they bound the total time *slept* (not wall time), so a
test with a no-op sleep still terminates after a fixed number of attempts.

Throttling is not handled here: botocore's standard retry mode (configured in AwsContext) does it.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from typing import Any, Protocol, TypeVar

from strands_deploy.aws.errors import (
    call,
    error_code,
    error_message,
    is_in_progress_conflict,
    to_deploy_error,
)
from strands_deploy.aws.session import ClientFactory
from strands_deploy.errors import StrandsDeployError

T = TypeVar("T")


class WaitContext(Protocol):
    """What the waits use of a provider context (``providers.base.ProviderContext`` is one): typed
    here so aws/ does not import the layer above it."""

    @property
    def progress(self) -> Callable[[str, str], None]: ...
    @property
    def sleep(self) -> Callable[[float], None]: ...

    @property
    def client(self) -> ClientFactory: ...


# IAM is eventually consistent: a new role (or a new policy on it) takes a few seconds, rarely more
# than a minute, to be usable by Lambda.
IAM_PROPAGATION_SECONDS = 90.0


def flat(total: float, interval: float) -> Iterator[float]:
    """Delays of ``interval`` (±20 % jitter) summing to at most ``total``."""
    slept = 0.0
    while slept < total:
        step = min(interval * random.uniform(0.8, 1.2), total - slept)
        slept += step
        yield step


def backoff(total: float, initial: float = 0.5, maximum: float = 8.0) -> Iterator[float]:
    """Delays growing ×2 from ``initial`` up to ``maximum``, with jitter, summing to at most ``total``."""
    slept = 0.0
    delay = initial
    while slept < total:
        # "Equal jitter": half fixed, half random, so delays stay spread but never collapse to 0.
        step = min(delay / 2 + random.uniform(0, delay / 2), total - slept)
        slept += step
        yield step
        delay = min(delay * 2, maximum)


def poll(
    ctx: WaitContext,
    address: str,
    check: Callable[[], T | None],
    *,
    timeout: float,
    what: str,
    fix: str,
    note: str | None = None,
) -> T:
    """Call ``check`` until it returns something other than ``None``; give up after ``timeout`` s.

    ``check`` may raise (e.g. StrandsDeployError for a terminal failure) to stop early.
    """
    result = check()
    if result is not None:
        return result
    if note:
        ctx.progress(address, note)
    # Readiness is polled every ~0.12 s for 4 s, ~0.3 s to 10 s, then at 0.5-1 s: doubling intervals
    # noticed a 2 s Pending state or a 7 s table creation seconds late (measured in benchmarks/),
    # on every deploy's critical path. The reads have quotas of their own (GetFunction 100/s).
    for delay in _readiness_delays(timeout):
        ctx.sleep(delay)
        result = check()
        if result is not None:
            return result
    raise StrandsDeployError(f"{what} (gave up after {int(timeout)} s)", where=address, fix=fix)


def _readiness_delays(timeout: float) -> Iterator[float]:
    quicker, quick = min(4.0, timeout), min(6.0, max(0.0, timeout - 4.0))
    yield from flat(quicker, 0.12)  # a new function is Pending ~2 s, an update InProgress ~1 s
    yield from flat(quick, 0.3)
    yield from backoff(max(0.0, timeout - quicker - quick), initial=0.5, maximum=1.0)


def retry_while(
    ctx: WaitContext,
    address: str,
    action: str,
    fn: Callable[[], T],
    retryable: Callable[[BaseException], bool],
    *,
    timeout: float = IAM_PROPAGATION_SECONDS,
    note: str | None = None,
    delays: Iterator[float] | None = None,
) -> T:
    """Run ``fn``; while it fails with an error ``retryable`` accepts, back off and try again.

    ``fn`` may raise a raw botocore error or an AwsCallError from :func:`call` (predicates see the
    AWS error code and message of either). After ``timeout`` seconds of sleeping the last error is raised converted.
    ``delays``: the sleeps between attempts (default: backoff from 1 s to 2 s within ``timeout``).
    """
    # capped at 2 s: IAM propagation takes ~7 s and a longer last sleep overshoots it; the
    # engine's concurrency cap bounds how many of these retries run at once
    if delays is None:
        delays = backoff(timeout, initial=1.0, maximum=2.0)
    noted = False
    while True:
        try:
            return fn()
        except Exception as exc:
            if not retryable(exc):
                raise
            delay = next(delays, None)
            if delay is None:
                if isinstance(exc, StrandsDeployError):
                    raise
                raise to_deploy_error(exc, address, action) from exc
            if note and not noted:
                ctx.progress(address, note)
                noted = True
            ctx.sleep(delay)


def role_not_ready(err: BaseException) -> bool:
    """Lambda cannot use a just-created role (or its just-attached policy) yet: IAM propagation."""
    if error_code(err) not in ("InvalidParameterValueException", "AccessDeniedException"):
        return False
    msg = error_message(err)
    return (
        "cannot be assumed by Lambda" in msg
        or "execution role does not have permissions" in msg
        or "role defined for the function cannot be assumed" in msg
    )


def update_in_progress(err: BaseException) -> bool:
    return is_in_progress_conflict(err)


def role_or_update_pending(err: BaseException) -> bool:
    return role_not_ready(err) or update_in_progress(err)


def wait_function_ready(
    ctx: WaitContext, address: str, function_name: str, *, timeout: float = 600.0
) -> dict[str, Any]:
    """Wait until the function is State=Active and LastUpdateStatus=Successful; return its config.

    A Failed state or update raises StrandsDeployError with AWS's reason.
    """
    client = ctx.client("lambda")

    def check() -> dict[str, Any] | None:
        # GetFunction has its own quota (100/s); GetFunctionConfiguration would spend the 15/s
        # control-plane budget that creates and updates need
        conf: dict[str, Any] = call(address, client, "get_function", FunctionName=function_name)[
            "Configuration"
        ]
        state = conf.get("State", "Active")
        update = conf.get("LastUpdateStatus", "Successful")
        if state == "Failed":
            raise StrandsDeployError(
                f"function {function_name} failed to become active: "
                f"{conf.get('StateReason', 'no reason given')} ({conf.get('StateReasonCode', '')})",
                where=address,
                fix="fix the cause above (often the role, layers or package size) and deploy again",
            )
        if update == "Failed":
            raise StrandsDeployError(
                f"the last update of function {function_name} failed: "
                f"{conf.get('LastUpdateStatusReason', 'no reason given')} "
                f"({conf.get('LastUpdateStatusReasonCode', '')})",
                where=address,
                fix="fix the cause above and deploy again",
            )
        if state == "Active" and update == "Successful":
            return conf
        return None

    return poll(
        ctx,
        address,
        check,
        timeout=timeout,
        what=f"function {function_name} did not become Active with a successful last update",
        fix=f"check `aws lambda get-function-configuration --function-name {function_name}` and deploy again",
        note="waiting for the function to become Active",
    )


def wait_table_active(
    ctx: WaitContext, address: str, table_name: str, *, timeout: float = 600.0
) -> dict[str, Any]:
    """Wait until a DynamoDB table is ACTIVE; return its description."""
    client = ctx.client("dynamodb")

    def check() -> dict[str, Any] | None:
        table: dict[str, Any] = call(address, client, "describe_table", TableName=table_name)["Table"]
        return table if table.get("TableStatus") == "ACTIVE" else None

    return poll(
        ctx,
        address,
        check,
        timeout=timeout,
        what=f"table {table_name} did not become ACTIVE",
        fix=f"check `aws dynamodb describe-table --table-name {table_name}` and deploy again",
        note="waiting for the table to become ACTIVE",
    )
