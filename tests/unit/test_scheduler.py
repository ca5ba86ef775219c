"""The scheduler: dependencies, cancel, priority, group limits, failures and their dependents.

Every ``run`` here is a fake the test controls with events; nothing sleeps to get an order.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest

from strands_deploy.engine.scheduler import Scheduler, WalkResult, walk

WAIT = 5.0  # upper bound for an event that must come; a broken scheduler fails, it does not hang


class Recorder:
    """A fake ``run``: records starts, finishes and how many nodes (per group) are in flight."""

    def __init__(self, groups: dict[str, str] | None = None, fail: set[str] | None = None) -> None:
        self.groups = groups or {}
        self.fail = fail or set()
        self.lock = threading.Lock()
        self.started: list[str] = []
        self.finished: list[str] = []
        self.done_before_start: dict[str, set[str]] = {}
        self.in_flight: dict[str | None, int] = {}
        self.max_in_flight: dict[str | None, int] = {}
        self.total = 0
        self.max_total = 0
        self.gates: dict[str, threading.Event] = {}
        self.started_events: dict[str, threading.Event] = {}

    def gate(self, node: str) -> threading.Event:
        with self.lock:
            return self.gates.setdefault(node, threading.Event())

    def started_event(self, node: str) -> threading.Event:
        with self.lock:
            return self.started_events.setdefault(node, threading.Event())

    def __call__(self, node: str, hold: bool = False) -> None:
        group = self.groups.get(node)
        with self.lock:
            self.started.append(node)
            self.done_before_start[node] = set(self.finished)
            self.in_flight[group] = self.in_flight.get(group, 0) + 1
            self.max_in_flight[group] = max(self.max_in_flight.get(group, 0), self.in_flight[group])
            self.total += 1
            self.max_total = max(self.max_total, self.total)
        self.started_event(node).set()
        if hold:
            assert self.gate(node).wait(WAIT), f"{node} was never released"
        with self.lock:
            self.in_flight[group] -= 1
            self.total -= 1
            self.finished.append(node)
        if node in self.fail:
            raise RuntimeError(f"{node} failed")

    def holding(self) -> Callable[[str], None]:
        """The same fake, but each node stays in flight until the test sets its gate."""
        return lambda node: self(node, hold=True)


def test_empty_graph() -> None:
    calls: list[str] = []
    result = walk(set(), {}, calls.append, concurrency=4)
    assert result == WalkResult() and result.ok and calls == []


def test_dependencies_are_respected() -> None:
    deps = {
        "role": set(),
        "logs": set(),
        "function": {"role", "logs"},
        "alias": {"function"},
        "url": {"alias"},
        "alarm": {"function"},
        "queue": set(),
        "mapping": {"queue", "function"},
    }
    rec = Recorder()
    result = walk(set(deps), deps, rec, concurrency=4)
    assert result.ok and sorted(result.done) == sorted(deps)
    assert sorted(rec.started) == sorted(deps)  # each once
    for node, ds in deps.items():
        assert ds <= rec.done_before_start[node], f"{node} started before {ds - rec.done_before_start[node]}"


def test_a_dependency_outside_the_walk_counts_as_done() -> None:
    rec = Recorder()
    result = walk({"b", "c"}, {"b": {"a"}, "c": {"b", "elsewhere"}}, rec, concurrency=2)
    assert result.done == ["b", "c"] and result.ok


def test_priority_starts_the_highest_ready_node_first() -> None:
    # With one worker the order is exactly the priority order among the nodes ready at each step:
    # "y" becomes ready after "z" and outranks the roots still waiting. (Names sort the other way,
    # so an order by name cannot pass.)
    deps = {"z": set(), "y": {"z"}, "m": set(), "k": set(), "a": set()}
    priority = {"z": 10.0, "y": 5.0, "m": 3.0, "k": 2.0}  # "a" has none: 0
    rec = Recorder()
    result = walk(set(deps), deps, rec, concurrency=1, priority=priority)
    assert rec.started == ["z", "y", "m", "k", "a"]
    assert result.done == rec.started


def test_concurrency_cap_is_never_exceeded() -> None:
    nodes = {f"n{i}" for i in range(12)}
    rec = Recorder()
    scheduler = Scheduler(nodes, {}, rec, concurrency=3)
    assert scheduler.run().ok
    assert rec.max_total <= 3


def test_group_limit_holds_nodes_and_gives_the_workers_to_others() -> None:
    alarms = [f"alarm{i}" for i in range(4)]
    others = ["fn1", "fn2"]
    groups = {a: "alarms" for a in alarms}
    # Alarms first: without the limit the first pass would start all four.
    priority = {a: 10.0 for a in alarms}
    rec = Recorder(groups)
    outcome: list[WalkResult] = []
    walker = threading.Thread(
        target=lambda: outcome.append(
            walk(
                set(alarms + others),
                {},
                rec.holding(),
                concurrency=6,
                priority=priority,
                groups=groups,
                group_limits={"alarms": 2},
            )
        )
    )
    walker.start()
    try:
        # The first pass started two alarms and then both others (which come after the held alarms).
        for node in others:
            assert rec.started_event(node).wait(WAIT)
        with rec.lock:
            first = [n for n in rec.started if n in groups]
        assert len(first) == 2
        for node in others:
            rec.gate(node).set()
        # Release alarms one at a time: each frees one slot for one held alarm.
        for node in alarms:
            assert rec.started_event(node).wait(WAIT), f"{node} never started"
            rec.gate(node).set()
    finally:
        for node in alarms + others:
            rec.gate(node).set()
        walker.join(WAIT)
    assert outcome and outcome[0].ok
    assert rec.max_in_flight["alarms"] == 2
    assert rec.max_in_flight[None] == 2


def test_cancel_stops_new_starts_and_lets_in_flight_nodes_finish() -> None:
    cancel = threading.Event()
    deps = {"a": set(), "b": set(), "c": set(), "d": {"a"}}
    priority = {"a": 3.0, "b": 2.0}  # a and b take the two workers
    rec = Recorder()

    def run(node: str) -> None:
        if node == "a":
            assert rec.started_event("b").wait(WAIT)
            cancel.set()  # b is still in flight: it must be allowed to finish
            rec.gate("b").set()
        rec(node, hold=node == "b")

    result = walk(set(deps), deps, run, concurrency=2, cancel=cancel, priority=priority)
    assert sorted(result.done) == ["a", "b"]
    assert result.not_started == ["c", "d"]
    assert not result.failed and not result.skipped and not result.ok
    assert sorted(rec.started) == ["a", "b"]


def test_a_failure_skips_every_transitive_dependent_and_reports_only_the_root_cause() -> None:
    deps = {
        "a": set(),
        "b": {"a"},  # fails
        "c": {"b"},
        "d": {"c"},
        "e": {"a"},
        "f": {"b", "e"},  # one failed dependency is enough
        "g": set(),
    }
    rec = Recorder(fail={"b"})
    skips: list[tuple[str, str]] = []
    result = walk(set(deps), deps, rec, concurrency=3, on_skip=lambda n, cause: skips.append((n, cause)))
    assert list(result.failed) == ["b"]
    assert isinstance(result.failed["b"], RuntimeError)
    assert result.skipped == {"c": "b", "d": "b", "f": "b"}
    assert sorted(skips) == [("c", "b"), ("d", "b"), ("f", "b")]
    assert sorted(result.done) == ["a", "e", "g"]
    assert result.not_started == []
    assert not {"c", "d", "f"} & set(rec.started)


def test_without_block_on_failure_dependents_proceed() -> None:
    # destroy: a dependent is deleted even when the thing it depended on could not be.
    deps = {"a": set(), "b": {"a"}, "c": {"b"}}
    rec = Recorder(fail={"a"})
    result = walk(set(deps), deps, rec, concurrency=2, block_on_failure=False)
    assert list(result.failed) == ["a"]
    assert result.done == ["b", "c"] and result.skipped == {}
    assert rec.started == ["a", "b", "c"]


@pytest.mark.parametrize("concurrency", [1, 8])
def test_independent_failures_are_each_a_root_cause(concurrency: int) -> None:
    deps = {"x": set(), "y": set(), "z": {"x"}, "w": {"y"}}
    rec = Recorder(fail={"x", "y"})
    result = walk(set(deps), deps, rec, concurrency=concurrency)
    assert sorted(result.failed) == ["x", "y"]
    assert result.skipped == {"z": "x", "w": "y"}
