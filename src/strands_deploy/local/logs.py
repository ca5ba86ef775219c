"""Function logs into moto's CloudWatch Logs backend, in-process, the way Lambda writes them.

One stream per worker (Lambda: one per execution environment), named
``YYYY/MM/DD/[<version>]<32 hex>``; the group is the function's ``LoggingConfig.LogGroup`` or
``/aws/lambda/<name>``, created on first use as Lambda does. ``filter_log_events`` and
``get_log_events`` through boto3 then show what the function printed.

Invariant: writes are serialized by one lock (moto's put_log_events is not thread-safe) and each
batch keeps the order it was given, with timestamps clamped to never decrease (CloudWatch rejects
out-of-order batches, and a START line must stay before the output it introduces).
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from datetime import UTC, datetime
from typing import Any

log = logging.getLogger("strands_deploy.local.logs")
_lock = threading.Lock()


def stream_name(version: str) -> str:
    return f"{datetime.now(UTC):%Y/%m/%d}/[{version}]{uuid.uuid4().hex}"


def now_ms() -> int:
    return int(time.time() * 1000)


def put_lines(account: str, region: str, group: str, stream: str, lines: list[tuple[int, str]]) -> None:
    """Append ``(timestamp_ms, message)`` lines; failures are logged, never raised to the caller."""
    if not lines:
        return
    from moto.logs.models import logs_backends

    events: list[dict[str, Any]] = []
    last = 0
    for ts, msg in lines:
        last = max(last, ts)
        events.append({"timestamp": last, "message": msg})
    try:
        with _lock:
            backend = logs_backends[account][region]
            if group not in backend.groups:
                backend.create_log_group(group, {})
            backend.ensure_log_stream(group, stream)
            for i in range(0, len(events), 1000):
                backend.put_log_events(group, stream, events[i : i + 1000])
    except Exception:
        log.exception("could not write %d log lines to %s %s", len(events), group, stream)
