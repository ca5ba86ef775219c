"""Rollouts against the local cloud: real worker processes behind a weighted alias, real metrics
through GetMetricData, a real state file, a local webhook receiver; time from a fake clock whose
``sleep`` sends the hold's traffic instead of sleeping."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest

from strands_deploy.aws.session import AwsContext, AwsSettings
from strands_deploy.config.rollout_schema import RolloutConfig, RolloutNotify
from strands_deploy.providers.base import ProviderContext
from strands_deploy.rollout import control
from strands_deploy.rollout import record as rec
from strands_deploy.rollout.notify import Notifier
from strands_deploy.rollout.runner import Rollout, RolloutDeps
from strands_deploy.state.backend import LocalFileBackend
from strands_deploy.state.model import ResourceState, State
from strands_deploy.state.store import StateStore
from tests.conftest import stop_process
from tests.integration.local.conftest import Cloud, make_zip, start_server

OLD = "def handler(event, context):\n    return {'response': 'old ' + event.get('prompt', '')}\n"
# the new version raises on every third prompt
NEW_BAD = (
    "def handler(event, context):\n"
    "    if event.get('n', 0) % 3 == 0:\n"
    "        raise RuntimeError('new version broke')\n"
    "    return {'response': 'new ' + event.get('prompt', ''), 'usage': {'inputTokens': 10, 'outputTokens': 5}}\n"
)
NEW_GOOD = "def handler(event, context):\n    return {'response': 'new ' + event.get('prompt', '')}\n"


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cloud]:
    root = tmp_path_factory.mktemp("rollout-cloud")
    server = start_server(root / "state", root / "server.log")
    try:
        yield server
    finally:
        stop_process(server.proc)


class Receiver:
    """A webhook receiver on 127.0.0.1, stopped by the test that started it."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        received = self.bodies

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    try:
        yield r
    finally:
        r.stop()


class Traffic:
    """A fake clock: ``sleep`` sends ``per_sleep`` invocations to the alias, then moves time on."""

    def __init__(self, cloud: Cloud, function: str, per_sleep: int = 12) -> None:
        self.lam = cloud.client("lambda")
        self.function = function
        self.per_sleep = per_sleep
        self.t = time.time()
        self.slept: list[float] = []
        self.n = 0
        self.executed: list[str] = []

    def now(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        for _ in range(self.per_sleep):
            self.n += 1
            resp = self.lam.invoke(
                FunctionName=self.function,
                Qualifier="live",
                Payload=json.dumps({"prompt": f"p{self.n}", "n": self.n}).encode(),
            )
            self.executed.append(resp["ExecutedVersion"])
        self.t += seconds


def _role(cloud: Cloud) -> str:
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
    iam = cloud.client("iam")
    name = f"role-{uuid.uuid4().hex[:8]}"
    return str(iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"])


def deployed(cloud: Cloud, tmp_path: Path, new_code: str) -> tuple[str, LocalFileBackend]:
    """A function whose `live` alias serves version 1, version 2 published and held (as the
    alias provider leaves it with `traffic: hold`), and the state recording that."""
    lam = cloud.client("lambda")
    name = f"agent-{uuid.uuid4().hex[:8]}"
    lam.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=_role(cloud),
        Handler="app.handler",
        Code={"ZipFile": make_zip({"app.py": OLD})},
        Timeout=10,
    )
    assert lam.publish_version(FunctionName=name)["Version"] == "1"
    arn = lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1")["AliasArn"]
    lam.update_function_code(FunctionName=name, ZipFile=make_zip({"app.py": new_code}))
    assert lam.publish_version(FunctionName=name)["Version"] == "2"
    backend = LocalFileBackend(tmp_path, "test")
    state = State(environment="test")
    state.resources["agent.support.alias"] = ResourceState(
        type="aws.lambda.alias",
        physical_id=arn,
        inputs={"function_name": name, "name": "live", "revision": "r2", "traffic": "hold"},
        outputs={"arn": arn, "name": "live", "version": "1", "candidate": "2"},
        agent="support",
    )
    control.record_versions(state, ["support"], "tester")
    state.rollouts["support"]["versions"].insert(0, {"version": "1", "outcome": "deployed"})
    StateStore(backend, state).flush()
    return name, backend


def deps_for(
    cloud: Cloud, tmp_path: Path, backend: LocalFileBackend, clock: Any, notify: Notifier
) -> RolloutDeps:
    aws = AwsContext(AwsSettings(region="us-east-1", endpoint_url=cloud.endpoint, local=True, max_attempts=2))
    ctx = ProviderContext(
        aws=aws,
        project="p",
        environment="test",
        project_dir=tmp_path,
        cache_dir=tmp_path / ".cache",
        target="local",
    )

    def read() -> State:
        state = backend.read()
        assert state is not None
        return state

    def save(change: Any) -> State:
        store = StateStore(backend, read())
        store.mutate(change)
        return store.state

    return RolloutDeps(
        ctx=ctx, save=save, read=read, notifier=notify, root=tmp_path, environment="test", clock=clock
    )


def test_canary_that_breaks_rolls_back_and_notifies(cloud: Cloud, tmp_path: Path, receiver: Receiver) -> None:
    name, backend = deployed(cloud, tmp_path, NEW_BAD)
    cloud.set_config(routing_seed=7)
    clock = Traffic(cloud, name)
    targets = [RolloutNotify.model_validate({"webhook": {"secret": "hook"}})]
    notifier = Notifier(targets, "test", lambda secret: receiver.url)
    config = RolloutConfig.model_validate(
        {
            "strategy": "canary",
            "steps": ["50%"],
            "hold": "2m",
            "check_every": "30s",
            "gates": {"error_rate": "5%", "min_invocations": 3},
        }
    )
    deps = deps_for(cloud, tmp_path, backend, clock, notifier)
    audited: list[tuple[str, str, str]] = []
    deps.audit = lambda *entry: audited.append(entry)
    result = Rollout(deps, config).start("support", name, "live", "1", "2", "tester")
    assert result.status == "rolled-back"
    assert audited == [("rollout support", "rolled-back", f"version 2: {result.reason}")]
    assert result.reason is not None and "error rate" in result.reason
    assert "2" in clock.executed and "1" in clock.executed  # the canary took part of the traffic
    alias = cloud.client("lambda").get_alias(FunctionName=name, Name="live")
    assert alias["FunctionVersion"] == "1"
    assert not (alias.get("RoutingConfig") or {}).get("AdditionalVersionWeights")
    # traffic is back on the old version
    for _ in range(5):
        assert cloud.client("lambda").invoke(FunctionName=name, Qualifier="live")["ExecutedVersion"] == "1"
    state = backend.read()
    assert state is not None
    saved = rec.current(state.rollouts, "support")
    assert saved is not None and saved.status == "rolled-back" and "error rate" in (saved.reason or "")
    assert [h["event"] for h in saved.history] == ["started", "step", "rolled-back"]
    assert state.resources["agent.support.alias"].outputs["version"] == "1"
    assert state.resources["agent.support.alias"].inputs["revision"] is None  # the next deploy retries
    assert [v["outcome"] for v in state.rollouts["support"]["versions"]] == ["deployed", "rolled-back"]
    assert [b["event"] for b in receiver.bodies] == ["started", "step", "rolled-back"]
    assert "error rate" in receiver.bodies[-1]["detail"]
    assert clock.slept == [30.0]  # rolled back at the first check, not after the whole hold


def test_linear_rollout_promotes_on_a_fake_clock(cloud: Cloud, tmp_path: Path) -> None:
    name, backend = deployed(cloud, tmp_path, NEW_GOOD)
    clock = Traffic(cloud, name, per_sleep=4)
    config = RolloutConfig.model_validate(
        {
            "strategy": "linear",
            "steps": {"every": "1m", "step": "25%"},
            "check_every": "1m",
            "gates": {"error_rate": "1%", "p95_latency_ms": 60000},
        }
    )
    result = Rollout(deps_for(cloud, tmp_path, backend, clock, Notifier([], "test", str)), config).start(
        "support", name, "live", "1", "2", "tester"
    )
    assert result.status == "promoted"
    assert clock.slept == [60.0, 60.0, 60.0]  # three steps of one minute: 25%, 50%, 75%
    steps = [h["weight"] for h in result.history if h["event"] == "step"]
    assert steps == [0.25, 0.5, 0.75]
    alias = cloud.client("lambda").get_alias(FunctionName=name, Name="live")
    assert alias["FunctionVersion"] == "2"
    state = backend.read()
    assert state is not None
    assert state.resources["agent.support.alias"].outputs["version"] == "2"
    assert "candidate" not in state.resources["agent.support.alias"].outputs
    # rollback to the previous version, then to a named one, each one call
    deps = deps_for(cloud, tmp_path, backend, clock, Notifier([], "test", str))
    back = control.rollback(deps, state, "support", None, "tester")
    assert back.new_version == "1"
    assert cloud.client("lambda").get_alias(FunctionName=name, Name="live")["FunctionVersion"] == "1"
    state = backend.read()
    assert state is not None
    control.rollback(deps, state, "support", "2", "tester")
    assert cloud.client("lambda").get_alias(FunctionName=name, Name="live")["FunctionVersion"] == "2"
    table = control.versions(deps, backend.read() or state, "support")
    assert table["serving"] == "2"
    with pytest.raises(Exception, match="does not exist"):
        control.rollback(deps, backend.read() or state, "support", "9", "tester")


def test_failing_eval_suite_blocks_before_traffic_moves(cloud: Cloud, tmp_path: Path) -> None:
    from strands_deploy.rollout import evals as ev

    name, backend = deployed(cloud, tmp_path, NEW_GOOD)
    (tmp_path / "suite.yaml").write_text(
        "pass_rate: 100%\ncases:\n  - {name: polite, prompt: hello, expect: {contains: 'goodbye'}}\n"
        "  - {name: echo, prompt: hi, expect: {regex: '^new hi$'}}\n"
    )
    lam = cloud.client("lambda")

    def run_evals(suite: str, function: str, version: str) -> str | None:
        result = ev.run_suite(ev.load_suite(tmp_path / suite), ev.lambda_invoker(lam, function, version))
        assert [r.passed for r in result.results] == [False, True]  # ran against version 2 itself
        return None if result.passed else result.summary()

    clock = Traffic(cloud, name)
    deps = deps_for(cloud, tmp_path, backend, clock, Notifier([], "test", str))
    deps.run_evals = run_evals
    config = RolloutConfig.model_validate({"strategy": "canary", "gates": {"evals": "suite.yaml"}})
    result = Rollout(deps, config).start("support", name, "live", "1", "2", "tester")
    assert result.status == "failed" and "polite" in (result.reason or "")
    assert clock.slept == []
    alias = lam.get_alias(FunctionName=name, Name="live")
    assert alias["FunctionVersion"] == "1" and not (alias.get("RoutingConfig") or {}).get(
        "AdditionalVersionWeights"
    )


@pytest.mark.parametrize("decision", ["promote", "abort"])
def test_blue_green_promote_and_abort(cloud: Cloud, tmp_path: Path, decision: str) -> None:
    name, backend = deployed(cloud, tmp_path, NEW_GOOD)
    lam = cloud.client("lambda")
    deps = deps_for(cloud, tmp_path, backend, Traffic(cloud, name), Notifier([], "test", str))
    config = RolloutConfig.model_validate("blue-green")
    result = Rollout(deps, config).start("support", name, "live", "1", "2", "tester")
    assert result.status == "waiting"
    assert lam.invoke(FunctionName=name, Qualifier="live-green")["ExecutedVersion"] == "2"
    assert lam.invoke(FunctionName=name, Qualifier="live")["ExecutedVersion"] == "1"
    state = backend.read()
    assert state is not None
    if decision == "promote":
        control.promote(deps, state, "support", config)
        assert lam.get_alias(FunctionName=name, Name="live")["FunctionVersion"] == "2"
    else:
        control.abort(deps, state, "support", "tester")
        assert lam.get_alias(FunctionName=name, Name="live")["FunctionVersion"] == "1"
    aliases = [a["Name"] for a in lam.list_aliases(FunctionName=name)["Aliases"]]
    assert aliases == ["live"]


def test_alias_weights_are_honoured_within_statistical_bounds(cloud: Cloud, tmp_path: Path) -> None:
    name, _ = deployed(cloud, tmp_path, NEW_GOOD)
    lam = cloud.client("lambda")
    lam.update_alias(
        FunctionName=name,
        Name="live",
        FunctionVersion="1",
        RoutingConfig={"AdditionalVersionWeights": {"2": 0.3}},
    )
    cloud.set_config(routing_seed=11)
    runs = 200
    executed = [lam.invoke(FunctionName=name, Qualifier="live")["ExecutedVersion"] for _ in range(runs)]
    share = executed.count("2") / runs
    assert 0.3 - 0.1 < share < 0.3 + 0.1  # 3 standard deviations of a binomial(200, 0.3)
    # per-version metrics, as Lambda publishes them, served by GetMetricData
    from strands_deploy.rollout.metrics import version_stats

    stats = version_stats(cloud.client("cloudwatch"), name, "live", "2", time.time() - 120, time.time())
    assert stats.invocations == executed.count("2")
    assert stats.errors == 0 and stats.p95_ms is not None and stats.p95_ms > 0
