"""Confirmation and Ctrl-C handling shared by deploy and destroy."""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import Any

import click

from strands_deploy.errors import StrandsDeployError


def confirm_plan(env_name: str, protect: bool, yes: bool, what: str) -> bool:
    """Ask before acting: protected environments need the environment's name typed, others a
    yes. Without a terminal there is nobody to ask: --yes is required."""
    if yes:
        return True
    if not sys.stdin.isatty():
        raise StrandsDeployError(
            f"{what} needs a confirmation and this is not an interactive terminal"
            + (f" (environment {env_name!r} is protected)" if protect else ""),
            f"environments.{env_name}" + (".protect" if protect else ""),
            f"pass --yes to {what} without a prompt",
        )
    if protect:
        answer = click.prompt(
            f"Environment {env_name!r} is protected. Type the environment name to {what}",
            default="",
            show_default=False,
            err=True,
        )
        return bool(answer.strip() == env_name)
    return click.confirm(
        f"{what.capitalize()} environment {env_name!r} as shown above?", default=False, err=True
    )


@contextmanager
def graceful_interrupt(on_hard_exit: Callable[[], None] | None = None) -> Iterator[threading.Event]:
    """First Ctrl-C: stop starting new work, let calls in flight finish, save the state.
    Second Ctrl-C: exit at once (the journal lets the next run recover); ``on_hard_exit`` runs
    first (it releases the state lock, so the next run needs no unlock)."""
    cancel = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield cancel
        return

    def handler(signum: int, frame: Any) -> None:
        if cancel.is_set():
            if on_hard_exit is not None:
                with suppress(Exception):
                    on_hard_exit()
            os._exit(130)
        cancel.set()
        click.echo(
            "\ninterrupt: finishing the calls in flight and saving the state "
            "(press Ctrl-C again to exit at once)",
            err=True,
        )

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield cancel
    finally:
        signal.signal(signal.SIGINT, previous)
