"""Faults that need a cloud that behaves like AWS, played by the benchmark's latency/fault proxy:
throttling (issue 7.4), Ctrl-C (7.2), and 'plan after deploy makes no write call' (issue 2)."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from benchmarks.awsproxy import AwsProxy
from tests.conftest import BIN
from tests.helpers import write_project

AGENT = "agent = None\n"


@pytest.fixture
def proxy(tmp_path: Path) -> Iterator[AwsProxy]:
    with AwsProxy(latency=False, waits=False, limits=False, moto_log=tmp_path / "moto.log") as p:
        yield p


def project(root: Path, endpoint: str, agents: int, tables: int, alarms: bool = True) -> Path:
    lines = ["project: rel", "agents:"]
    for i in range(agents):
        lines.append(f"  a{i}: {{path: agents/a{i}, expose: url, alarms: {str(alarms).lower()}, link: [t0]}}")
    lines.append("resources:")
    lines += [f"  t{i}: {{type: table, key: id}}" for i in range(tables)]
    lines += ["environments:", f'  local: {{endpoint: "{endpoint}"}}']
    return write_project(
        root, "\n".join(lines) + "\n", agents={f"a{i}": AGENT for i in range(agents)}, requirements=""
    )


def test_plan_and_deploy_after_deploy_make_no_write_call(
    tmp_path: Path, proxy: AwsProxy, cli_factory: Any
) -> None:
    cli = cli_factory(project(tmp_path / "p", proxy.endpoint, agents=2, tables=1))
    assert cli("deploy").returncode == 0
    proxy.reset(moto=False)
    plan = cli("plan", "--detailed-exitcode")
    assert plan.returncode == 0, plan.stdout + plan.stderr
    again = cli("deploy")
    assert again.returncode == 0
    stats = proxy.stats()
    assert stats["writes"] == 0, stats["calls"]
    assert stats["reads"] > 0  # the refresh did read the live resources


def test_thirty_percent_throttling_loses_nothing(tmp_path: Path, proxy: AwsProxy, cli_factory: Any) -> None:
    root = project(
        tmp_path / "p", proxy.endpoint, agents=5, tables=9
    )  # 5 x 9 (each agent its own role) + 9 tables = 54
    proxy.configure(throttle_rate=0.3)
    deployed = cli_factory(root)("deploy", "--json")
    assert deployed.returncode == 0, deployed.stderr + deployed.stdout
    result = json.loads(deployed.stdout)["result"]
    assert result["ok"] and not result["failed"] and len(result["applied"]) == 54
    assert sum(proxy.stats()["injected"].values()) > 30  # throttling really happened
    proxy.configure(throttle_rate=0.0)
    state = json.loads((root / ".strands/state/local.json").read_text())
    assert len(state["resources"]) == 54 and state["pending"] == []
    assert cli_factory(root)("plan", "--detailed-exitcode").returncode == 0  # every resource correct


def _start_deploy(root: Path, cli: Any) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [str(BIN), "-C", str(root), "deploy"],
        env=cli.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for_resources(root: Path, n: int, timeout: float = 60) -> None:
    state = root / ".strands/state/local.json"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if len(json.loads(state.read_text())["resources"]) >= n:
                return
        except (OSError, ValueError):
            pass
        time.sleep(0.05)
    raise AssertionError("the deploy recorded nothing in time")


@pytest.mark.parametrize("presses", [1, 2])
def test_ctrl_c(presses: int, tmp_path: Path, proxy: AwsProxy, cli_factory: Any) -> None:
    root = project(tmp_path / "p", proxy.endpoint, agents=6, tables=2, alarms=False)
    proxy.configure(latency=True, scale=1.0)  # real-AWS latencies: the deploy takes a few seconds
    cli = cli_factory(root)
    proc = _start_deploy(root, cli)
    try:
        _wait_for_resources(root, 2)
        for _ in range(presses):
            proc.send_signal(signal.SIGINT)
            time.sleep(0.05)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, err
    state = json.loads((root / ".strands/state/local.json").read_text())
    total = len(json.loads(cli("plan", "--json", "--refresh=false").stdout)["changes"])
    if presses == 1:
        assert "interrupted" in err and "not started" in err  # a summary of done / not done
        assert state["pending"] == []  # calls in flight finished and were recorded
        assert total > 0
    proxy.configure(latency=False)
    rerun = cli("deploy", "--json")
    assert rerun.returncode == 0, rerun.stderr
    assert cli("plan", "--detailed-exitcode").returncode == 0
    assert not (root / ".strands/state/local.lock").exists()
