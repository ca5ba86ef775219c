"""Asynchronous invocations, queued per function as Lambda queues them.

What goes through here: ``InvocationType=Event`` and the pushes of AWS services (SNS, S3,
EventBridge rules and schedules, see :mod:`.triggers`).

* **Accepted, then queued.** An event is accepted at once (its request id is the one the function's
  ``context.aws_request_id`` sees, on every attempt) and queued for its function version, in
  memory (at most :data:`MAX_QUEUED` events in all; beyond that an event is logged and dropped).
* **Concurrency.** Events of one function run at most ``limit`` at a time (the function's reserved
  concurrency if set, else the pool's limit). An attempt that is throttled anyway (synchronous
  invocations hold the workers) goes back to the queue after a short back-off; as in Lambda, a
  throttle is not a failed attempt and an event is never dropped for it (until it is too old).
* **Retries.** A failed attempt (the handler raised, timed out, crashed) is retried
  ``MaximumRetryAttempts`` times (the function's event invoke config, default 2) after the local
  retry delays (``async_retry_delays`` in ``config.json``, seconds, the last repeated; default
  :data:`DEFAULT_RETRY_DELAYS`; AWS waits about 1 then 2 minutes). An event older than
  ``MaximumEventAgeInSeconds`` (default 6 hours) is discarded when it comes up.
* **Destinations.** A success goes to ``DestinationConfig.OnSuccess``; a discarded event to
  ``DestinationConfig.OnFailure`` (condition ``RetriesExhausted`` or ``EventAgeExceeded``), else to
  the function's ``DeadLetterConfig`` target. Destinations: SQS queues, SNS topics, Lambda functions
  (invoked asynchronously), EventBridge buses; written in-process to moto.

moto drops ``DeadLetterConfig``: :func:`install_dead_letter_config` keeps it on the function
(CreateFunction / UpdateFunctionConfiguration) and returns it in the function's configuration.
"""

from __future__ import annotations

import heapq
import itertools
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from strands_deploy.local.workers import Throttled

if TYPE_CHECKING:
    from strands_deploy.local.lambda_invoke import InvokeResult, LocalLambda

log = logging.getLogger("strands_deploy.local.async")

DELAYS_KEY = "async_retry_delays"  # config.json: seconds before each retry, e.g. [0.2, 0.5]
DEFAULT_RETRY_DELAYS = (5.0, 10.0)  # AWS: about 60 s then 120 s
DEFAULT_MAX_RETRIES = 2
DEFAULT_MAX_AGE = 6 * 3600.0
MAX_QUEUED = 100_000  # events waiting, all functions together
ERROR_MESSAGE_BYTES = 1024  # a dead-letter message's ErrorMessage attribute: the first 1 KB


def _iso_ms(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _json_or_text(data: bytes) -> Any:
    try:
        return json.loads(data) if data.strip() else None
    except ValueError:
        return data.decode("utf-8", "replace")


@dataclass
class Event:
    fn: Any  # moto LambdaFunction (the version asked for)
    payload: bytes
    account: str
    region: str
    qualifier: str | None
    request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    accepted: float = field(default_factory=time.time)
    attempts: int = 0  # attempts that ran (throttles do not count)
    throttles: int = 0
    last: InvokeResult | None = None

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (self.account, self.region, str(self.fn.function_name), str(self.fn.version))


@dataclass
class _FunctionQueue:
    heap: list[tuple[float, int, Event]] = field(default_factory=list)
    running: int = 0


class AsyncQueue:
    """The queues and the dispatcher thread (started with the first event). ``retry_delays`` is a
    sequence of seconds or a callable returning one (read at each retry)."""

    def __init__(
        self,
        runtime: LocalLambda,
        retry_delays: Sequence[float] | Callable[[], Sequence[float]] | None = None,
        *,
        max_queued: int = MAX_QUEUED,
    ) -> None:
        self.runtime = runtime
        self._delays = retry_delays
        self.max_queued = max_queued
        self._queues: dict[tuple[str, str, str, str], _FunctionQueue] = {}
        self._cond = threading.Condition()
        self._seq = itertools.count()
        self._thread: threading.Thread | None = None
        self._generation = 0  # bumped by reset: attempts of an older generation are forgotten

    # -- accepting -------------------------------------------------------------------------------
    def submit(self, fn: Any, payload: bytes, account: str, region: str, qualifier: str | None = None) -> str:
        """Queue an event; returns its request id at once."""
        event = Event(fn, payload, account, region, qualifier)
        with self._cond:
            waiting = sum(len(q.heap) for q in self._queues.values())
            if waiting >= self.max_queued:
                log.warning(
                    "async queue full (%d events); event %s for %s dropped",
                    waiting,
                    event.request_id,
                    fn.function_name,
                )
                return event.request_id
            self._push(event, time.monotonic())
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._dispatch, daemon=True, name="async-dispatch")
                self._thread.start()
        return event.request_id

    def pending(self) -> int:
        """Events queued or running (tests, debugging)."""
        with self._cond:
            return sum(len(q.heap) + q.running for q in self._queues.values())

    def reset(self) -> None:
        with self._cond:
            self._queues.clear()
            self._generation += 1
            self._cond.notify_all()

    def _push(self, event: Event, due: float) -> None:  # with the lock held
        queue = self._queues.setdefault(event.key, _FunctionQueue())
        heapq.heappush(queue.heap, (due, next(self._seq), event))
        self._cond.notify_all()

    # -- dispatching -----------------------------------------------------------------------------
    def _limit(self, fn: Any) -> int:
        from strands_deploy.local.lambda_invoke import DEFAULT_CONCURRENCY

        reserved = getattr(fn, "reserved_concurrency", None)
        # reserved concurrency 0: one attempt at a time, each throttled, until the event is too old
        return DEFAULT_CONCURRENCY if reserved is None else max(int(reserved), 1)

    def _dispatch(self) -> None:
        with self._cond:
            while True:
                now = time.monotonic()
                wake: float | None = None
                for key, queue in list(self._queues.items()):
                    while queue.heap and queue.heap[0][0] <= now:
                        if queue.running >= self._limit(queue.heap[0][2].fn):
                            break
                        _, _, event = heapq.heappop(queue.heap)
                        queue.running += 1
                        threading.Thread(
                            target=self._attempt,
                            args=(event, self._generation),
                            daemon=True,
                            name=f"async-{event.fn.function_name}",
                        ).start()
                    if queue.heap and queue.heap[0][0] > now:
                        wake = queue.heap[0][0] if wake is None else min(wake, queue.heap[0][0])
                    if not queue.heap and queue.running == 0:
                        del self._queues[key]
                self._cond.wait(None if wake is None else max(wake - now, 0.001))

    def _retry_delay(self, attempt: int) -> float:
        delays = self._delays() if callable(self._delays) else self._delays
        delays = list(delays or DEFAULT_RETRY_DELAYS)
        try:
            return max(float(delays[min(attempt, len(delays) - 1)]), 0.0)
        except (TypeError, ValueError):
            return DEFAULT_RETRY_DELAYS[min(attempt, len(DEFAULT_RETRY_DELAYS) - 1)]

    def _attempt(self, event: Event, generation: int) -> None:
        requeue_at: float | None = None
        try:
            requeue_at = self._run(event)
        except Exception:
            log.exception("async event %s for %s failed", event.request_id, event.fn.function_name)
        finally:
            with self._cond:
                if generation == self._generation:
                    queue = self._queues.setdefault(event.key, _FunctionQueue())
                    queue.running = max(queue.running - 1, 0)
                    if requeue_at is not None:
                        self._push(event, requeue_at)
                self._cond.notify_all()

    def _run(self, event: Event) -> float | None:
        """One attempt; returns when to try again (monotonic), or None when the event is done."""
        config = event_invoke_config(event.fn, event.account, event.region)
        max_age = float(config.get("MaximumEventAgeInSeconds") or DEFAULT_MAX_AGE)
        max_retries = int(config.get("MaximumRetryAttempts", DEFAULT_MAX_RETRIES))
        if time.time() - event.accepted > max_age:
            log.warning("async event %s for %s too old; discarded", event.request_id, event.fn.function_name)
            self._failed(event, config, "EventAgeExceeded")
            return None
        try:
            result = self.runtime.invoke(
                event.fn,
                event.payload,
                event.account,
                event.region,
                event.qualifier,
                request_id=event.request_id,
            )
        except Throttled:
            event.throttles += 1
            return time.monotonic() + min(0.05 * 2 ** min(event.throttles, 7), 5.0)
        event.attempts += 1
        event.last = result
        if result.function_error is None:
            self._succeeded(event, config)
            return None
        if event.attempts > max_retries:
            log.warning(
                "async event %s for %s failed %d times; discarded",
                event.request_id,
                event.fn.function_name,
                event.attempts,
            )
            self._failed(event, config, "RetriesExhausted")
            return None
        return time.monotonic() + self._retry_delay(event.attempts - 1)

    # -- destinations ----------------------------------------------------------------------------
    def record(self, event: Event, condition: str) -> dict[str, Any]:
        """AWS's destination record (the ``Detail`` of an EventBridge destination, the body else)."""
        from moto.awslambda.utils import make_function_arn

        arn = make_function_arn(event.region, event.account, event.fn.function_name)
        out: dict[str, Any] = {
            "version": "1.0",
            "timestamp": _iso_ms(time.time()),
            "requestContext": {
                "requestId": event.request_id,
                "functionArn": f"{arn}:{event.qualifier or '$LATEST'}",
                "condition": condition,
                "approximateInvokeCount": max(event.attempts, 1),
            },
            "requestPayload": _json_or_text(event.payload),
        }
        if event.last is not None:
            context: dict[str, Any] = {
                "statusCode": event.last.status,
                "executedVersion": event.last.executed_version,
            }
            if event.last.function_error:
                context["functionError"] = event.last.function_error
            out["responseContext"] = context
            out["responsePayload"] = _json_or_text(event.last.payload)
        return out

    def _succeeded(self, event: Event, config: dict[str, Any]) -> None:
        target = ((config.get("DestinationConfig") or {}).get("OnSuccess") or {}).get("Destination")
        if target:
            self._send_record(str(target), event, "Success")

    def _failed(self, event: Event, config: dict[str, Any], condition: str) -> None:
        target = ((config.get("DestinationConfig") or {}).get("OnFailure") or {}).get("Destination")
        if target:
            self._send_record(str(target), event, condition)
            return
        dlq = str((getattr(event.fn, "dead_letter_config", None) or {}).get("TargetArn") or "")
        if not dlq:
            dlq = str(
                (
                    getattr(_latest(event.fn, event.account, event.region), "dead_letter_config", None) or {}
                ).get("TargetArn")
                or ""
            )
        if dlq:
            self._send_dead_letter(dlq, event, condition)

    def _send_record(self, target: str, event: Event, condition: str) -> None:
        record = self.record(event, condition)
        try:
            service = target.split(":")[2]
            if service == "lambda":
                parts = target.split(":")
                fn = self.runtime.resolve(parts[4], parts[3], target, None)
                self.submit(
                    fn, json.dumps(record).encode(), parts[4], parts[3], parts[7] if len(parts) > 7 else None
                )
            elif service == "events":
                from moto.events.models import events_backends

                account, region = target.split(":")[4], target.split(":")[3]
                result = "Success" if condition == "Success" else "Failure"
                events_backends[account][region].put_events(
                    [
                        {
                            "Source": "lambda",
                            "DetailType": f"Lambda Function Invocation Result - {result}",
                            "Detail": json.dumps(record),
                            "EventBusName": target,
                            "Resources": [record["requestContext"]["functionArn"]],
                        }
                    ]
                )
            else:
                send_message(target, json.dumps(record), {})
        except Exception:
            log.exception("async event %s: destination %s failed", event.request_id, target)

    def _send_dead_letter(self, target: str, event: Event, condition: str) -> None:
        if event.last is not None and event.last.function_error:
            error = _json_or_text(event.last.payload)
            message = str(error.get("errorMessage") if isinstance(error, dict) else error)
            code = str(event.last.status)
        else:
            message, code = f"Event discarded: {condition}", "200"
        attributes = {
            "RequestID": ("String", event.request_id),
            "ErrorCode": ("Number", code),
            "ErrorMessage": (
                "String",
                message.encode()[:ERROR_MESSAGE_BYTES].decode("utf-8", "ignore") or condition,
            ),
        }
        try:
            send_message(target, event.payload.decode("utf-8", "replace"), attributes)
        except Exception:
            log.exception("async event %s: dead-letter target %s failed", event.request_id, target)


def send_message(target: str, body: str, attributes: dict[str, tuple[str, str]]) -> None:
    """Send ``body`` to an SQS queue or SNS topic ARN, in-process (moto)."""
    parts = target.split(":")
    service, region, account = parts[2], parts[3], parts[4]
    if service == "sqs":
        from moto.sqs.models import sqs_backends

        sqs_backends[account][region].send_message(
            parts[5],
            body,
            message_attributes={k: {"DataType": t, "StringValue": v} for k, (t, v) in attributes.items()},
        )
    elif service == "sns":
        from moto.sns.models import sns_backends

        sns_backends[account][region].publish(
            body,
            arn=target,
            message_attributes={k: {"Type": t, "Value": v} for k, (t, v) in attributes.items()},
        )
    else:
        raise ValueError(f"{target} is not an SQS queue or SNS topic")


def _latest(fn: Any, account: str, region: str) -> Any:
    from strands_deploy.local.lambda_invoke import lambda_backend

    try:
        return lambda_backend(account, region).get_function(fn.function_name, None)
    except Exception:
        return None


def event_invoke_config(fn: Any, account: str, region: str) -> dict[str, Any]:
    """The function's ``PutFunctionEventInvokeConfig`` settings (moto keeps them on $LATEST)."""
    for candidate in (fn, _latest(fn, account, region)):
        configs = getattr(candidate, "event_invoke_config", None) or []
        if configs:
            return dict(configs[0].config or {})
    return {}


def install_dead_letter_config() -> None:
    """Keep ``DeadLetterConfig`` on moto's functions and return it in their configuration."""
    from moto.awslambda.models import LambdaFunction

    if getattr(LambdaFunction, "_strands_dead_letter", False):
        return
    original_init = LambdaFunction.__init__
    original_update = LambdaFunction.update_configuration
    original_get = LambdaFunction.get_configuration

    def __init__(self: Any, account_id: str, spec: dict[str, Any], region: str, version: Any = 1) -> None:
        original_init(self, account_id, spec, region, version)
        self.dead_letter_config = _dead_letter(spec.get("DeadLetterConfig"))

    def update_configuration(self: Any, config_updates: dict[str, Any]) -> dict[str, Any]:
        if "DeadLetterConfig" in config_updates:
            self.dead_letter_config = _dead_letter(config_updates["DeadLetterConfig"])
        return original_update(self, config_updates)  # type: ignore[no-any-return]

    def get_configuration(self: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
        config: dict[str, Any] = original_get(self, *args, **kwargs)
        dead_letter = getattr(self, "dead_letter_config", None)
        if dead_letter:
            config["DeadLetterConfig"] = dict(dead_letter)
        return config

    LambdaFunction.__init__ = __init__  # type: ignore[method-assign]
    LambdaFunction.update_configuration = update_configuration  # type: ignore[method-assign]
    LambdaFunction.get_configuration = get_configuration  # type: ignore[method-assign]
    LambdaFunction._strands_dead_letter = True  # type: ignore[attr-defined]


def _dead_letter(value: Any) -> dict[str, str] | None:
    if isinstance(value, dict) and value.get("TargetArn"):
        return {"TargetArn": str(value["TargetArn"])}
    return None
