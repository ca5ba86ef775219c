"""The one process-liveness helper (issue 10, defect 7 and 'one helper instead of three copies')."""

from __future__ import annotations

import ast
import os
import sys
from pathlib import Path

import pytest

from strands_deploy import process
from strands_deploy.process import boot_id, pid_alive, process_start_time, same_process, stat_fields

DEAD_PID = 2**22 + 12345  # above Linux's largest pid_max
LINUX = sys.platform.startswith("linux")


def test_pid_alive() -> None:
    assert pid_alive(os.getpid())
    assert not pid_alive(DEAD_PID)
    assert not pid_alive(0) and not pid_alive(-1)
    assert not pid_alive(10**30)  # not a pid at all (a damaged lock record)


@pytest.mark.skipif(not LINUX, reason="/proc is Linux")
def test_start_time_and_boot_id_on_linux() -> None:
    mine = process_start_time(os.getpid())
    assert mine is not None and mine.isdigit()
    assert process_start_time(os.getpid()) == mine  # stable for the life of the process
    assert process_start_time(1) != mine  # another process, started earlier
    assert process_start_time(DEAD_PID) is None
    assert boot_id() == boot_id() and boot_id()


def test_same_process_tells_a_reused_pid_apart() -> None:
    mine = process_start_time(os.getpid())
    assert same_process(os.getpid(), mine)
    assert same_process(os.getpid(), None)  # nothing recorded: liveness alone decides
    assert not same_process(DEAD_PID, mine)
    if mine is not None:
        assert not same_process(os.getpid(), str(int(mine) + 1))


def test_stat_fields_survive_odd_command_names() -> None:
    # the command name may hold spaces and parentheses: fields are split after the last ')'
    raw = b"4242 (a) b (c)) S 1 4242 4242 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 1 0 987654 1 2\n"
    fields = stat_fields(raw)
    assert fields is not None and fields[0] == "S" and fields[19] == "987654"
    assert stat_fields(b"garbage") is None


def test_the_helper_imports_nothing_heavy() -> None:
    tree = ast.parse(Path(process.__file__).read_text())
    imported = {
        alias.name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, (ast.Import, ast.ImportFrom))
        for alias in (node.names if isinstance(node, ast.Import) else [ast.alias(node.module or "")])
    }
    assert imported <= {"os", "__future__"}, imported


def test_one_copy_of_the_liveness_check() -> None:
    # the three former copies now call the helper: no other module probes pids with os.kill(pid, 0)
    src = Path(process.__file__).parent
    offenders = [
        str(p.relative_to(src))
        for p in src.rglob("*.py")
        if p.name != "process.py" and "os.kill(pid, 0)" in p.read_text()
    ]
    assert offenders == []
