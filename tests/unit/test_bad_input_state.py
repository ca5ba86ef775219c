"""issue 10 (defect 6): every malformed state file gets what / where / how to fix, never a
KeyError, a TypeError or a misleading 'newer strands-deploy'."""

from __future__ import annotations

import errno
import json
import os
import time
from pathlib import Path
from typing import Any

import pytest

from strands_deploy.errors import StrandsDeployError
from strands_deploy.state import backend as backend_module
from strands_deploy.state.backend import LocalFileBackend, StateWriteError, state_write_error
from strands_deploy.state.model import ResourceState, State

GOOD: dict[str, Any] = {
    "version": 1,
    "tool_version": "0.1.0",
    "environment": "dev",
    "lineage": "l-1",
    "serial": 3,
    "resources": {
        "agent.bot.role": {"type": "aws_iam_role", "physical_id": "bot-role", "inputs": {}, "outputs": {}}
    },
    "pending": [],
}


def doc(**changes: Any) -> bytes:
    d = {**GOOD, **changes}
    return json.dumps({k: v for k, v in d.items() if v is not DROP}).encode()


DROP = object()


def read_error(tmp_path: Path, data: bytes) -> StrandsDeployError:
    backend = LocalFileBackend(tmp_path, "dev")
    backend.path.write_bytes(data)
    with pytest.raises(StrandsDeployError) as info:
        backend.read()
    err = info.value
    assert type(err) is StrandsDeployError
    assert err.where and str(backend.path) in err.where
    assert err.fix and "unexpected" not in err.what.lower() and "report" not in err.what.lower()
    return err


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        (b"[1, 2]", "the top level is a list"),
        (b"null", "the top level is null"),
        (b'"a string"', "the top level is a string"),
        (b"42", "the top level is a number"),
        (doc(resources=[]), "`resources` is a list"),
        (doc(resources=None), "`resources` is null"),
        (doc(resources={"a.b": 7}), "resource 'a.b' is a number"),
        (doc(resources={"a.b": {"physical_id": "x"}}), "resource 'a.b' has no `type`"),
        (doc(resources={"a.b": {"type": "t"}}), "resource 'a.b' has no `physical_id`"),
        (doc(resources={"a.b": {"type": "t", "physical_id": "x", "inputs": [1]}}), "`inputs` is a list"),
        (doc(pending={}), "`pending` is an object, expected a list"),
        (doc(pending=[{"id": "x"}]), "pending operation #1 has no `address`"),
        (doc(pending=["x"]), "pending operation #1 is a string"),
        (
            b'{"version": 1, "environment": "dev", "lineage": "l", "serial": 1e400}',
            "`serial` field is invalid",
        ),
        (doc(serial=-1), "`serial` field is invalid"),
        (doc(serial=1.5), "`serial` field is invalid"),
        (doc(serial="3"), "`serial` field is invalid"),
        (doc(serial=True), "`serial` field is invalid"),
        (doc(serial=DROP), "`serial` field is invalid (missing"),
        (doc(lineage=None), "`lineage` is null"),
        (doc(lineage=""), "`lineage` field is empty"),
        (doc(version=DROP), "no `version` field"),
        (doc(version=0), "`version` field is invalid"),
        (doc(version=None), "`version` field is invalid"),
    ],
)
def test_malformed_state_documents(tmp_path: Path, data: bytes, needle: str) -> None:
    err = read_error(tmp_path, data)
    assert "malformed" in err.what and needle in err.what, err.what
    assert "restore it from version control or a backup" in (err.fix or "")


def test_version_as_a_string_is_invalid_not_newer(tmp_path: Path) -> None:
    err = read_error(tmp_path, doc(version="1"))
    assert "`version` field is invalid ('1'" in err.what
    assert "newer" not in err.what


def test_newer_version_says_upgrade(tmp_path: Path) -> None:
    err = read_error(tmp_path, doc(version=7, tool_version="9.9.9"))
    assert "newer strands-deploy (state version 7, this one reads 1)" in err.what
    assert "upgrade strands-deploy (written by 9.9.9)" in (err.fix or "")


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        (json.dumps(GOOD).encode("utf-16"), "not UTF-8 text (it looks like UTF-16)"),
        (json.dumps(GOOD).encode("utf-16-le"), "not UTF-8 text (it looks like UTF-16)"),
        (json.dumps(GOOD).encode("utf-32"), "not UTF-8 text (it looks like UTF-32)"),
        (b'{"version": 1,\n "environment": "d\xe9v"}', "not UTF-8 text (invalid byte 0xe9 at line 2)"),
        (doc()[:40] + b"\x00" * 64, "contains NUL bytes"),
        (b"\x00" * 128, "contains NUL bytes"),
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        (b'{"a":' * 100_000 + b"1" + b"}" * 100_000, "nested too deeply"),
    ],
)
def test_unreadable_bytes(tmp_path: Path, data: bytes, needle: str) -> None:
    err = read_error(tmp_path, data)
    assert needle in err.what, err.what


def test_fix_names_the_backup_when_there_is_one(tmp_path: Path) -> None:
    backend = LocalFileBackend(tmp_path, "dev")
    backend.write(State(environment="dev", serial=1))
    backend.write(State(environment="dev", lineage=backend.read().lineage, serial=2))  # type: ignore[union-attr]
    err = read_error(tmp_path, b"[]")
    assert f"copy {tmp_path / 'dev.json.backup'} over dev.json" in (err.fix or "")


def test_not_a_regular_file(tmp_path: Path) -> None:
    backend = LocalFileBackend(tmp_path, "dev")
    os.mkfifo(backend.path)  # would block forever if it were opened for a plain read
    with pytest.raises(StrandsDeployError, match="not a regular file"):
        backend.read()


def test_a_utf8_bom_is_accepted(tmp_path: Path) -> None:
    backend = LocalFileBackend(tmp_path, "dev")
    backend.path.write_bytes(b"\xef\xbb\xbf" + doc())
    state = backend.read()
    assert state is not None and state.serial == 3


def test_binding_fields_round_trip_and_older_files_load(tmp_path: Path) -> None:
    backend = LocalFileBackend(tmp_path, "dev")
    backend.path.write_bytes(doc())  # written before the binding fields existed
    old = backend.read()
    assert old is not None and (old.project, old.account, old.region) == (None, None, None)
    bound = State(environment="dev", project="acme", account="123456789012", region="us-east-1")
    assert State.from_dict(bound.to_dict()) == bound
    assert bound.copy() == bound and bound.copy() is not bound
    assert bound.to_dict()["project"] == "acme"


def test_a_large_state_still_reads_fast(tmp_path: Path) -> None:
    state = State(environment="dev", serial=1)
    for i in range(1000):
        state.resources[f"agent.a{i}.function"] = ResourceState(
            "aws_lambda_function",
            f"acme-dev-a{i}",
            {"memory": 1024, "env": {f"K{j}": "v" * 40 for j in range(16)}, "code": {"hash": "0" * 16}},
            {"arn": f"arn:aws:lambda:us-east-1:123456789012:function:acme-dev-a{i}", "version": "3"},
            [f"agent.a{i}.role", "resource.items.table"],
            agent=f"a{i}",
        )
    backend = LocalFileBackend(tmp_path, "dev")
    backend.write(state)
    assert backend.path.stat().st_size > 1_000_000
    best = min(_timed(LocalFileBackend(tmp_path, "dev").read) for _ in range(3))
    assert best < 0.1, best


def _timed(fn: Any) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


# -- failed writes -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("code", "needle", "fix"),
    [
        (errno.ENOSPC, "the local disk is full: the state could not be saved", "free some disk space"),
        (errno.EROFS, "the state folder is read-only / not writable", "writable"),
        (errno.EACCES, "the state folder is read-only / not writable", "writable"),
        (errno.EPERM, "the state folder is read-only / not writable", "writable"),
        (errno.EIO, "the state could not be saved: Input/output error", "run the command again"),
    ],
)
def test_write_error_messages(tmp_path: Path, code: int, needle: str, fix: str) -> None:
    err = state_write_error(tmp_path / "dev.json", OSError(code, os.strerror(code)))
    assert isinstance(err, StateWriteError) and needle in err.what
    assert err.where == str(tmp_path / "dev.json") and fix in (err.fix or "")


def test_disk_full_on_fsync(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    backend = LocalFileBackend(tmp_path, "dev")
    backend.write(State(environment="dev", lineage="l", serial=1))
    before = backend.path.read_bytes()

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(backend_module.os, "fsync", full)  # the OS boundary: a disk that filled up
    with pytest.raises(StateWriteError, match="the local disk is full"):
        backend.write(State(environment="dev", lineage="l", serial=2))
    monkeypatch.undo()
    assert backend.path.read_bytes() == before
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]
    backend.write(State(environment="dev", lineage="l", serial=2))


def test_a_state_folder_that_is_a_file(tmp_path: Path) -> None:
    (tmp_path / "state").write_text("not a folder")
    backend = LocalFileBackend(tmp_path / "state", "dev")
    with pytest.raises(StateWriteError, match="could not be saved") as info:
        backend.write(State(environment="dev", serial=1))
    assert info.value.where == str(tmp_path / "state" / "dev.json")


# -- `state unlock` and `lock` agree on a damaged lock (defect 3) -------------------------------
@pytest.mark.parametrize("data", [b"", b"{garbage"])
def test_state_unlock_releases_a_damaged_lock(tmp_path: Path, data: bytes) -> None:
    from click.testing import CliRunner

    from strands_deploy.cli.main import cli
    from tests.helpers import AGENT_PY, write_project

    root = write_project(tmp_path / "p", "project: acme\n", agents={"bot": AGENT_PY})
    lock = root / ".strands" / "state" / "local.lock"
    lock.parent.mkdir(parents=True)
    lock.write_bytes(data)
    with pytest.raises(StrandsDeployError) as info:
        LocalFileBackend(lock.parent, "local").lock("deploy")
    assert "a damaged lock file" in info.value.what
    result = CliRunner().invoke(cli, ["-C", str(root), "state", "unlock"])
    assert result.exit_code == 0, result.output
    assert "Released the lock" in result.output and "damaged lock file" in result.output
    assert not lock.exists()


def test_state_unlock_refuses_a_live_holder_and_releases_a_reused_pid(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from strands_deploy.cli.main import cli
    from strands_deploy.process import process_start_time
    from tests.helpers import AGENT_PY, write_project

    root = write_project(tmp_path / "p", "project: acme\n", agents={"bot": AGENT_PY})
    backend = LocalFileBackend(root / ".strands" / "state", "local")
    held = backend.lock("deploy")
    refused = CliRunner().invoke(cli, ["-C", str(root), "state", "unlock"])
    assert refused.exit_code == 1 and "held by a running process" in str(refused.exception)
    assert backend.lock_info() is not None
    if process_start_time(os.getpid()) is None:
        return
    backend.lock_path.write_text(json.dumps({**held.to_dict(), "start_time": "1"}))  # pid reused
    released = CliRunner().invoke(cli, ["-C", str(root), "state", "unlock"])
    assert released.exit_code == 0, released.output
    assert backend.lock_info() is None
