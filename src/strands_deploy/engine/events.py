"""Events the engine emits while it works; the CLI renders them, tests record them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Event:
    kind: str  # start | progress | done | failed | skipped | cancelled
    address: str
    action: str
    message: str = ""
    elapsed: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)


EventSink = Callable[[Event], None]


def null_sink(event: Event) -> None:
    return None
