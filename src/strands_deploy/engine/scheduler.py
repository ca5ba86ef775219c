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

# How often a walk that can be cancelled looks at the cancel flag while nodes are in flight.
CANCEL_POLL_SECONDS = 0.25


@dataclass
class WalkResult:
    done: list[str] = field(default_factory=list)
    failed: dict[str, BaseException] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)  # address -> root cause address
    not_started: list[str] = field(default_factory=list)  # cancelled before start

    @property
    def ok(self) -> bool:
        return not self.failed and not self.skipped and not self.not_started


class Scheduler:
    """One walk of ``nodes``: call ``task(node)`` for each, after all of its ``deps`` (within ``nodes``).

    State, all touched only by the thread that calls :meth:`run` (workers only run ``task``):

    - ``_waiting_on[n]``: the dependencies of ``n`` not yet done; ``n`` is ready when it is empty.
    - ``_dependents[n]``: the nodes that wait on ``n`` (the reverse edges).
    - ``_ready``: a heap of ``(-priority, node)``; the highest priority pops first, ties by name.
    - ``_in_flight[group]``: how many nodes of each group are running; never above its limit.
    - ``_blocked[n]``: the root cause that keeps ``n`` from ever starting (a failed dependency).

    Invariant: a node is in at most one of ready / running / finished / blocked, and ends in
    ``finished`` (done or failed), ``blocked`` (skipped) or neither (not started: cancelled).
    """

    def __init__(
        self,
        nodes: set[str],
        deps: dict[str, set[str]],
        task: Callable[[str], None],
        *,
        concurrency: int,
        cancel: threading.Event | None = None,
        block_on_failure: bool = True,
        on_skip: Callable[[str, str], None] | None = None,
        priority: dict[str, float] | None = None,
        groups: dict[str, str] | None = None,
        group_limits: dict[str, int] | None = None,
    ) -> None:
        self.nodes = set(nodes)
        self.task = task
        self.concurrency = max(1, concurrency)
        self.cancel = cancel
        self.block_on_failure = block_on_failure
        self.on_skip = on_skip
        self.priority = priority or {}
        self.group_of = groups or {}
        self.group_limits = group_limits or {}

        self.result = WalkResult()
        # Dependencies outside ``nodes`` are someone else's business: they count as done.
        self._waiting_on = {n: set(deps.get(n, ())) & self.nodes for n in self.nodes}
        self._dependents: dict[str, set[str]] = {n: set() for n in self.nodes}
        for n, ds in self._waiting_on.items():
            for d in ds:
                self._dependents[d].add(n)
        self._ready: list[tuple[float, str]] = []
        self._running: dict[Future[None], str] = {}
        self._in_flight: dict[str, int] = {}
        self._finished: set[str] = set()
        self._blocked: dict[str, str] = {}

    # --- the walk ---------------------------------------------------------------------------

    def run(self) -> WalkResult:
        """Walk the whole graph (or until cancelled and drained); return what happened to each node."""
        with ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="strands-apply") as pool:
            for n, ds in self._waiting_on.items():
                if not ds:
                    self._make_ready(n)
            while self._ready or self._running:
                self._start_ready(pool)
                if not self._running:
                    break  # cancelled, or every ready node is blocked
                timeout = CANCEL_POLL_SECONDS if self.cancel is not None else None
                done, _ = wait(list(self._running), timeout=timeout, return_when=FIRST_COMPLETED)
                for fut in done:
                    self._finish(self._running.pop(fut), fut.exception())
        started = self._finished | set(self._blocked)
        self.result.not_started = sorted(n for n in self.nodes if n not in started)
        return self.result

    def cancelled(self) -> bool:
        return self.cancel is not None and self.cancel.is_set()

    # --- steps ------------------------------------------------------------------------------

    def _make_ready(self, node: str) -> None:
        heapq.heappush(self._ready, (-self.priority.get(node, 0.0), node))

    def _group_full(self, node: str) -> bool:
        group = self.group_of.get(node)
        if group is None or group not in self.group_limits:
            return False
        return self._in_flight.get(group, 0) >= self.group_limits[group]

    def _start_ready(self, pool: ThreadPoolExecutor) -> None:
        """Start ready nodes, best priority first, while a worker is free and nothing cancelled."""
        held: list[tuple[float, str]] = []  # ready, but their group is at its limit
        while self._ready and len(self._running) < self.concurrency and not self.cancelled():
            item = heapq.heappop(self._ready)
            node = item[1]
            if node in self._blocked:
                continue
            if self._group_full(node):
                held.append(item)
                continue
            group = self.group_of.get(node)
            if group is not None:
                self._in_flight[group] = self._in_flight.get(group, 0) + 1
            self._running[pool.submit(self.task, node)] = node
        for item in held:
            heapq.heappush(self._ready, item)

    def _finish(self, node: str, exc: BaseException | None) -> None:
        """Record ``node``'s outcome and release (or skip) the nodes waiting on it."""
        self._finished.add(node)
        group = self.group_of.get(node)
        if group is not None:
            self._in_flight[group] -= 1
        if exc is None:
            self.result.done.append(node)
        else:
            self.result.failed[node] = exc
            if self.block_on_failure:
                self._skip_dependents(node)
                return
        for m in self._dependents[node]:
            self._waiting_on[m].discard(node)
            if not self._waiting_on[m] and m not in self._blocked:
                self._make_ready(m)

    def _skip_dependents(self, root: str) -> None:
        """Mark every transitive dependent of ``root`` skipped, with ``root`` as the cause."""
        stack = list(self._dependents[root])
        while stack:
            n = stack.pop()
            if n in self._blocked or n in self._finished:
                continue
            self._blocked[n] = root
            self.result.skipped[n] = root
            if self.on_skip:
                self.on_skip(n, root)
            stack.extend(self._dependents[n])


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
    return Scheduler(
        nodes,
        deps,
        run,
        concurrency=concurrency,
        cancel=cancel,
        block_on_failure=block_on_failure,
        on_skip=on_skip,
        priority=priority,
        groups=groups,
        group_limits=group_limits,
    ).run()
