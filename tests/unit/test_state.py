from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import pytest

from strands_deploy.engine.scheduler import walk
from strands_deploy.errors import StrandsDeployError
from strands_deploy.state.backend import LocalFileBackend
from strands_deploy.state.model import ResourceState, State
from strands_deploy.state.store import StateStore


def test_round_trip_backup_and_serial(tmp_path: Path) -> None:
    backend = LocalFileBackend(tmp_path, "dev")
    store = StateStore(backend, State(environment="dev"))
    op = store.begin("a", "t", "create", {"x": 1})
    on_disk = backend.read()
    assert on_disk is not None and op in on_disk.pending  # journaled before the call
    store.finish(op, "a", ResourceState("t", "id-a", {"x": 1}, {"arn": "A"}))
    again = backend.read()
    assert again is not None and not again.pending and again.resources["a"].physical_id == "id-a"
    assert again.serial == 2
    backup = json.loads((tmp_path / "dev.json.backup").read_text())
    assert backup["serial"] == 1
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]


def test_group_commit_under_concurrency(tmp_path: Path) -> None:
    backend = LocalFileBackend(tmp_path, "dev")
    store = StateStore(backend, State(environment="dev"))

    def work(i: int) -> None:
        op = store.begin(f"r{i}", "t", "create", {})
        store.finish(op, f"r{i}", ResourceState("t", str(i), {}, {}))

    threads = [threading.Thread(target=work, args=(i,)) for i in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    state = backend.read()
    assert state is not None and len(state.resources) == 40 and not state.pending
    assert store.writes <= 80


def test_bad_state_files(tmp_path: Path) -> None:
    backend = LocalFileBackend(tmp_path, "dev")
    backend.path.write_text("{not json")
    with pytest.raises(StrandsDeployError, match="not valid JSON"):
        backend.read()
    backend.path.write_text(
        json.dumps({"version": 99, "environment": "dev", "lineage": "x", "serial": 1, "tool_version": "9.0"})
    )
    with pytest.raises(StrandsDeployError, match="newer strands-deploy"):
        backend.read()


def test_lock_is_exclusive_and_names_holder(tmp_path: Path) -> None:
    a = LocalFileBackend(tmp_path, "dev")
    b = LocalFileBackend(tmp_path, "dev")
    held = a.lock("deploy")
    with pytest.raises(StrandsDeployError) as info:
        b.lock("destroy")
    assert f"pid {os.getpid()}" in info.value.what and "deploy" in info.value.what
    LocalFileBackend(tmp_path, "prod").lock("deploy")  # other environments are independent
    a.unlock(held)
    b.lock("destroy")


def test_stale_lock_detected(tmp_path: Path) -> None:
    backend = LocalFileBackend(tmp_path, "dev")
    backend.lock("deploy")
    data = json.loads(backend.lock_path.read_text())
    data["pid"] = 2**22 + 12345  # no such process
    backend.lock_path.write_text(json.dumps(data))
    with pytest.raises(StrandsDeployError) as info:
        LocalFileBackend(tmp_path, "dev").lock("deploy")
    assert "no longer running" in info.value.what and "state unlock" in (info.value.fix or "")


def test_walk_parallel_skips_dependents_of_failures() -> None:
    order: list[str] = []
    lock = threading.Lock()

    def run(n: str) -> None:
        with lock:
            order.append(n)
        if n == "b":
            raise RuntimeError("boom")

    deps = {"a": set(), "b": {"a"}, "c": {"b"}, "d": {"c"}, "e": {"a"}}
    result = walk(set(deps), deps, run, concurrency=4)
    assert set(result.done) == {"a", "e"}
    assert set(result.failed) == {"b"}
    assert result.skipped == {"c": "b", "d": "b"}
    assert order.index("a") < order.index("b")


def test_walk_starts_node_when_its_deps_are_done_not_in_waves() -> None:
    started: dict[str, float] = {}
    gate = threading.Event()
    import time

    def run(n: str) -> None:
        started[n] = time.monotonic()
        if n == "slow":
            gate.wait(2)
        if n == "after-fast":
            gate.set()

    deps = {"slow": set(), "fast": set(), "after-fast": {"fast"}}
    walk(set(deps), deps, run, concurrency=4)
    assert started["after-fast"] < started["slow"] + 1.5  # did not wait for the slow sibling
