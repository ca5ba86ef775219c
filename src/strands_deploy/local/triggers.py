"""Event delivery to functions in the local cloud: what AWS services push to Lambda.

What moto does itself, and what this module adds (only in the server process):

* **SQS** event source mappings and **DynamoDB streams** (mappings on a table's stream): moto
  delivers them itself, through the invoke hook of :mod:`.server` (synchronously, inside the
  SendMessage / PutItem request; DynamoDB records carry NEW and OLD images as configured).
* **SNS** → Lambda: moto's own delivery sends a fixed test event (topic ``arn:aws:sns:EXAMPLE``,
  subject ``TestInvoke``, timestamp 1970). Replaced: the real topic and subscription ARNs, message
  id, subject, timestamp and message attributes, invoked asynchronously as SNS does.
* **S3** object events → Lambda: moto builds the event records (with the bucket's prefix/suffix
  filters) and invokes the function inside PutObject/DeleteObject. Kept, but the invocation runs
  asynchronously (S3 does not wait for the function).
* **EventBridge** ``PutEvents`` → Lambda: moto matches rules' patterns but has no Lambda targets
  (it raises NotImplementedError). Added: a matching rule's Lambda targets are invoked
  asynchronously with the event (``time`` as ISO 8601, as AWS sends it), its ``Input`` or its
  ``InputTransformer``; the rule's other targets still go to moto.
* **EventBridge schedules**: moto stores ``rate(...)`` / ``cron(...)`` rules but never fires them.
  :class:`Scheduler` (a thread in the server) fires each enabled scheduled rule on its period or
  at its cron times (UTC), sending the "Scheduled Event" AWS sends to the rule's targets.

Every delivery is an asynchronous invocation, queued by :mod:`.async_queue` like an
``InvocationType=Event`` invoke: the function's concurrency, retries (default 2), on-success /
on-failure destinations and dead-letter queue apply. Invariant: a delivery never fails the request
that caused it (a Publish, a PutObject, a PutEvents).
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import quote_plus, unquote_plus

from strands_deploy.local.async_queue import install_dead_letter_config

if TYPE_CHECKING:
    from strands_deploy.local.lambda_invoke import LocalLambda
    from strands_deploy.local.settings import ConfigReader

log = logging.getLogger("strands_deploy.local.triggers")

# config.json key: schedules run this many times faster (tests: 60 makes rate(1 minute) fire
# every second); cron times are not sped up
SPEED_KEY = "schedule_speed"


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _iso_ms(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class Deliveries:
    """Invoke a function (by ARN, an alias ARN included) the way AWS services do: an asynchronous
    invocation (queued, retried, sent to the function's destinations or dead-letter queue, see
    :mod:`.async_queue`); a failure is logged, never raised to the caller."""

    def __init__(self, runtime: LocalLambda) -> None:
        self.runtime = runtime

    def send(self, function_arn: str, event: Any, why: str) -> None:
        parts = function_arn.split(":")
        if len(parts) < 7:
            log.warning("%s: %r is not a function ARN; not delivered", why, function_arn)
            return
        account, region = parts[4], parts[3]
        payload = event if isinstance(event, bytes) else json.dumps(event).encode("utf-8")
        try:
            fn = self.runtime.resolve(account, region, function_arn, None)
        except Exception:
            log.warning("%s: function %s does not exist; not delivered", why, function_arn)
            return
        qualifier = parts[7] if len(parts) > 7 else None
        try:  # queued with Event invocations: same concurrency, retries and destinations
            self.runtime.queue_event(fn, payload, account, region, qualifier)
        except Exception:
            log.exception("%s: queueing the event for %s failed", why, function_arn)


# -- SNS ------------------------------------------------------------------------------------------
def sns_event(
    sub: Any, message: str, message_id: str, subject: str | None, attributes: Any
) -> dict[str, Any]:
    """The event SNS sends a subscribed function (one record)."""
    attrs = {
        str(k): {"Type": str(v.get("Type", "String")), "Value": str(v.get("Value", ""))}
        for k, v in (attributes or {}).items()
        if isinstance(v, dict)
    }
    return {
        "Records": [
            {
                "EventSource": "aws:sns",
                "EventVersion": "1.0",
                "EventSubscriptionArn": sub.arn,
                "Sns": {
                    "Type": "Notification",
                    "MessageId": message_id,
                    "TopicArn": sub.topic.arn,
                    "Subject": subject,
                    "Message": message,
                    "Timestamp": _iso_ms(time.time()),
                    "SignatureVersion": "1",
                    "Signature": "local",
                    "SigningCertUrl": "",
                    "UnsubscribeUrl": "",
                    "MessageAttributes": attrs,
                },
            }
        ]
    }


def _install_sns(deliveries: Deliveries) -> None:
    from moto.sns.models import Subscription

    original = Subscription.publish

    def publish(
        self: Any,
        message: str,
        message_id: str,
        subject: str | None = None,
        message_attributes: dict[str, Any] | None = None,
        group_id: str | None = None,
        deduplication_id: str | None = None,
        message_structure: str | None = None,
    ) -> None:
        if self.protocol != "lambda":
            original(
                self,
                message,
                message_id,
                subject,
                message_attributes,
                group_id,
                deduplication_id,
                message_structure,
            )
            return
        matcher = self._filter_policy_matcher
        if matcher is not None and not matcher.matches(message_attributes, message):
            return
        if message_structure == "json":
            message = self._parse_message_structure(message, self.protocol)
        event = sns_event(self, message, message_id, subject, message_attributes)
        deliveries.send(self.endpoint, event, f"SNS {self.topic.arn}")

    Subscription.publish = publish  # type: ignore[method-assign]


# -- S3 -------------------------------------------------------------------------------------------
def _install_s3(deliveries: Deliveries) -> None:
    import moto.s3.notifications as notifications

    def invoke(account_id: str, event_body: Any, fn_arn: str, region_name: str) -> None:
        for record in event_body.get("Records", []) if isinstance(event_body, dict) else []:
            obj = record.get("s3", {}).get("object", {})
            if "key" in obj:  # moto encodes "/" too; S3 leaves it (spaces are "+")
                obj["key"] = quote_plus(unquote_plus(str(obj["key"])), safe="/")
        deliveries.send(fn_arn, event_body, "S3 notification")

    notifications._invoke_awslambda = invoke  # type: ignore[attr-defined]


# -- EventBridge ----------------------------------------------------------------------------------
def event_for_lambda(event: dict[str, Any]) -> dict[str, Any]:
    """moto's internal event → what EventBridge sends a function (ISO time, no ingestion time)."""
    out = {k: v for k, v in event.items() if k != "ingestion-time"}
    when = out.get("time")
    if isinstance(when, (int, float)):
        out["time"] = _iso(float(when))
    elif isinstance(when, datetime):
        out["time"] = when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return out


def _target_payload(target: dict[str, Any], event: dict[str, Any]) -> Any:
    if "Input" in target:
        return str(target["Input"]).encode("utf-8")
    transformer = target.get("InputTransformer")
    if transformer:
        from moto.events.utils import EventTemplateParser

        return EventTemplateParser.parse(
            input_template=transformer.get("InputTemplate"),
            input_paths_map=transformer.get("InputPathsMap", {}),
            event=cast(Any, event),
        )
    return event


def _is_lambda(target: dict[str, Any]) -> bool:
    return str(target.get("Arn", "")).split(":")[2:3] == ["lambda"]


def _install_events(deliveries: Deliveries) -> None:
    import copy

    from moto.events.models import Rule

    original = Rule.send_to_targets

    def send_to_targets(self: Any, original_event: Any, transform_input: bool = True) -> None:
        if not self.event_pattern.matches_event(original_event):
            return
        lambdas = [t for t in self.targets if _is_lambda(t)]
        others = [t for t in self.targets if not _is_lambda(t)]
        if others:
            rest = copy.copy(self)
            rest.targets = others
            original(rest, original_event, transform_input)
        for target in lambdas:
            event = event_for_lambda(dict(original_event))
            payload = _target_payload(target, event) if transform_input else event
            deliveries.send(str(target["Arn"]), payload, f"EventBridge rule {self.name}")

    Rule.send_to_targets = send_to_targets  # type: ignore[method-assign]


def install_trigger_hooks(runtime: LocalLambda) -> Deliveries:
    """Patch moto's SNS, S3 and EventBridge delivery as described above, and keep functions'
    ``DeadLetterConfig`` (see :mod:`.async_queue`). Server process only."""
    deliveries = Deliveries(runtime)
    install_dead_letter_config()  # moto drops DeadLetterConfig; async invocations need it
    _install_sns(deliveries)
    _install_s3(deliveries)
    _install_events(deliveries)
    return deliveries


# -- schedules ------------------------------------------------------------------------------------
_RATE = re.compile(r"rate\(\s*(\d+)\s+(minute|minutes|hour|hours|day|days)\s*\)")
_UNIT = {"minute": 60, "hour": 3600, "day": 86400}
_MONTHS = {
    m: i + 1
    for i, m in enumerate(
        ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
    )
}
_DAYS = {d: i + 1 for i, d in enumerate(["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"])}  # AWS: 1 = Sunday


def rate_seconds(expression: str) -> float | None:
    m = _RATE.fullmatch(expression.strip())
    if not m:
        return None
    return int(m.group(1)) * _UNIT[m.group(2).rstrip("s")]


def _field(text: str, low: int, high: int, names: dict[str, int] | None = None) -> set[int] | None:
    """One cron field → the values it allows (None: ``*`` or ``?``, anything)."""
    if text in ("*", "?"):
        return None
    values: set[int] = set()
    for part in text.upper().split(","):
        base, slash, step_text = part.partition("/")
        step = int(step_text) if slash else 1
        if base in ("*", "?", ""):
            start, end = low, high
        elif "-" in base:
            a, b = base.split("-", 1)
            start, end = _value(a, names), _value(b, names)
        else:
            start = _value(base, names)
            end = high if slash else start  # 5/10: from 5, every 10
        if step < 1 or start < low or end > high:
            raise ValueError(f"cron field {text!r} out of range")
        values.update(range(start, end + 1, step))
    return values


def _value(text: str, names: dict[str, int] | None) -> int:
    if names and text in names:
        return names[text]
    return int(text)


@dataclass(frozen=True)
class Cron:
    """An EventBridge cron: minutes hours day-of-month month day-of-week year, in UTC
    (``L``, ``W`` and ``#`` are not supported: such a rule never fires locally)."""

    minutes: set[int] | None
    hours: set[int] | None
    days: set[int] | None
    months: set[int] | None
    weekdays: set[int] | None
    years: set[int] | None

    @classmethod
    def parse(cls, expression: str) -> Cron | None:
        text = expression.strip()
        if not (text.startswith("cron(") and text.endswith(")")):
            return None
        fields = text[5:-1].split()
        if len(fields) != 6 or any(c in f.upper() for f in fields for c in "LW#"):
            return None
        try:
            return cls(
                _field(fields[0], 0, 59),
                _field(fields[1], 0, 23),
                _field(fields[2], 1, 31),
                _field(fields[3], 1, 12, _MONTHS),
                _field(fields[4], 1, 7, _DAYS),
                _field(fields[5], 1970, 2199),
            )
        except ValueError:
            return None

    def _day_ok(self, day: datetime) -> bool:
        weekday = (day.weekday() + 1) % 7 + 1  # Python: Monday = 0; AWS: Sunday = 1
        return (
            (self.years is None or day.year in self.years)
            and (self.months is None or day.month in self.months)
            and (self.days is None or day.day in self.days)
            and (self.weekdays is None or weekday in self.weekdays)
        )

    def next_after(self, ts: float) -> float | None:
        """The first time strictly after ``ts`` (seconds) the cron fires; None within 5 years."""
        after = datetime.fromtimestamp(ts, UTC)
        day = after.replace(hour=0, minute=0, second=0, microsecond=0)
        hours = sorted(self.hours) if self.hours is not None else list(range(24))
        minutes = sorted(self.minutes) if self.minutes is not None else list(range(60))
        for _ in range(366 * 5):
            if self._day_ok(day):
                for h in hours:
                    for m in minutes:
                        when = day.replace(hour=h, minute=m)
                        if when > after:
                            return when.timestamp()
            day += timedelta(days=1)
        return None


def next_fire(expression: str, after: float, speed: float = 1.0) -> float | None:
    """When a schedule fires next after ``after``: a rate one period (divided by ``speed``) later;
    a cron at its next time. None for an expression the local cloud cannot run."""
    period = rate_seconds(expression)
    if period is not None:
        return after + period / max(speed, 1e-9)
    cron = Cron.parse(expression)
    return cron.next_after(after) if cron else None


def scheduled_event(rule: Any, when: float) -> dict[str, Any]:
    """What EventBridge sends for a scheduled rule, in moto's internal shape (``time`` in epoch
    seconds, as moto's other targets expect; a function gets it as ISO 8601, see
    :func:`event_for_lambda`)."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": rule.account_id,
        "time": when,
        "region": rule.region_name,
        "resources": [rule.arn],
        "detail": {},
    }


def scheduled_rules() -> Iterator[Any]:
    """Every enabled rule with a schedule, in every account and region moto holds."""
    from moto.events.models import events_backends

    for account in list(events_backends.keys()):
        for region in list(events_backends[account].keys()):
            backend = events_backends[account][region]
            for bus in list(backend.event_buses.values()):
                for rule in list(bus.rules.values()):
                    if getattr(rule, "scheduled_expression", None) and rule.state == "ENABLED":
                        yield rule


class Scheduler:
    """Fires scheduled EventBridge rules: a rate rule one period after it is first seen, then
    every period; a cron rule at each of its times. ``clock``, ``wait`` (sleep until the next
    check or a stop) and ``speed`` are injectable; the thread wakes at most every ``tick`` seconds
    (a new rule is noticed within a tick) and never spins."""

    def __init__(
        self,
        fire: Callable[[Any, dict[str, Any]], None],
        *,
        rules: Callable[[], Iterator[Any]] = scheduled_rules,
        clock: Callable[[], float] = time.time,
        speed: Callable[[], float] = lambda: 1.0,
        tick: float = 1.0,
    ) -> None:
        self.fire = fire
        self.rules = rules
        self.clock = clock
        self.speed = speed
        self.tick = tick
        self._due: dict[tuple[str, str], float | None] = {}  # (rule ARN, expression) → next time
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def run_due(self) -> int:
        """Fire every rule whose time has come; returns how many fired."""
        now = self.clock()
        speed = self.speed()
        fired = 0
        with self._lock:
            seen = set()
            for rule in self.rules():
                key = (str(rule.arn), str(rule.scheduled_expression))
                seen.add(key)
                if key not in self._due:
                    self._due[key] = next_fire(key[1], now, speed)
                    if self._due[key] is None:
                        log.warning("schedule %r of rule %s cannot run locally", key[1], rule.name)
                due = self._due[key]
                if due is None or due > now:
                    continue
                try:
                    self.fire(rule, scheduled_event(rule, now))
                except Exception:
                    log.exception("scheduled rule %s failed to fire", rule.name)
                fired += 1
                self._due[key] = next_fire(key[1], max(now, due), speed)
            for key in set(self._due) - seen:  # deleted or disabled rules
                del self._due[key]
        return fired

    def reset(self) -> None:
        with self._lock:
            self._due.clear()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, daemon=True, name="scheduler")
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.tick):
            try:
                self.run_due()
            except Exception:  # moto state changing under us: try again next tick
                log.exception("scheduler tick failed")

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)


def server_scheduler(config: ConfigReader) -> Scheduler:
    """The server's scheduler: rules fire through moto's targets (patched for Lambda above);
    ``schedule_speed`` in config.json speeds up rates."""

    def speed() -> float:
        try:
            return max(float(config.get().get(SPEED_KEY) or 1.0), 1.0)
        except (TypeError, ValueError):
            return 1.0

    def fire(rule: Any, event: dict[str, Any]) -> None:
        rule.send_to_targets(event, transform_input=True)

    return Scheduler(fire, speed=speed)
