"""-v (each AWS call with its duration) and the spinner shown while the network is slow.

Both read the call monitor that ``strands_deploy.services`` exposes as ``aws_calls`` (the hooks are
in aws/calllog.py; front ends do not import aws/). The spinner watches the monitor only once the
command has imported services, so ``--help`` and commands that make no AWS call import nothing.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from typing import Any

SLOW_AFTER = 0.5  # seconds a call may wait before the spinner shows
POLL = 0.1


def monitor(import_services: bool) -> Any:
    """The services' call monitor: imported when asked (-v), else only if a command loaded it."""
    if import_services:
        import strands_deploy.services as services
    else:
        services = sys.modules.get("strands_deploy.services")  # type: ignore[assignment]
    return getattr(services, "aws_calls", None) if services is not None else None


def print_call(record: Any) -> None:
    from strands_deploy.cli.common import err_console

    err_console().print(f"[dim]aws {record.describe()}[/dim]", highlight=False, soft_wrap=True)


def spinner_text(call: Any, waiting: int) -> str:
    more = f" (+{waiting - 1} more)" if waiting > 1 else ""
    return f"waiting for AWS: {call.service} {call.operation}{more}…"


_LOCK = threading.RLock()
_HELD = [0]  # displays of the command's own (deploy's live table, chat's spinner) hold the spinner
_ACTIVE: list[SlowCallSpinner] = []


@contextmanager
def hold_spinner() -> Iterator[None]:
    """While a command shows its own live display, the slow-call spinner is hidden and stays so
    (two live displays on one terminal would overwrite each other)."""
    with _LOCK:
        _HELD[0] += 1
        for spinner in _ACTIVE:
            spinner._hide()
    try:
        yield
    finally:
        with _LOCK:
            _HELD[0] -= 1


class SlowCallSpinner:
    """A thread that shows a rich status on stderr while a call has waited more than SLOW_AFTER
    seconds, and removes it when no call is slow any more."""

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="strands-progress", daemon=True)
        self._status: Any = None

    def __enter__(self) -> SlowCallSpinner:
        with _LOCK:
            _ACTIVE.append(self)
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join(timeout=1)
        with _LOCK:
            _ACTIVE.remove(self)
            self._hide()

    def _run(self) -> None:
        while not self._stop.wait(POLL):
            calls = monitor(import_services=False)
            if calls is None:
                continue
            slow = calls.waiting_longer_than(SLOW_AFTER)
            with _LOCK:
                if slow is None or _HELD[0] or self._stop.is_set():
                    self._hide()
                else:
                    self._show(spinner_text(slow, len(calls.in_flight())))

    def _show(self, text: str) -> None:
        if self._status is None:
            from strands_deploy.cli.common import err_console

            self._status = err_console().status(text, spinner="dots")
            self._status.start()
        else:
            self._status.update(text)

    def _hide(self) -> None:
        if self._status is not None:
            self._status.stop()
            self._status = None


@contextmanager
def aws_call_watch(verbose: bool, quiet: bool) -> Iterator[None]:
    """Around a command: -v subscribes a printer; on a terminal (not -q/--json) a spinner."""
    unsubscribe = None
    if verbose:
        calls = monitor(import_services=True)
        if calls is not None:
            unsubscribe = calls.subscribe(print_call)
    spinner: Any = SlowCallSpinner() if not quiet and sys.stderr.isatty() else nullcontext()
    try:
        with spinner:
            yield
    finally:
        if unsubscribe is not None:
            unsubscribe()
