"""A parallel walk over a dependency graph with a concurrency cap and no cascading errors.

A node starts the moment its dependencies are done (not in waves). When a node fails, every node
that depends on it, directly or not, is marked skipped with the failed node as the root cause, and
only the root cause is reported as a failure. Cancelling stops new starts; nodes in flight finish.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field


@dataclass
class WalkResult:
    done: list[str] = field(default_factory=list)
    failed: dict[str, BaseException] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)  # address -> root cause address
    not_started: list[str] = field(default_factory=list)  # cancelled before start

    @property
    def ok(self) -> bool:
        return not self.failed and not self.skipped and not self.not_started


def walk(
    nodes: set[str],
    deps: dict[str, set[str]],
    run: Callable[[str], None],
    *,
    concurrency: int,
    cancel: threading.Event | None = None,
    block_on_failure: bool = True,
    on_skip: Callable[[str, str], None] | None = None,
) -> WalkResult:
    """Run ``run(node)`` for every node after all of its ``deps`` (restricted to ``nodes``).

    ``block_on_failure=False`` (destroy) lets dependents proceed past a failed node.
    """
    result = WalkResult()
    remaining = {n: set(deps.get(n, set())) & nodes for n in nodes}
    dependents: dict[str, set[str]] = {n: set() for n in nodes}
    for n, ds in remaining.items():
        for d in ds:
            dependents[d].add(n)
    blocked: dict[str, str] = {}
    running: dict[Future[None], str] = {}
    finished: set[str] = set()

    def skip_dependents(root: str, cause: str) -> None:
        stack = list(dependents[root])
        while stack:
            n = stack.pop()
            if n in blocked or n in finished:
                continue
            blocked[n] = cause
            result.skipped[n] = cause
            if on_skip:
                on_skip(n, cause)
            stack.extend(dependents[n])

    with ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix="strands-apply") as pool:
        ready = sorted(n for n, ds in remaining.items() if not ds)
        while ready or running:
            while ready and not (cancel and cancel.is_set()):
                if len(running) >= concurrency:
                    break
                n = ready.pop(0)
                if n in blocked:
                    continue
                running[pool.submit(run, n)] = n
            if cancel is not None and cancel.is_set() and not running:
                break
            if not running:
                break
            done, _ = wait(
                list(running), timeout=0.25 if cancel is not None else None, return_when=FIRST_COMPLETED
            )
            for fut in done:
                n = running.pop(fut)
                finished.add(n)
                exc = fut.exception()
                if exc is not None:
                    result.failed[n] = exc
                    if block_on_failure:
                        skip_dependents(n, n)
                        continue
                else:
                    result.done.append(n)
                for m in sorted(dependents[n]):
                    remaining[m].discard(n)
                    if not remaining[m] and m not in blocked:
                        ready.append(m)
    started = finished | set(blocked)
    result.not_started = sorted(n for n in nodes if n not in started)
    return result
