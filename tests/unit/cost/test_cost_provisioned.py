"""Provisioned concurrency: configuration, synthesis (AWS environments only), its price in the
forecast (hand calculations) and the recommendation from REPORT lines' cold starts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from strands_deploy.config.loader import load_project
from strands_deploy.cost import forecast, load_prices
from strands_deploy.cost.actual import AgentSpec, Report, actual_cost
from strands_deploy.cost.agent_lines import provisioned_share
from strands_deploy.cost.recommend import (
    ModelAdvice,
    ProvisionedAdvice,
    model_advice,
    provisioned_advice,
    recommendations,
)
from strands_deploy.cost.usage import AgentAssumptions
from strands_deploy.errors import StrandsDeployError
from strands_deploy.synth import synthesize
from strands_deploy.synth.graph import Graph
from tests.helpers import write_project

PROJECT = """\
project: acme
region: us-east-1
defaults: {alarms: false}
agents:
  support:
    path: agents/support
    memory: 1024
    architecture: arm64
    model: us.anthropic.claude-sonnet-4-20250514-v1:0
    provisioned_concurrency: 2
    usage: {requests_per_day: 86400, duration_ms: 4000, input_tokens: 0, output_tokens: 0}
environments:
  prod: {}
  quiet:
    agents: {support: {usage: {requests_per_day: 8640, duration_ms: 1000}}}
"""
MONTH_S = 30 * 86400
ARM = {"on_demand": 0.0000133334, "kept": 0.0000033334, "served": 0.0000077778}


def synth(root: Path, env: str) -> tuple[Graph, object]:
    project = load_project(root).for_environment(env)
    graph = synthesize(
        project,
        env,
        target="aws",
        account="111122223333",
        secret_value=lambda s: "",
        fingerprint_key=b"k" * 32,
    )
    return graph, project


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return write_project(tmp_path / "p", PROJECT, agents={"support": "agent = 1\n"})


def test_synthesised_on_the_live_alias_in_aws_environments_only(root: Path) -> None:
    graph, _ = synth(root, "prod")
    res = graph.resources["agent.support.provisioned"]
    assert res.type == "aws.lambda.provisioned_concurrency" and res.props["count"] == 2
    refs = {str(v.address) + "." + v.attr for v in res.props.values() if hasattr(v, "attr")}
    assert refs == {"agent.support.function.name", "agent.support.alias.name"}
    local, _ = synth(root, "local")  # the local cloud: nothing to provision
    assert "agent.support.provisioned" not in local.resources


def test_more_provisioned_than_reserved_is_refused(tmp_path: Path) -> None:
    text = PROJECT.replace(
        "provisioned_concurrency: 2", "provisioned_concurrency: 8\n    reserved_concurrency: 4"
    )
    root = write_project(tmp_path / "p", text, agents={"support": "agent = 1\n"})
    with pytest.raises(
        StrandsDeployError, match=r"provisioned_concurrency \(8\) exceeds reserved_concurrency \(4\)"
    ):
        load_project(root)


def test_forecast_prices_the_instances_and_the_requests_they_serve(root: Path) -> None:
    graph, project = synth(root, "prod")
    fc = forecast(graph, project, "prod", load_prices("us-east-1"))  # type: ignore[arg-type]
    lines = {(x.address, x.item.split(" (")[0]): x for x in fc.lines if x.service == "lambda"}
    # one request a second of 4 s: a mean concurrency of 4, so 2 instances serve half the requests
    gb_s = 86400 * 30 * 4.0 * 1.0
    kept = lines[("agent.support.provisioned", "provisioned concurrency")]
    assert kept.quantity == pytest.approx(2 * 1.0 * MONTH_S)
    assert kept.monthly_usd == pytest.approx(2 * MONTH_S * ARM["kept"])  # $17.28
    served = lines[("agent.support.provisioned", "compute on provisioned instances")]
    assert served.quantity == pytest.approx(gb_s / 2)
    assert served.monthly_usd == pytest.approx(gb_s / 2 * ARM["served"])  # $40.32
    on_demand = lines[("agent.support.function", "compute")]
    assert on_demand.quantity == pytest.approx(gb_s / 2)
    assert on_demand.monthly_usd == pytest.approx(gb_s / 2 * ARM["on_demand"])  # $69.12
    assert fc.by_address()["agent.support.provisioned"] == pytest.approx(17.28 + 40.32, abs=0.01)

    # a tenth of the traffic at 1 s: concurrency 0.1, so the instances serve every request
    graph, project = synth(root, "quiet")
    quiet = forecast(graph, project, "quiet", load_prices("us-east-1"))  # type: ignore[arg-type]
    q = {(x.address, x.item.split(" (")[0]): x for x in quiet.lines if x.service == "lambda"}
    assert q[("agent.support.function", "compute")].quantity == 0
    assert q[("agent.support.provisioned", "compute on provisioned instances")].quantity == pytest.approx(
        8640 * 30 * 1.0
    )


def test_provisioned_share() -> None:
    assert provisioned_share(AgentAssumptions(requests_per_day=86400, duration_ms=4000), 2) == 0.5
    assert provisioned_share(AgentAssumptions(requests_per_day=0), 1) == 1.0


HOUR = 3_600_000
T0 = 1_767_225_600_000  # 2026-01-01T00:00:00Z


def reports(hours: int, per_hour: int, cold_every: int, billed: int = 2000) -> list[Report]:
    out = []
    for h in range(hours):
        for i in range(per_hour):
            n = h * per_hour + i
            init = 800.0 if n % cold_every == 0 else None
            out.append(Report("support", billed - 0.5, billed, 1024, 200, init, T0 + h * HOUR + i * 1000))
    return out


def test_advice_for_steady_traffic_with_frequent_cold_starts() -> None:
    lam = load_prices("us-east-1").services["lambda"]
    # 24 busy hours out of 24, 90 requests an hour of 2 s (0.05 concurrent), every 10th one cold
    rs = reports(24, 90, 10)
    (advice,) = provisioned_advice(rs, lam, {"support": "arm64"}, window_days=1)
    assert isinstance(advice, ProvisionedAdvice)
    assert (advice.recommended, advice.cold_starts, advice.invocations) == (1, 216, 2160)
    assert (advice.busy_hours, advice.hours) == (24, 24) and advice.mean_init_ms == 800.0
    assert advice.cold_starts_per_month == pytest.approx(216 * 30)
    served = 2160 * 2.0 * 1.0 * 30  # GB-seconds a month, all served by the one instance
    expected = MONTH_S * ARM["kept"] - served * (ARM["on_demand"] - ARM["served"])
    assert advice.monthly_cost_usd == pytest.approx(expected)
    assert "provisioned_concurrency: 1 would remove about 6,480 cold starts a month" in advice.text()
    assert advice.to_json()["kind"] == "provisioned_concurrency"


def test_no_advice_for_bursty_traffic_rare_cold_starts_or_few_invocations() -> None:
    lam = load_prices("us-east-1").services["lambda"]
    arch = {"support": "arm64"}
    # two bursts a day apart: 2 busy hours out of 25
    bursty = reports(1, 50, 5) + [
        Report(
            r.agent, r.duration_ms, r.billed_ms, r.memory_mb, r.used_mb, r.init_ms, r.timestamp + 24 * HOUR
        )
        for r in reports(1, 50, 5)
    ]
    assert provisioned_advice(bursty, lam, arch, 2) == []
    assert provisioned_advice(reports(24, 90, 100), lam, arch, 1) == []  # 1% cold
    assert provisioned_advice(reports(1, 4, 1), lam, arch, 1) == []  # 4 invocations say too little


def test_recommendations_read_init_duration_from_report_lines() -> None:
    spec = AgentSpec("support", "us.anthropic.claude-sonnet-4-20250514-v1:0", 1024, "arm64")
    events = []
    for n in range(10):
        init = "\tInit Duration: 512.25 ms" if n % 2 == 0 else ""
        msg = (
            f"REPORT RequestId: r{n}\tDuration: 99.50 ms\tBilled Duration: 100 ms\tMemory Size: 1024 MB"
            f"\tMax Memory Used: 800 MB{init}"
        )
        events.append({"timestamp": T0 + n * 60_000, "message": msg})
    result = actual_cost({"support": events}, {"support": spec}, load_prices("us-east-1"), "x")
    assert [r.init_ms for r in result.reports[:2]] == [512.25, None]
    assert result.reports[3].timestamp == T0 + 3 * 60_000
    (advice,) = recommendations(result, 1)  # memory is right (800 MB peak): only the instances
    assert isinstance(advice, ProvisionedAdvice) and advice.cold_starts == 5


def test_cheaper_models_of_the_same_provider_priced_for_the_agents_tokens() -> None:
    spec = AgentSpec("support", "us.anthropic.claude-sonnet-4-20250514-v1:0", 1024, "arm64")
    line = {
        "msg": "request",
        "session_id": "s",
        "duration_ms": 10,
        "usage": {"inputTokens": 1_000_000, "outputTokens": 100_000},
    }
    result = actual_cost(
        {"support": [{"timestamp": T0, "message": json.dumps(line)}]},
        {"support": spec},
        load_prices("us-east-1"),
        "x",
    )
    advice = model_advice(result, window_days=1)
    # Sonnet 4: $3 + $1.50 a day; Haiku 4.5: $1 + $0.50; Claude 3.5 Haiku: $0.80 + $0.40 (same-priced
    # Sonnets are not cheaper; models of other providers are not proposed)
    assert [(a.candidate, round(a.monthly_saving_usd, 2)) for a in advice] == [
        ("anthropic.claude-haiku-4-5", 90.0),
        ("anthropic.claude-3-5-haiku", 99.0),
    ]
    assert all(isinstance(a, ModelAdvice) and not a.verified for a in advice)
    assert advice[0].window_usd == pytest.approx(4.5) and advice[0].candidate_usd == pytest.approx(1.5)
    assert "not verified: run the agent's eval suite" in advice[0].text()
    assert [a.to_json()["kind"] for a in recommendations(result, 1)] == ["model", "model"]
