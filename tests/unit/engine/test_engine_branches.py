"""Every engine branch with a fake provider passed in: create / update / replace / delete ×
failure before / after AWS acted × crash, adoption, ownership, failed state writes, lost lock,
recovery."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from strands_deploy.aws.session import AwsContext, AwsSettings
from strands_deploy.engine.apply import Engine
from strands_deploy.errors import ProblemsError, StrandsDeployError
from strands_deploy.planning.plan import Action, Plan, make_plan
from strands_deploy.providers.base import ProviderContext
from strands_deploy.state.model import ResourceState, State
from strands_deploy.state.store import StateStore
from strands_deploy.synth.graph import Graph, Ref, Resource
from tests.unit.engine.fakes import Crash, FakeCloud, FakeProvider, MemoryBackend

TAGS = {"strands:project": "acme", "strands:environment": "dev"}


class World:
    def __init__(self, tmp: Path, random_id: bool = False) -> None:
        self.cloud = FakeCloud()
        self.providers = {
            "fake.thing": FakeProvider(self.cloud),
            "fake.api": FakeProvider(self.cloud, "fake.api", random_id=True),
        }
        self.backend = MemoryBackend()
        self.ctx = ProviderContext(
            aws=AwsContext(AwsSettings(region="us-east-1", local=True)),
            project="acme",
            environment="dev",
            project_dir=tmp,
            cache_dir=tmp / "cache",
        )
        self.lock = self.backend.lock("deploy")

    def state(self) -> State:
        return self.backend.read() or State(environment="dev")

    def store(self) -> StateStore:
        return StateStore(self.backend, self.state(), lock=self.lock)

    def plan(self, graph: Graph, **kw: Any) -> Plan:
        return make_plan(graph, self.state(), providers=self.providers.__getitem__, **kw)

    def apply(self, graph: Graph, **kw: Any) -> Any:
        plan = self.plan(graph, **kw)
        store = self.store()
        engine = Engine(self.ctx, store, providers=self.providers.__getitem__, concurrency=4)
        return engine.apply(plan)

    def recover(self) -> list[str]:
        engine = Engine(self.ctx, self.store(), providers=self.providers.__getitem__, concurrency=4)
        return engine.recover()


def graph(*resources: Resource) -> Graph:
    g = Graph()
    for r in resources:
        g.add(r)
    return g


def thing(name: str = "a", key: str = "k1", size: int = 1, **extra: Any) -> Resource:
    return Resource(
        f"res.{name}",
        "fake.thing",
        {"name": f"acme-dev-{name}", "key": key, "size": size, "tags": TAGS, **extra},
    )


@pytest.fixture
def world(tmp_path: Path) -> World:
    return World(tmp_path)


def test_create_then_noop(world: World) -> None:
    result = world.apply(graph(thing()))
    assert result.ok and result.applied == ["res.a"]
    assert world.state().resources["res.a"].physical_id == "acme-dev-a"
    assert not world.plan(graph(thing())).has_changes()


def test_create_fails_before_acting_records_nothing(world: World) -> None:
    world.cloud.faults[("create", "res.a")] = "before"
    result = world.apply(graph(thing()))
    assert "res.a" in result.failed
    assert world.state().resources == {} and world.state().pending == {}
    assert world.cloud.items == {}


def test_create_response_lost_records_what_exists_no_duplicate(world: World) -> None:
    world.cloud.faults[("create", "res.a")] = "after"
    result = world.apply(graph(thing()))
    assert "res.a" in result.failed
    record = world.state().resources["res.a"]
    assert record.status == "ok" and record.physical_id == "acme-dev-a"
    assert world.state().pending == {}
    # the next run updates it in place (no replace, no second create)
    again = world.apply(graph(thing()))
    assert again.ok
    assert [op for op, _ in world.cloud.calls].count("create") == 1
    assert len(world.cloud.items) == 1


def test_create_crash_leaves_pending_that_recovery_adopts(world: World) -> None:
    world.cloud.faults[("create", "res.a")] = "crash"
    with pytest.raises(Crash):
        plan = world.plan(graph(thing()))
        store = world.store()
        Engine(world.ctx, store, providers=world.providers.__getitem__, concurrency=1)._apply_one(
            plan.changes[0]
        )
    assert len(world.state().pending) == 1
    assert world.recover() == ["res.a"]
    assert world.state().resources["res.a"].physical_id == "acme-dev-a" and not world.state().pending


def test_random_id_lost_response_never_duplicates(world: World) -> None:
    api = Resource("res.api", "fake.api", {"name": "acme-dev-api", "key": "k", "tags": TAGS})
    world.cloud.faults[("create", "res.api")] = "after"
    world.apply(graph(api))
    # a lost state on top: the next run still finds the first one by name and tags
    world.backend.stored = None
    result = world.apply(graph(api))
    assert result.ok, result.failed
    assert len([i for i in world.cloud.items.values() if i["type"] == "fake.api"]) == 1
    assert result.adopted == ["res.api"]


def test_lost_state_adopts_instead_of_tainting_or_replacing(world: World) -> None:
    g = graph(thing("table", size=1), thing("bucket"))
    assert world.apply(g).ok
    world.cloud.items["acme-dev-table"]["props"]["items"] = 42  # data inside the table
    world.backend.stored = None  # the state file is lost
    result = world.apply(graph(thing("table", size=2), thing("bucket")))
    assert result.ok, result.failed
    assert sorted(result.adopted) == ["res.bucket", "res.table"]
    assert world.cloud.items["acme-dev-table"]["props"]["size"] == 2  # updated in place
    assert [op for op, _ in world.cloud.calls].count("delete") == 0
    assert all(r.status == "ok" for r in world.state().resources.values())
    assert not world.plan(graph(thing("table", size=2), thing("bucket"))).has_changes()


def test_plan_adopts_when_discovery_finds_the_resource(world: World) -> None:
    assert world.apply(graph(thing())).ok
    world.backend.stored = None
    plan = world.plan(graph(thing()), adoptable=lambda address: address == "res.a")
    assert plan.changes[0].action == Action.ADOPT
    store = world.store()
    result = Engine(world.ctx, store, providers=world.providers.__getitem__).apply(plan)
    assert result.ok and result.adopted == ["res.a"]
    assert [op for op, _ in world.cloud.calls].count("create") == 1  # only the first deploy's


def test_already_exists_with_foreign_tags_is_reported_and_untouched(world: World) -> None:
    other = {"strands:project": "other", "strands:environment": "dev"}
    world.cloud.items["acme-dev-a"] = {
        "type": "fake.thing",
        "name": "acme-dev-a",
        "props": {"size": 9},
        "tags": other,
    }
    result = world.apply(graph(thing()))
    assert "res.a" in result.failed and "already exists" in result.failed["res.a"].what
    assert world.cloud.items["acme-dev-a"]["props"] == {"size": 9}
    assert world.state().resources == {} and world.state().pending == {}


def test_adopted_resource_with_immutable_difference_is_recorded_not_replaced(world: World) -> None:
    world.cloud.items["acme-dev-a"] = {
        "type": "fake.thing",
        "name": "acme-dev-a",
        "props": {"name": "acme-dev-a", "key": "other", "size": 1},
        "tags": TAGS,
    }
    result = world.apply(graph(thing(key="k1")))
    assert "cannot change in place" in result.failed["res.a"].what
    assert "res.a" in world.state().resources
    assert ("delete", "res.a") not in world.cloud.calls
    plan = world.plan(graph(thing(key="k1")))
    assert plan.changes[0].action == Action.REPLACE  # shown for review, never done silently


@pytest.mark.parametrize("fault", ["before", "after"])
def test_update_failure_keeps_old_record(world: World, fault: str) -> None:
    assert world.apply(graph(thing(size=1))).ok
    world.cloud.faults[("update", "res.a")] = fault
    result = world.apply(graph(thing(size=2)))
    assert "res.a" in result.failed
    state = world.state()
    assert state.resources["res.a"].inputs["size"] == 1 and not state.pending
    assert world.plan(graph(thing(size=2))).changes[0].action == Action.UPDATE  # tried again next run


def test_replace_whose_delete_fails_keeps_the_old_record(world: World) -> None:
    assert world.apply(graph(thing(key="k1"))).ok
    world.cloud.faults[("delete", "res.a")] = "before"
    result = world.apply(graph(thing(key="k2")))
    assert "res.a" in result.failed
    assert world.state().resources["res.a"].inputs["key"] == "k1"
    assert "acme-dev-a" in world.cloud.items and not world.state().pending


def test_replace_whose_create_fails_leaves_no_stale_record(world: World) -> None:
    assert world.apply(graph(thing(key="k1"))).ok
    world.cloud.faults[("create", "res.a")] = "before"
    result = world.apply(graph(thing(key="k2")))
    assert "res.a" in result.failed
    assert world.state().resources == {} and world.cloud.items == {} and not world.state().pending
    assert world.plan(graph(thing(key="k2"))).changes[0].action == Action.CREATE


@pytest.mark.parametrize("fault", ["before", "after"])
def test_delete_failure(world: World, fault: str) -> None:
    assert world.apply(graph(thing())).ok
    world.cloud.faults[("delete", "res.a")] = fault
    result = world.apply(graph())
    assert "res.a" in result.failed
    if fault == "before":
        assert "res.a" in world.state().resources
    # either way the next run converges without an orphan
    assert world.apply(graph()).ok
    assert world.state().resources == {} and world.cloud.items == {}


def test_delete_refuses_a_resource_tagged_for_another_project(world: World) -> None:
    assert world.apply(graph(thing())).ok
    world.cloud.items["acme-dev-a"]["tags"] = {"strands:project": "other", "strands:environment": "dev"}
    result = world.apply(graph())
    assert "not deleted" in result.failed["res.a"].what
    assert "acme-dev-a" in world.cloud.items


def test_delete_of_something_already_gone_drops_the_record(world: World) -> None:
    assert world.apply(graph(thing())).ok
    world.cloud.items.clear()
    result = world.apply(graph())
    assert result.ok and world.state().resources == {}
    assert ("delete", "res.a") not in world.cloud.calls


def test_failed_state_write_stops_new_calls_and_reaches_every_caller(world: World) -> None:
    many = graph(*(thing(f"r{i}") for i in range(8)))
    world.backend.fail_writes_after = 3
    result = world.apply(many)
    assert result.fatal is not None and "disk is full" in result.fatal.what
    assert not result.ok
    created = [a for op, a in world.cloud.calls if op == "create"]
    stored = State.from_dict(world.backend.stored) if world.backend.stored else State(environment="dev")
    # every created resource is recorded or pending in what is on disk: nothing exists without a journal
    journaled = set(stored.resources) | {p.address for p in stored.pending.values()}
    assert set(created) <= journaled
    assert len(created) < 8  # the run stopped starting AWS calls


def test_lost_lock_stops_the_run(world: World) -> None:
    plan = world.plan(graph(thing("a"), thing("b")))
    store = world.store()
    world.backend.lock_id = "someone-else"  # a forced unlock and another holder
    result = Engine(world.ctx, store, providers=world.providers.__getitem__).apply(plan)
    assert result.fatal is not None and "lock" in result.fatal.what
    assert world.cloud.calls == []


def test_recovery_keeps_ops_whose_find_fails_and_reports_each_by_address(world: World) -> None:
    state = State(environment="dev")
    store = StateStore(world.backend, state)
    store.begin("res.a", "fake.thing", "create", {"name": "acme-dev-a", "tags": TAGS})
    store.begin("res.b", "fake.thing", "create", {"name": "acme-dev-b", "tags": TAGS})
    world.cloud.faults[("find", "res.a")] = "x"
    world.cloud.faults[("find", "res.b")] = "x"
    with pytest.raises(ProblemsError) as info:
        world.recover()
    assert sorted(p.where for p in info.value.problems) == ["res.a", "res.b"]
    assert len(world.state().pending) == 2  # left for the next run


def test_references_are_filled_from_the_state_as_dependencies_finish(world: World) -> None:
    a = thing("a")
    b = Resource(
        "res.b", "fake.thing", {"name": "acme-dev-b", "key": "k", "peer": Ref("res.a", "arn"), "tags": TAGS}
    )
    plan = world.plan(graph(a, b))
    assert isinstance(plan.changes[1].props["peer"], Ref)  # known only after apply
    result = Engine(world.ctx, world.store(), providers=world.providers.__getitem__).apply(plan)
    assert result.ok
    assert world.cloud.items["acme-dev-b"]["props"]["peer"].startswith("arn:fake:acme-dev-a")


def test_engine_never_reads_the_graph(world: World) -> None:
    """The plan is the program: a plan round-tripped through JSON applies the same."""
    plan = world.plan(
        graph(
            thing("a"),
            Resource(
                "res.b",
                "fake.thing",
                {"name": "acme-dev-b", "key": "k", "peer": Ref("res.a", "arn"), "tags": TAGS},
            ),
        )
    )
    again = Plan.from_document(plan.to_document())
    assert again.to_document() == plan.to_document()
    assert Engine(world.ctx, world.store(), providers=world.providers.__getitem__).apply(again).ok


def test_target_matching_nothing_is_an_error(world: World) -> None:
    with pytest.raises(StrandsDeployError) as info:
        world.plan(graph(thing("alpha")), targets={"res.alpah"})
    assert "matches no resource" in info.value.what and "res.alpha" in (info.value.fix or "")


def test_tainted_record_from_older_state_is_replaced(world: World) -> None:
    assert world.apply(graph(thing())).ok
    state = world.state()
    r = state.resources["res.a"]
    state.resources["res.a"] = ResourceState(r.type, r.physical_id, r.inputs, r.outputs, status="tainted")
    world.backend.stored = state.to_dict()
    assert world.plan(graph(thing())).changes[0].action == Action.REPLACE
