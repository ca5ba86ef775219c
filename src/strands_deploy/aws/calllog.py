"""Every AWS call, observed: botocore's ``before-call`` / ``after-call`` hooks on each session.

:data:`MONITOR` knows which calls are in flight (so a front end can show a spinner when one has
waited more than half a second) and tells its listeners how each call ended and how long it took
(``-v`` prints them). It never sees parameters or responses' bodies, only the service, operation,
HTTP status and error code, so nothing secret can reach a listener.

A front end does not import this module (front ends make no AWS call): it reaches the monitor
through ``strands_deploy.services``. Listeners are called on the thread that made the call.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class CallStart:
    service: str
    operation: str
    started: float  # the monitor's clock


@dataclass(frozen=True)
class CallRecord:
    """One finished call: ``status`` is the HTTP status (None when no response came back)."""

    service: str
    operation: str
    seconds: float
    status: int | None
    error: str | None  # the error code, or the exception's class name when there was no response

    def describe(self) -> str:
        outcome = str(self.status) if self.status is not None else "no response"
        if self.error:
            outcome += f" {self.error}"
        return f"{self.service} {self.operation} {outcome} {self.seconds:.2f}s"


Listener = Callable[[CallRecord], None]


class CallMonitor:
    """Calls in flight and listeners of finished ones; thread-safe (clients are shared)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._in_flight: dict[int, CallStart] = {}
        self._listeners: list[Listener] = []
        self._key = f"strands_call_id_{id(self)}"  # in botocore's per-call context

    def attach(self, events: Any) -> None:
        """Register the hooks on a botocore event emitter (a session's ``events``), before its
        clients are created (a client copies its session's handlers)."""
        tag = f"strands-calllog-{id(self)}"  # attaching twice registers once
        events.register("before-call", self._before, unique_id=f"{tag}-before")
        events.register("after-call", self._after, unique_id=f"{tag}-after")
        events.register("after-call-error", self._after_error, unique_id=f"{tag}-error")

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener`` with each finished call; returns the function that unsubscribes."""
        with self._lock:
            self._listeners.append(listener)

        def unsubscribe() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return unsubscribe

    def in_flight(self) -> list[CallStart]:
        with self._lock:
            return sorted(self._in_flight.values(), key=lambda c: c.started)

    def waiting_longer_than(self, seconds: float) -> CallStart | None:
        """The oldest call in flight for more than ``seconds``, if any."""
        now = self._clock()
        for call in self.in_flight():
            if now - call.started > seconds:
                return call
        return None

    # botocore handlers (keyword arguments as botocore emits them; the return value must be None)
    def start(self, service: str, operation: str) -> int:
        call_id = next(self._ids)
        with self._lock:
            self._in_flight[call_id] = CallStart(service, operation, self._clock())
        return call_id

    def finish(self, call_id: int | None, status: int | None, error: str | None) -> None:
        with self._lock:
            start = self._in_flight.pop(call_id, None) if call_id is not None else None
            listeners = list(self._listeners)
        if start is None:
            return
        record = CallRecord(start.service, start.operation, self._clock() - start.started, status, error)
        for listener in listeners:
            listener(record)

    def _before(self, model: Any = None, context: Any = None, **_: Any) -> None:
        if model is None or not isinstance(context, dict):
            return
        service = str(model.service_model.service_id.hyphenize())
        context[self._key] = self.start(service, str(model.name))

    def _after(self, http_response: Any = None, parsed: Any = None, context: Any = None, **_: Any) -> None:
        if not isinstance(context, dict):
            return
        status = getattr(http_response, "status_code", None)
        error = None
        if isinstance(parsed, dict) and status is not None and status >= 300:
            error = (parsed.get("Error") or {}).get("Code")
        self.finish(context.pop(self._key, None), status, error)

    def _after_error(self, exception: BaseException | None = None, context: Any = None, **_: Any) -> None:
        if not isinstance(context, dict):
            return
        self.finish(context.pop(self._key, None), None, type(exception).__name__ if exception else "error")


MONITOR = CallMonitor()
