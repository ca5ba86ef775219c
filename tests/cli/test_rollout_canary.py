"""A canary through the installed console script against a local cloud: `deploy` of a new version
that fails holds 50% of the traffic, the gate reads the new version's errors through
GetMetricData, traffic goes back to the old version, and the rollback shows in `deploy --json`,
`rollout status --json`, `versions`, the state history and exit code 3.

Time: the deploy runs with ``STRANDS_ROLLOUT_CLOCK`` set, so its hold lasts until this test,
having sent the step's traffic, drops a `tick` file: nothing sleeps for the hold."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import BIN, Cli, stop_process
from tests.helpers import write_project
from tests.integration.local.conftest import Cloud, start_server

PROJECT = """\
project: can
region: us-east-1
agents:
  support:
    path: agents/support
    entry: agent.py:handler
environments:
  local:
    endpoint: "{endpoint}"
    rollout:
      strategy: canary
      steps: [50%]
      hold: 10m
      check_every: 10m
      gates: {{error_rate: 5%, min_invocations: 1}}
"""
OLD = "def handler(event, context):\n    return {'response': 'old'}\n"
NEW = "def handler(event, context):\n    raise RuntimeError('the new version broke')\n"
FUNCTION = "can-local-support"


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cloud]:
    root = tmp_path_factory.mktemp("canary-cloud")
    server = start_server(root / "state", root / "server.log")
    try:
        yield server
    finally:
        stop_process(server.proc)


def _wait_for_weights(lam: Any, proc: subprocess.Popen[str], function: str) -> dict[str, float]:
    """The alias's weights once the canary's step moved them (the deploy is still holding)."""
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        _, weights = _serving(lam, function)
        if weights:
            return weights
        if proc.poll() is not None:
            out, err = proc.communicate()
            raise AssertionError(f"deploy ended before the canary step ({proc.returncode}):\n{err}\n{out}")
        time.sleep(0.05)
    raise AssertionError("the canary step never moved the alias's weights")


def test_canary_rolls_back_through_the_cli(cloud: Cloud, tmp_path: Path) -> None:
    root = write_project(
        tmp_path / "p", PROJECT.format(endpoint=cloud.endpoint), agents={"support": OLD}, requirements=""
    )
    cli = Cli(root)
    first = cli("deploy", "--json")
    assert first.returncode == 0, first.stderr + first.stdout
    lam = cloud.client("lambda")
    assert lam.get_alias(FunctionName=FUNCTION, Name="live")["FunctionVersion"] == "1"

    (root / "agents" / "support" / "agent.py").write_text(NEW)
    ticks = tmp_path / "ticks"
    ticks.mkdir()
    cloud.set_config(routing_seed=5)
    proc = subprocess.Popen(
        [str(BIN), "-C", str(root), "deploy", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**cli.env, "STRANDS_ROLLOUT_CLOCK": str(ticks)},
    )
    try:
        assert _wait_for_weights(lam, proc, FUNCTION) == {"2": 0.5}
        executed = [
            lam.invoke(FunctionName=FUNCTION, Qualifier="live", Payload=b'{"prompt": "hi"}')[
                "ExecutedVersion"
            ]
            for _ in range(12)
        ]
        assert "2" in executed and "1" in executed  # the canary took part of the traffic
        (ticks / "tick").write_text("")  # the hold has passed: the gate reads the metrics now
        out, err = proc.communicate(timeout=180)
    finally:
        if proc.poll() is None:
            stop_process(proc)  # type: ignore[arg-type]
    assert proc.returncode == 3, err + out  # applied, but the rollout rolled back
    (rollout,) = json.loads(out)["rollouts"]
    assert rollout["status"] == "rolled-back" and "error rate" in rollout["reason"]
    assert not (ticks / "tick").exists()  # the deploy's clock used the tick

    alias = lam.get_alias(FunctionName=FUNCTION, Name="live")
    assert alias["FunctionVersion"] == "1"
    assert not (alias.get("RoutingConfig") or {}).get("AdditionalVersionWeights")
    for _ in range(3):
        assert lam.invoke(FunctionName=FUNCTION, Qualifier="live")["ExecutedVersion"] == "1"

    status = cli("rollout", "status", "--json")
    assert status.returncode == 0, status.stderr
    (saved,) = json.loads(status.stdout)
    assert saved["status"] == "rolled-back" and saved["reason"] == rollout["reason"]
    assert [h["event"] for h in saved["history"]] == ["started", "step", "rolled-back"]
    human = cli("rollout", "status")
    assert "canary rolled-back" in human.stdout and "error rate" in human.stdout

    versions = json.loads(cli("versions", "support", "--json").stdout)
    assert versions["serving"] == "1"
    assert [(v["version"], v["outcome"]) for v in versions["versions"]] == [
        ("1", "deployed"),
        ("2", "rolled-back"),
    ]
    history = cli("state", "history", "--json")
    assert history.returncode == 0, history.stderr
    # each of the rollout's writes is a state version; the rollback's moved the alias's record back
    writes = [(e["command"], e["summary"]) for e in json.loads(history.stdout)]
    assert ("rollout", "~1 agent.support.alias") in writes
    assert writes.index(("rollout", "~1 agent.support.alias")) < [c for c, _ in writes].index("deploy")
    assert os.environ.get("STRANDS_ROLLOUT_CLOCK") is None  # the hook never leaks into this process


def _interrupted_deploy(
    cli: Cli, root: Path, ticks: Path, lam: Any, function: str, answer: str
) -> tuple[int, str, str]:
    """`deploy` of new code, Ctrl-C (SIGINT) once its canary holds the first step, then ``answer``
    to the prompt; (exit code, stdout, stderr)."""
    proc = subprocess.Popen(
        [str(BIN), "-C", str(root), "deploy"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**cli.env, "STRANDS_ROLLOUT_CLOCK": str(ticks)},
    )
    try:
        _wait_for_weights(lam, proc, function)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(input=answer + "\n", timeout=180)
    finally:
        if proc.poll() is None:
            stop_process(proc)  # type: ignore[arg-type]
    return proc.returncode, out, err


def _serving(lam: Any, function: str) -> tuple[str, dict[str, float]]:
    """(the alias's primary version, its additional weights)."""
    alias = lam.get_alias(FunctionName=function, Name="live")
    return alias["FunctionVersion"], dict(
        (alias.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {}
    )


def test_ctrl_c_asks_leave_abort_or_roll_back(cloud: Cloud, tmp_path: Path) -> None:
    code = "def handler(event, context):\n    return {'response': 'v%d'}\n"
    root = write_project(
        tmp_path / "p",
        PROJECT.format(endpoint=cloud.endpoint).replace("project: can", "project: cc"),
        agents={"support": code % 1},
        requirements="",
    )
    function = "cc-local-support"
    cli = Cli(root)
    assert cli("deploy", "--json").returncode == 0
    lam = cloud.client("lambda")
    ticks = tmp_path / "ticks"
    ticks.mkdir()
    agent_py = root / "agents" / "support" / "agent.py"

    # leave running: the deploy ends, the canary keeps its 50%, `rollout resume` finishes it
    agent_py.write_text(code % 2)
    rc, out, err = _interrupted_deploy(cli, root, ticks, lam, function, "l")
    assert rc == 0, err + out
    assert "interrupted: [l]eave running, [a]bort, [r]oll back" in out
    assert "rollout resume support" in err
    assert _serving(lam, function) == ("1", {"2": 0.5})
    (status,) = json.loads(cli("rollout", "status", "--json").stdout)
    assert status["status"] == "running" and status["weight"] == 0.5
    (ticks / "tick").write_text("")  # the resumed hold passes at once
    resumed = subprocess.run(
        [str(BIN), "-C", str(root), "rollout", "resume", "support", "--json"],
        capture_output=True,
        text=True,
        env={**cli.env, "STRANDS_ROLLOUT_CLOCK": str(ticks)},
        timeout=180,
    )
    assert resumed.returncode == 0, resumed.stderr
    assert json.loads(resumed.stdout)[0]["status"] == "promoted"
    assert _serving(lam, function) == ("2", {})

    # abort: traffic back on the old version, status aborted, exit 3
    agent_py.write_text(code % 3)
    rc, out, err = _interrupted_deploy(cli, root, ticks, lam, function, "a")
    assert rc == 3, err + out
    assert _serving(lam, function) == ("2", {})
    (status,) = json.loads(cli("rollout", "status", "--json").stdout)
    assert status["status"] == "aborted" and status["new_version"] == "3"

    # roll back: the same, recorded as a rollback
    agent_py.write_text(code % 4)
    rc, out, err = _interrupted_deploy(cli, root, ticks, lam, function, "r")
    assert rc == 3, err + out
    assert _serving(lam, function) == ("2", {})
    (status,) = json.loads(cli("rollout", "status", "--json").stdout)
    assert status["status"] == "rolled-back" and "rolled back by" in status["reason"]
    assert not (ticks / "tick").exists()
