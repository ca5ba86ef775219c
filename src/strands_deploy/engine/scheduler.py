"""A parallel walk over a dependency graph with a concurrency cap and no cascading errors.

A node starts the moment its dependencies are done (not in waves). When a node fails, every node
that depends on it, directly or not, is marked skipped with the failed node as the root cause, and
only the root cause is reported as a failure. Cancelling stops new starts; nodes in flight finish.
"""

from __future__ import annotations

import heapq
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
    priority: dict[str, float] | None = None,
    groups: dict[str, str] | None = None,
    group_limits: dict[str, int] | None = None,
) -> WalkResult:
    """Run ``run(node)`` for every node after all of its ``deps`` (restricted to ``nodes``).

    ``block_on_failure=False`` (destroy) lets dependents proceed past a failed node.
    Among ready nodes, the highest ``priority`` starts first (the engine passes the length of the
    longest chain still hanging below each node, so the critical path is never queued behind
    leaves). A node whose ``groups`` entry has ``group_limits`` nodes in flight waits, leaving the
    workers to others (e.g. alarms, rate-limited to a few calls a second by AWS).
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

    prio = priority or {}
    group_of = groups or {}
    limits = group_limits or {}
    in_flight: dict[str, int] = {}
    ready: list[tuple[float, str]] = []

    def make_ready(n: str) -> None:
        heapq.heappush(ready, (-prio.get(n, 0.0), n))

    def start_ready(pool: ThreadPoolExecutor) -> None:
        held: list[tuple[float, str]] = []  # ready, but their group is at its limit
        while ready and len(running) < concurrency and not (cancel and cancel.is_set()):
            item = heapq.heappop(ready)
            n = item[1]
            if n in blocked:
                continue
            group = group_of.get(n)
            if group is not None and group in limits and in_flight.get(group, 0) >= limits[group]:
                held.append(item)
                continue
            if group is not None:
                in_flight[group] = in_flight.get(group, 0) + 1
            running[pool.submit(run, n)] = n
        for item in held:
            heapq.heappush(ready, item)

    with ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix="strands-apply") as pool:
        for n, ds in remaining.items():
            if not ds:
                make_ready(n)
        while ready or running:
            start_ready(pool)
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
                group = group_of.get(n)
                if group is not None:
                    in_flight[group] -= 1
                exc = fut.exception()
                if exc is not None:
                    result.failed[n] = exc
                    if block_on_failure:
                        skip_dependents(n, n)
                        continue
                else:
                    result.done.append(n)
                for m in dependents[n]:
                    remaining[m].discard(n)
                    if not remaining[m] and m not in blocked:
                        make_ready(m)
    started = finished | set(blocked)
    result.not_started = sorted(n for n in nodes if n not in started)
    return result
