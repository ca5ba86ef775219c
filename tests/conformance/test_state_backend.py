"""What every state backend guarantees: read, write, serial and lineage rules, lock, stale lock,
unlock, lost lock, concurrent writers, failed writes. Run against each harness in conftest."""

from __future__ import annotations

import os
import socket

import pytest

from strands_deploy.errors import StrandsDeployError
from strands_deploy.process import boot_id, process_start_time
from strands_deploy.state.backend import LockLostError, StateConflictError, StateWriteError
from strands_deploy.state.model import PendingOperation, ResourceState, State
from tests.conformance.conftest import BackendHarness

DEAD_PID = 2**22 + 12345  # above Linux's largest pid_max: never a running process


def sample(serial: int = 1, lineage: str = "lineage-a") -> State:
    state = State(
        environment="dev",
        lineage=lineage,
        serial=serial,
        project="acme",
        account="123456789012",
        region="eu-west-1",
    )
    state.resources["resource.items.table"] = ResourceState(
        "aws_dynamodb_table", "acme-dev-items", {"key": "id"}, {"arn": "arn:aws:dynamodb:::table/x"}, ["a.b"]
    )
    state.pending["op-1"] = PendingOperation("op-1", "agent.bot.role", "aws_iam_role", "create", {"n": 1})
    return state


# -- read / write -------------------------------------------------------------------------------
def test_read_of_a_missing_state_is_none(backend_factory: BackendHarness) -> None:
    assert backend_factory.backend().read() is None


def test_write_then_read_round_trips(backend_factory: BackendHarness) -> None:
    backend = backend_factory.backend()
    assert backend.read() is None
    expected = sample()
    backend.write(expected)
    got = backend_factory.backend().read()
    assert got is not None
    written = got.to_dict().pop("written")
    assert {**got.to_dict(), "written": None} == {**expected.to_dict(), "written": None}
    assert set(written) == {"at", "by", "command"}  # who wrote it, for `state history`
    assert (got.project, got.account, got.region) == ("acme", "123456789012", "eu-west-1")
    assert got.resources["resource.items.table"].dependencies == ["a.b"]
    assert list(got.pending) == ["op-1"] and got.pending["op-1"].action == "create"


def test_a_fresh_environment_writes_without_a_read(backend_factory: BackendHarness) -> None:
    backend = backend_factory.backend()
    backend.write(sample(serial=1))
    backend.write(sample(serial=2))
    got = backend_factory.backend().read()
    assert got is not None and got.serial == 2


# -- serial and lineage --------------------------------------------------------------------------
def test_serial_must_increase(backend_factory: BackendHarness) -> None:
    backend = backend_factory.backend()
    backend.write(sample(serial=5))
    for stale in (5, 4):
        with pytest.raises(StateConflictError, match="serial"):
            backend.write(sample(serial=stale))
    reader = backend_factory.backend()
    got = reader.read()
    assert got is not None and got.serial == 5
    with pytest.raises(StateConflictError, match="serial"):
        reader.write(sample(serial=5))  # not greater than the one it read
    reader.write(sample(serial=6))


def test_another_lineage_is_refused(backend_factory: BackendHarness) -> None:
    backend = backend_factory.backend()
    backend.write(sample(serial=1, lineage="lineage-a"))
    with pytest.raises(StateConflictError, match="lineage"):
        backend.write(sample(serial=2, lineage="lineage-b"))
    other = backend_factory.backend()
    assert other.read() is not None
    with pytest.raises(StateConflictError, match="lineage"):
        other.write(sample(serial=9, lineage="lineage-b"))
    got = backend_factory.backend().read()
    assert got is not None and (got.lineage, got.serial) == ("lineage-a", 1)


def test_an_existing_state_never_read_is_not_overwritten(backend_factory: BackendHarness) -> None:
    backend_factory.backend().write(sample(serial=3))
    blind = backend_factory.backend()
    with pytest.raises(StateConflictError, match="never read"):
        blind.write(sample(serial=10))
    got = backend_factory.backend().read()
    assert got is not None and got.serial == 3


def test_concurrent_writers_never_overwrite_each_other(backend_factory: BackendHarness) -> None:
    # two commands on a fresh environment: both saw no state, the first write wins
    a, b = backend_factory.backend(), backend_factory.backend()
    assert a.read() is None and b.read() is None
    a.write(sample(serial=1, lineage="from-a"))
    with pytest.raises(StateConflictError, match="another command"):
        b.write(sample(serial=1, lineage="from-b"))
    # two commands that read the same state: the second write is refused, whatever its serial
    assert a.read() is not None and b.read() is not None
    a.write(sample(serial=2, lineage="from-a"))
    with pytest.raises(StateConflictError, match="changed by another command"):
        b.write(sample(serial=7, lineage="from-a"))
    got = backend_factory.backend().read()
    assert got is not None and got.serial == 2
    # after reading again, b writes on top of what a wrote
    assert b.read() is not None
    b.write(sample(serial=3, lineage="from-a"))


def test_many_writes_by_one_object_need_no_reread(backend_factory: BackendHarness) -> None:
    backend = backend_factory.backend()
    assert backend.read() is None
    for serial in range(1, 30):
        backend.write(sample(serial=serial))
    got = backend_factory.backend().read()
    assert got is not None and got.serial == 29


# -- failed writes -------------------------------------------------------------------------------
def test_a_failed_write_raises_and_keeps_the_previous_state(backend_factory: BackendHarness) -> None:
    backend = backend_factory.backend()
    backend.write(sample(serial=1))
    with backend_factory.failing_writes(), pytest.raises(StateWriteError) as info:
        backend.write(sample(serial=2))
    assert info.value.where and info.value.fix and "again" in info.value.fix
    assert backend_factory.leftovers("dev") == []
    got = backend_factory.backend().read()
    assert got is not None and got.serial == 1
    backend.write(sample(serial=3))  # once the storage works again, the same object goes on
    got = backend_factory.backend().read()
    assert got is not None and got.serial == 3


def test_a_failed_first_write_leaves_no_state(backend_factory: BackendHarness) -> None:
    backend = backend_factory.backend()
    with backend_factory.failing_writes(), pytest.raises(StateWriteError):
        backend.write(sample(serial=1))
    assert backend_factory.backend().read() is None
    assert backend_factory.leftovers("dev") == []


# -- lock ----------------------------------------------------------------------------------------
def test_lock_excludes_a_second_locker_and_names_the_holder(backend_factory: BackendHarness) -> None:
    a, b = backend_factory.backend(), backend_factory.backend()
    held = a.lock("deploy --env dev")
    with pytest.raises(StrandsDeployError) as info:
        b.lock("destroy")
    assert f"pid {os.getpid()}" in info.value.what and "deploy --env dev" in info.value.what
    assert "no longer running" not in info.value.what  # a live holder is not stale
    backend_factory.backend("prod").lock("deploy")  # environments are independent
    a.unlock(held)
    b.lock("destroy")


def test_lock_records_the_holder_process(backend_factory: BackendHarness) -> None:
    backend = backend_factory.backend()
    held = backend.lock("deploy")
    info = backend_factory.backend().lock_info()
    assert info is not None and info.id == held.id and info.pid == os.getpid()
    assert info.host == socket.gethostname()
    assert info.start_time == process_start_time(os.getpid())
    assert info.boot_id == boot_id()


def _forge(backend_factory: BackendHarness, **fields: object) -> None:
    held = backend_factory.backend().lock("deploy --env dev")
    backend_factory.write_lock_record("dev", {**held.to_dict(), **fields})


def test_a_lock_whose_pid_is_dead_is_stale(backend_factory: BackendHarness) -> None:
    _forge(backend_factory, pid=DEAD_PID)
    with pytest.raises(StrandsDeployError) as info:
        backend_factory.backend().lock("deploy")
    assert "no longer running" in info.value.what and "state unlock --env dev" in (info.value.fix or "")


def test_a_lock_whose_pid_was_reused_is_stale(backend_factory: BackendHarness) -> None:
    if process_start_time(os.getpid()) is None:
        pytest.skip("process start times are not available on this platform")
    # our own pid is alive, but it is not the process that took the lock: it started at another time
    _forge(backend_factory, pid=os.getpid(), start_time="1")
    with pytest.raises(StrandsDeployError) as info:
        backend_factory.backend().lock("deploy")
    assert "no longer running" in info.value.what and "now belongs to another process" in info.value.what
    assert "state unlock --env dev" in (info.value.fix or "")


def test_a_lock_from_before_a_reboot_is_stale(backend_factory: BackendHarness) -> None:
    if boot_id() is None:
        pytest.skip("no boot id on this platform")
    _forge(backend_factory, pid=os.getpid(), boot_id="another-boot")
    with pytest.raises(StrandsDeployError) as info:
        backend_factory.backend().lock("deploy")
    assert "restarted" in info.value.what


def test_a_lock_on_another_host_is_never_called_stale(backend_factory: BackendHarness) -> None:
    _forge(backend_factory, pid=DEAD_PID, host="some-other-host.example")
    holder = backend_factory.backend().lock_info()
    assert holder is not None and holder.stale_reason() is None
    with pytest.raises(StrandsDeployError) as info:
        backend_factory.backend().lock("deploy")
    assert "some-other-host.example" in info.value.what and "no longer running" not in info.value.what


@pytest.mark.parametrize("data", [b"", b"   \n", b"{not json", b"[1, 2]", b'{"id": "x"}', b"\xff\xfe\x00"])
def test_a_damaged_lock_is_reported_and_releasable(backend_factory: BackendHarness, data: bytes) -> None:
    backend_factory.write_lock_bytes("dev", data)
    backend = backend_factory.backend()
    holder = backend.lock_info()
    assert holder is not None and holder.damaged and holder.stale_reason()
    with pytest.raises(StrandsDeployError) as info:
        backend.lock("deploy")
    assert "a damaged lock file" in info.value.what
    assert info.value.fix == "run `strands-deploy state unlock --env dev` to release it"
    with pytest.raises(StrandsDeployError):
        backend.unlock()  # not ours: only a forced unlock (what `state unlock` does) releases it
    backend.unlock(force=True)
    assert backend.lock_info() is None
    backend.lock("deploy")


def test_unlock_by_holder_refusal_and_force(backend_factory: BackendHarness) -> None:
    a, b = backend_factory.backend(), backend_factory.backend()
    a.unlock()  # nothing locked: nothing to do
    held = a.lock("deploy")
    with pytest.raises(StrandsDeployError) as info:
        b.unlock()
    assert "--force" in (info.value.fix or "") and f"pid {os.getpid()}" in info.value.what
    assert b.lock_info() is not None
    a.unlock()  # the holder releases its own lock without naming it
    assert b.lock_info() is None
    held = a.lock("deploy")
    b.unlock(force=True)
    assert a.lock_info() is None
    with pytest.raises(LockLostError):
        a.verify_lock(held)


def test_verify_lock_detects_a_forced_unlock_and_a_new_holder(backend_factory: BackendHarness) -> None:
    a, b = backend_factory.backend(), backend_factory.backend()
    held = a.lock("deploy")
    a.verify_lock(held)  # still ours
    b.unlock(force=True)
    with pytest.raises(LockLostError) as info:
        a.verify_lock(held)
    assert "released" in info.value.what and info.value.fix
    b.lock("destroy")
    with pytest.raises(LockLostError) as info:
        a.verify_lock(held)
    assert "destroy" in info.value.what  # the new holder is named
