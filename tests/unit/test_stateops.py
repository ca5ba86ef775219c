"""State operations without a network: waiting for the lock (fake clock and sleep, a fake
backend passed in), the heartbeat thread, state surgery, the audit record and the history's
change summaries."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from typing import Any

import pytest

from strands_deploy.errors import StrandsDeployError
from strands_deploy.state.backend import LockedError, LockInfo, LockLostError, locked_error
from strands_deploy.state.model import PendingOperation, ResourceState, State
from strands_deploy.stateops import audit, surgery
from strands_deploy.stateops.history import changes_between
from strands_deploy.stateops.lockwait import Heartbeat, acquire

WHERE = "s3://acme-state/acme/dev.json"


# -- lockwait.acquire ------------------------------------------------------------------------------
def holder_info(command: str = "deploy --env dev") -> LockInfo:
    return LockInfo("lock-1", "alice", "laptop", 4242, "2025-01-01T00:00:00Z", command, period=30.0)


class FakeClock:
    def __init__(self) -> None:
        self.t = 100.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        assert seconds > 0
        self.sleeps.append(seconds)
        self.t += seconds


class BusyBackend:
    """Locked by someone else for the first ``busy`` attempts, then free."""

    heartbeat_interval: float | None = None

    def __init__(self, busy: int, holder: LockInfo | None = None) -> None:
        self.busy = busy
        self.holder = holder if holder is not None else holder_info()
        self.attempts: list[str] = []

    def lock(self, command: str) -> LockInfo:
        self.attempts.append(command)
        if len(self.attempts) <= self.busy:
            raise locked_error("dev", WHERE, self.holder)
        return LockInfo("mine", "bob", "ci", 1, "2025-01-01T00:00:01Z", command)


def test_acquire_counts_down_while_waiting_then_says_the_wait_is_over() -> None:
    clock = FakeClock()
    backend = BusyBackend(busy=3)
    waits: list[tuple[LockInfo | None, float]] = []
    held = acquire(
        backend,  # type: ignore[arg-type]
        "destroy",
        timeout=10,
        on_wait=lambda h, left: waits.append((h, left)),
        poll=1.0,
        clock=clock,
        sleep=clock.sleep,
    )
    assert held.id == "mine" and held.command == "destroy"
    assert backend.attempts == ["destroy"] * 4
    assert [left for _, left in waits] == [10.0, 9.0, 8.0, 0.0]
    assert all(h is backend.holder for h, _ in waits[:3])  # the countdown shows who holds it
    assert waits[-1] == (None, 0.0)  # done waiting
    assert clock.sleeps == [1.0, 1.0, 1.0]


def test_acquire_without_contention_never_calls_on_wait() -> None:
    clock = FakeClock()
    waits: list[Any] = []
    acquire(
        BusyBackend(busy=0),  # type: ignore[arg-type]
        "deploy",
        timeout=60,
        on_wait=lambda h, left: waits.append((h, left)),
        clock=clock,
        sleep=clock.sleep,
    )
    assert waits == [] and clock.sleeps == []


def test_acquire_gives_up_after_the_timeout_with_the_last_locked_error() -> None:
    clock = FakeClock()
    backend = BusyBackend(busy=1000)
    waits: list[float] = []
    with pytest.raises(LockedError) as info:
        acquire(
            backend,  # type: ignore[arg-type]
            "deploy",
            timeout=3,
            on_wait=lambda h, left: waits.append(left),
            poll=1.0,
            clock=clock,
            sleep=clock.sleep,
        )
    assert "(waited 3s for it)" in info.value.what
    assert "pid 4242" in info.value.what and "deploy --env dev" in info.value.what
    assert info.value.holder is backend.holder and info.value.fix
    assert waits == [3.0, 2.0, 1.0]  # decreasing, and never the "done" call
    assert clock.sleeps == [1.0, 1.0, 1.0] and clock.t == 103.0
    assert len(backend.attempts) == 4


def test_acquire_never_sleeps_past_the_deadline() -> None:
    clock = FakeClock()
    with pytest.raises(LockedError) as info:
        acquire(
            BusyBackend(busy=1000),  # type: ignore[arg-type]
            "deploy",
            timeout=2,
            poll=1.5,
            clock=clock,
            sleep=clock.sleep,
        )
    assert "(waited 2s for it)" in info.value.what
    assert clock.sleeps == [1.5, 0.5] and clock.t == 102.0


def test_acquire_without_a_timeout_fails_at_once() -> None:
    clock = FakeClock()
    backend = BusyBackend(busy=1)
    waits: list[Any] = []
    with pytest.raises(LockedError) as info:
        acquire(backend, "deploy", on_wait=lambda *a: waits.append(a), clock=clock, sleep=clock.sleep)  # type: ignore[arg-type]
    assert "waited" not in info.value.what
    assert waits == [] and clock.sleeps == [] and len(backend.attempts) == 1


def test_acquire_lets_other_errors_through_at_once() -> None:
    class Broken(BusyBackend):
        def lock(self, command: str) -> LockInfo:
            self.attempts.append(command)
            raise StrandsDeployError("S3 denied s3:PutObject", WHERE, "grant it")

    clock = FakeClock()
    backend = Broken(busy=0)
    with pytest.raises(StrandsDeployError, match="denied"):
        acquire(backend, "deploy", timeout=60, clock=clock, sleep=clock.sleep)  # type: ignore[arg-type]
    assert len(backend.attempts) == 1 and clock.sleeps == []


# -- lockwait.Heartbeat ----------------------------------------------------------------------------
class BeatingBackend:
    """``heartbeat`` follows a script: "ok", "network" (a transient failure) or "lost"."""

    def __init__(self, script: list[str]) -> None:
        self.script = script
        self.calls = 0
        self.done = threading.Event()

    def heartbeat(self, lock: LockInfo) -> None:
        step = self.script[min(self.calls, len(self.script) - 1)]
        self.calls += 1
        if self.calls >= len(self.script):
            self.done.set()
        if step == "network":
            raise StrandsDeployError("cannot reach S3", WHERE, "check the network")
        if step == "lost":
            raise LockLostError("the lock is now held by someone else", WHERE, "run it again")


def test_heartbeat_survives_network_errors_and_stops_when_the_lock_is_lost() -> None:
    backend = BeatingBackend(["ok", "network", "ok", "lost", "ok"])
    with Heartbeat(backend, holder_info(), 0.01) as beat:  # type: ignore[arg-type]
        deadline = time.monotonic() + 10
        while beat.error is None or not isinstance(beat.error, LockLostError):
            assert time.monotonic() < deadline
            time.sleep(0.01)
        time.sleep(0.1)
    assert backend.calls == 4  # nothing after the lost lock
    assert beat.beats == 2  # the network error and the loss are not beats
    assert isinstance(beat.error, LockLostError)


def test_heartbeat_without_an_interval_starts_no_thread() -> None:
    backend = BeatingBackend(["ok"])
    before = threading.active_count()
    with Heartbeat(backend, holder_info(), None) as beat:  # type: ignore[arg-type]
        assert threading.active_count() == before
    assert backend.calls == 0 and beat.beats == 0


# -- surgery ---------------------------------------------------------------------------------------
def surgery_state() -> State:
    s = State(environment="dev", lineage="l", serial=7)
    s.resources["agent.bot.role"] = ResourceState("aws_iam_role", "acme-dev-bot-role", {}, {"arn": "r"})
    s.resources["agent.bot.function"] = ResourceState(
        "aws_lambda_function", "acme-dev-bot", {"memory": 512}, {"arn": "f"}, ["agent.bot.role"], agent="bot"
    )
    s.resources["agent.bot.alias"] = ResourceState(
        "aws_lambda_alias", "live", {}, {}, ["agent.bot.function", "agent.bot.role"]
    )
    s.resources["resource.items.table"] = ResourceState("aws_dynamodb_table", "acme-dev-items", {}, {})
    return s


def test_remove_forgets_resources() -> None:
    s = surgery_state()
    assert surgery.remove(s, ["agent.bot.alias", "resource.items.table"], WHERE) == [
        "agent.bot.alias",
        "resource.items.table",
    ]
    assert sorted(s.resources) == ["agent.bot.function", "agent.bot.role"]
    assert s.serial == 7  # the caller writes the result as a new serial


def test_remove_of_a_missing_address_suggests_one_and_removes_nothing() -> None:
    s = surgery_state()
    with pytest.raises(StrandsDeployError) as info:
        surgery.remove(s, ["agent.bot.alias", "agent.bot.functon"], WHERE)
    assert info.value.what == "no resource 'agent.bot.functon' in the state" and info.value.where == WHERE
    assert (info.value.fix or "").startswith("did you mean 'agent.bot.function'? ")
    assert "strands-deploy state list" in (info.value.fix or "")
    assert len(s.resources) == 4  # all or nothing
    with pytest.raises(StrandsDeployError) as info:
        surgery.remove(s, ["zzzz"], WHERE)
    assert "did you mean" not in (info.value.fix or "")


def test_surgery_is_refused_while_operations_are_in_flight() -> None:
    s = surgery_state()
    s.pending["op-1"] = PendingOperation("op-1", "agent.bot.layer", "aws_lambda_layer", "create", {})
    for change in (
        lambda: surgery.remove(s, ["agent.bot.alias"], WHERE),
        lambda: surgery.move(s, "agent.bot.alias", "agent.bot.alias2", WHERE),
    ):
        with pytest.raises(StrandsDeployError) as info:
            change()
        assert "1 operation(s) still in flight" in info.value.what
        assert "strands-deploy deploy" in (info.value.fix or "")
    assert len(s.resources) == 4 and "agent.bot.alias2" not in s.resources


def test_move_renames_and_dependencies_follow() -> None:
    s = surgery_state()
    role = s.resources["agent.bot.role"]
    surgery.move(s, "agent.bot.role", "agent.bot.exec-role", WHERE)
    assert "agent.bot.role" not in s.resources
    assert s.resources["agent.bot.exec-role"] is role  # same record: same physical id, no recreate
    assert s.resources["agent.bot.function"].dependencies == ["agent.bot.exec-role"]
    assert s.resources["agent.bot.alias"].dependencies == ["agent.bot.function", "agent.bot.exec-role"]
    assert s.resources["resource.items.table"].dependencies == []
    assert s.resources["agent.bot.function"].physical_id == "acme-dev-bot"


def test_move_refusals() -> None:
    s = surgery_state()
    with pytest.raises(StrandsDeployError) as info:
        surgery.move(s, "agent.bot.fnction", "agent.bot.fn", WHERE)
    assert "no resource 'agent.bot.fnction'" in info.value.what
    assert "did you mean 'agent.bot.function'?" in (info.value.fix or "")
    with pytest.raises(StrandsDeployError) as info:
        surgery.move(s, "agent.bot.function", "agent.bot.role", WHERE)
    assert "already has a resource at 'agent.bot.role'" in info.value.what
    assert "state rm agent.bot.role" in (info.value.fix or "")
    for bad in ("bot", "agent.bot", "agent.bot.my function"):
        with pytest.raises(StrandsDeployError, match="is not a resource address"):
            surgery.move(s, "agent.bot.function", bad, WHERE)
    assert sorted(s.resources) == sorted(surgery_state().resources)
    assert s.resources["agent.bot.alias"].dependencies == ["agent.bot.function", "agent.bot.role"]


# -- audit -----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("environ", "url"),
    [
        (
            {
                "GITHUB_RUN_ID": "42",
                "GITHUB_REPOSITORY": "acme/bots",
                "GITHUB_SERVER_URL": "https://github.com",
            },
            "https://github.com/acme/bots/actions/runs/42",
        ),
        (  # GitHub Enterprise, and the default server when none is set
            {"GITHUB_RUN_ID": "7", "GITHUB_REPOSITORY": "a/b", "GITHUB_SERVER_URL": "https://ghe.acme.io"},
            "https://ghe.acme.io/a/b/actions/runs/7",
        ),
        ({"GITHUB_RUN_ID": "7", "GITHUB_REPOSITORY": "a/b"}, "https://github.com/a/b/actions/runs/7"),
        (
            {
                "CI_JOB_URL": "https://gitlab.com/acme/bots/-/jobs/9",
                "CI_PIPELINE_URL": "https://gitlab.com/p",
            },
            "https://gitlab.com/acme/bots/-/jobs/9",
        ),
        (
            {"CIRCLE_BUILD_URL": "https://circleci.com/gh/acme/bots/12"},
            "https://circleci.com/gh/acme/bots/12",
        ),
        ({"BUILD_URL": "https://jenkins.acme.io/job/bots/3/"}, "https://jenkins.acme.io/job/bots/3/"),
        (
            {"BUILDKITE_BUILD_URL": "https://buildkite.com/acme/bots/builds/5", "BUILD_URL": "x"},
            "https://buildkite.com/acme/bots/builds/5",
        ),
        ({}, None),
        ({"GITHUB_RUN_ID": "7", "CI": "true", "HOME": "/root"}, None),  # not enough to build a URL
    ],
)
def test_ci_run_url(environ: dict[str, str], url: str | None) -> None:
    assert audit.ci_run_url(environ) == url


def test_audit_record() -> None:
    rec = audit.record(
        environment="prod",
        command="deploy --env prod",
        who="arn:aws:sts::123456789012:assumed-role/deployer/ci",
        result="ok",
        plan_digest="sha256:abc",
        changes={"create": 2, "update": 0, "no-op": 5, "delete": 1},
        serial_before=3,
        serial_after=4,
        environ={"CIRCLE_BUILD_URL": "https://circleci.com/x"},
    )
    assert rec["changes"] == {"create": 2, "delete": 1}
    assert rec["ci_url"] == "https://circleci.com/x"
    assert (rec["serial_before"], rec["serial_after"], rec["result"]) == (3, 4, "ok")
    assert rec["at"].endswith("Z") and rec["host"] and rec["user"]
    assert (
        audit.record(environment="dev", command="c", who=None, result="error", environ={})["ci_url"] is None
    )


def test_digest_is_stable_under_key_order() -> None:
    a = {"actions": [{"address": "agent.bot.function", "action": "create"}], "env": "dev", "n": 1}
    b = {"n": 1, "env": "dev", "actions": [{"action": "create", "address": "agent.bot.function"}]}
    assert audit.digest(a) == audit.digest(b)
    assert audit.digest(a).startswith("sha256:") and len(audit.digest(a)) == len("sha256:") + 64
    assert audit.digest(a) != audit.digest({**a, "n": 2})
    # the order of a list is content, not layout
    assert audit.digest({"x": [1, 2]}) != audit.digest({"x": [2, 1]})
    when = datetime(2025, 1, 2, tzinfo=UTC)
    assert audit.digest({"at": when}) == audit.digest({"at": str(when)})  # non-JSON values: by str


# -- history.changes_between -----------------------------------------------------------------------
def res(phys: str, memory: int = 512, updated_at: str = "2025-01-01T00:00:00Z") -> ResourceState:
    return ResourceState("aws_lambda_function", phys, {"memory": memory}, {}, updated_at=updated_at)


def hstate(resources: dict[str, ResourceState], pending: int = 0) -> State:
    s = State(environment="dev", lineage="l", serial=1, resources=dict(resources))
    for i in range(pending):
        s.pending[f"op-{i}"] = PendingOperation(f"op-{i}", f"agent.p{i}.function", "t", "create", {})
    return s


def test_changes_between() -> None:
    a, b, c = "agent.a.function", "agent.b.function", "agent.c.function"
    assert changes_between(None, hstate({a: res("a"), b: res("b")})) == f"+2 {a}, {b}"
    before = hstate({a: res("a"), b: res("b")})
    after = hstate({a: res("a", memory=1024), c: res("c")})
    assert changes_between(before, after) == f"+1 {c}; ~1 {a}; -1 {b}"
    # only the time a record was updated changed: not a change
    touched = hstate({a: res("a", updated_at="2030-01-01T00:00:00Z"), b: res("b")})
    assert changes_between(before, touched) == "no resource changes"
    assert changes_between(before, before) == "no resource changes"
    assert changes_between(before, hstate({a: res("a"), b: res("b")}, pending=2)) == "2 in flight"
    many = {f"agent.r{i}.function": res(str(i)) for i in range(5)}
    assert changes_between(None, hstate(many)) == (
        "+5 agent.r0.function, agent.r1.function, agent.r2.function (+2 more)"
    )
    assert changes_between(hstate(many), hstate({})) == (
        "-5 agent.r0.function, agent.r1.function, agent.r2.function (+2 more)"
    )
