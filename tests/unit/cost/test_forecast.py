"""Forecasts of fixture projects against hand calculations (shipped price table, us-east-1), the
plan's cost delta and the budget check."""

from __future__ import annotations

from pathlib import Path

import pytest

from strands_deploy.config.loader import load_project
from strands_deploy.cost import budget_check, forecast, load_prices, plan_delta
from strands_deploy.cost.forecast import Forecast
from strands_deploy.cost.prices import base_model_id
from strands_deploy.errors import StrandsDeployError
from strands_deploy.state.model import ResourceState, State
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
    memory: 2048
    architecture: arm64
    model: us.anthropic.claude-sonnet-4-20250514-v1:0
    expose: url
    auth: iam
    sessions: true
    link: [tickets, docs]
    usage: {requests_per_day: 1000, input_tokens: 2000, output_tokens: 500, duration_ms: 3000, session_turns: 5}
  worker:
    path: agents/worker
    memory: 512
    architecture: x86_64
    model: anthropic.claude-3-haiku-20240307-v1:0
    expose: http
    auth: iam
    trigger: jobs
    usage: {requests_per_day: 100, input_tokens: 1000, output_tokens: 100, duration_ms: 1000, cache_read_tokens: 4000}
resources:
  tickets: {type: table, key: id, usage: {stored_gb: 2, writes_per_request: 1}}
  docs: {type: bucket, usage: {stored_gb: 10}}
  jobs: {type: queue}
  api-key: {type: secret, from_env: API_KEY}
environments:
  dev:
    budget: {monthly_usd: 300, alert_at: [50%, 80%, 100%], notify: [{email: ops@example.com}]}
  big:
    budget: {monthly_usd: 1000}
"""


def graph_of(root: Path, env: str = "dev") -> tuple[Graph, object]:
    project = load_project(root).for_environment(env)
    graph = synthesize(
        project,
        env,
        target="aws",
        account="111122223333",
        secret_value=lambda s: "x",
        fingerprint_key=b"k" * 32,
    )
    return graph, project


@pytest.fixture
def project_root(tmp_path: Path) -> Path:
    return write_project(tmp_path / "p", PROJECT, agents={"support": "agent = 1\n", "worker": "agent = 2\n"})


def run(root: Path, env: str = "dev", **kw: object) -> Forecast:
    graph, project = graph_of(root, env)
    return forecast(graph, project, env, load_prices("us-east-1"), **kw)  # type: ignore[arg-type]


def line(fc: Forecast, address: str, item_start: str) -> float:
    found = [x.monthly_usd for x in fc.lines if x.address == address and x.item.startswith(item_start)]
    assert len(found) == 1, (address, item_start, [(x.address, x.item) for x in fc.lines])
    return found[0]


def test_support_agent_matches_the_hand_calculation(project_root: Path) -> None:
    fc = run(project_root)
    # 1000 requests/day × 30 days = 30,000 requests a month
    fn = "agent.support.function"
    assert line(fc, fn, "input tokens") == pytest.approx(30_000 * 2000 / 1e6 * 3.00)  # $180
    assert line(fc, fn, "output tokens") == pytest.approx(30_000 * 500 / 1e6 * 15.00)  # $225
    assert line(fc, fn, "requests") == pytest.approx(30_000 * 0.20 / 1e6)
    # 30,000 × 3 s × 2 GB = 180,000 GB-s at the arm64 price
    assert line(fc, fn, "compute (2048 MB, arm64)") == pytest.approx(180_000 * 0.0000133334)
    assert line(fc, "agent.support.url", "function URL") == 0.0
    # 2 KB of logs a request: 60,000 KB; kept 30 days (the default retention)
    gb = 30_000 * 2 / 1024 / 1024
    assert line(fc, "agent.support.logs", "ingestion") == pytest.approx(gb * 0.50)
    assert line(fc, "agent.support.logs", "storage") == pytest.approx(gb * 0.03)
    # sessions: 2 PUTs a turn, 5 GETs (the history, turns/session) a turn, 1000/day × 30 days kept
    assert line(fc, "shared.sessions", "session writes") == pytest.approx(60_000 * 0.005 / 1000)
    assert line(fc, "shared.sessions", "session reads") == pytest.approx(150_000 * 0.0004 / 1000)
    turn_bytes = 500 * 4 + 2048
    assert line(fc, "shared.sessions", "session storage") == pytest.approx(
        1000 * 30 * turn_bytes / 1024**3 * 0.023
    )
    total = 180 + 225 + 0.006 + 2.400012 + gb * 0.53 + 0.30 + 0.06 + 1000 * 30 * turn_bytes / 1024**3 * 0.023
    assert fc.owner_total("agent.support") == pytest.approx(total)


def test_worker_and_resources_match_the_hand_calculation(project_root: Path) -> None:
    fc = run(project_root)
    fn = "agent.worker.function"
    # 3,000 requests: haiku 3 at $0.25 in, $1.25 out, $0.03 cache read per million tokens
    assert line(fc, fn, "input tokens") == pytest.approx(3000 * 1000 / 1e6 * 0.25)
    assert line(fc, fn, "output tokens") == pytest.approx(3000 * 100 / 1e6 * 1.25)
    assert line(fc, fn, "cache read tokens") == pytest.approx(3000 * 4000 / 1e6 * 0.03)
    assert line(fc, fn, "compute (512 MB, x86_64)") == pytest.approx(3000 * 1 * 0.5 * 0.0000166667)
    assert line(fc, "agent.worker.route", "HTTP API") == pytest.approx(3000 * 1.00 / 1e6)
    # support's 2 tool calls a request are split over its 2 links: 1 read each
    assert line(fc, "resource.tickets.table", "read request units") == pytest.approx(30_000 * 0.125 / 1e6)
    assert line(fc, "resource.tickets.table", "write request units") == pytest.approx(30_000 * 0.625 / 1e6)
    assert line(fc, "resource.tickets.table", "storage") == pytest.approx(2 * 0.25)
    assert line(fc, "resource.tickets.table", "point-in-time") == pytest.approx(2 * 0.20)
    assert line(fc, "resource.docs.bucket", "GET") == pytest.approx(30_000 * 0.0004 / 1000)
    assert line(fc, "resource.docs.bucket", "storage") == pytest.approx(10 * 0.023)
    # the queue triggers worker: each of its 3,000 messages is sent, received and deleted
    assert line(fc, "resource.jobs.queue", "requests") == pytest.approx(9000 * 0.40 / 1e6)
    assert line(fc, "resource.api-key.secret", "secret") == pytest.approx(0.40)
    assert line(fc, "shared.budget", "budget") == 0.0
    assert fc.total == pytest.approx(sum(fc.by_owner().values()))
    data = fc.to_json()
    assert data["prices"]["date"] == "2025-11-01" and data["total_monthly_usd"] == round(fc.total, 2)
    assert data["assumptions"]["worker"]["requests_per_day"] == 100


def test_free_tier_is_off_by_default_and_subtracts_allowances(project_root: Path) -> None:
    paid = run(project_root)
    free = run(project_root, free_tier=True)
    # 33,000 requests and 180,000 + 1,500 GB-s are all inside 1M requests and 400,000 GB-s
    saved = paid.total - free.total
    expected = (33_000 * 0.20 / 1e6) + 180_000 * 0.0000133334 + 1500 * 0.0000166667
    expected += 9000 * 0.40 / 1e6  # SQS: 1M requests free
    expected += (30_000 + 3000) * 2 / 1024 / 1024 * 0.50  # 5 GB of logs ingestion free
    expected += 2 * 0.25  # 25 GB of DynamoDB storage free
    assert saved == pytest.approx(expected)


def test_environment_usage_override_and_unknown_model(tmp_path: Path) -> None:
    root = write_project(
        tmp_path / "p",
        PROJECT.replace(
            "  big:\n",
            "  big:\n    agents: {worker: {usage: {requests_per_day: 200}, model: acme.private-model-v1}}\n",
        ),
        agents={"support": "agent = 1\n", "worker": "agent = 2\n"},
    )
    fc = run(root, "big")
    assert fc.assumptions["worker"].requests_per_day == 200
    assert fc.assumptions["worker"].input_tokens == 1000  # the rest of the agent's usage is kept
    assert any("acme.private-model-v1" in w and "not in the price table" in w for w in fc.warnings)
    assert not any(x.service == "bedrock" for x in fc.lines if x.owner == "agent.worker")


def test_defaults_apply_without_usage(tmp_path: Path) -> None:
    root = write_project(
        tmp_path / "p",
        "project: acme\nagents:\n  a: {path: agents/a, alarms: false}\nenvironments: {dev: {}}\n",
        agents={"a": "agent = 1\n"},
    )
    fc = run(root)
    a = fc.assumptions["a"]
    assert (a.requests_per_day, a.input_tokens, a.output_tokens) == (2000, 1800, 350)
    # the SDK's default model (global.anthropic.claude-sonnet-4-6) is priced as Sonnet 4
    assert line(fc, "agent.a.function", "input tokens") == pytest.approx(60_000 * 1800 / 1e6 * 3.0)


def test_inference_profiles_price_as_their_model() -> None:
    prices = load_prices("us-east-1")
    assert (
        base_model_id("eu.anthropic.claude-3-haiku-20240307-v1:0") == "anthropic.claude-3-haiku-20240307-v1:0"
    )
    opus45 = prices.model_price("global.anthropic.claude-opus-4-5-20251101-v1:0")
    opus4 = prices.model_price("us.anthropic.claude-opus-4-1-20250805-v1:0")
    assert opus45 is not None and opus45.input == 5.0  # the longest matching family wins
    assert opus4 is not None and opus4.input == 15.0
    arn = "arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-lite-v1:0"
    assert prices.model_price(arn) is not None
    assert prices.model_price("cohere.command-r") is None


def test_regional_prices_and_unknown_regions() -> None:
    eu = load_prices("eu-west-1")
    assert eu.price("dynamodb", "read_request_units_per_million") == 0.1413
    assert eu.price("lambda", "requests_per_million") == 0.20  # inherited
    far = load_prices("sa-east-1")
    assert not far.regional and "us-east-1 prices used" in far.describe()
    with pytest.raises(StrandsDeployError, match="no price lambda.nothing"):
        far.price("lambda", "nothing")


def test_plan_delta_from_state_and_from_nothing(project_root: Path) -> None:
    graph, project = graph_of(project_root)
    prices = load_prices("us-east-1")
    first = plan_delta(None, graph, project, "dev", prices)  # type: ignore[arg-type]
    assert first.before.total == 0 and first.change == pytest.approx(first.after.total)
    assert first.summary().startswith("monthly cost $0.00 → $")
    # recorded: the same resources, but support had 1024 MB on x86_64
    resources = {
        a: ResourceState(
            r.type, a, dict(r.props) if not isinstance(r.props, dict) else r.props, {}, agent=r.agent
        )
        for a, r in graph.resources.items()
    }
    fn = resources["agent.support.function"]
    fn.inputs = {**fn.inputs, "memory": 1024, "architecture": "x86_64"}
    delta = plan_delta(State(environment="dev", resources=resources), graph, project, "dev", prices)  # type: ignore[arg-type]
    old = 30_000 * 3 * 1 * 0.0000166667
    new = 30_000 * 3 * 2 * 0.0000133334
    assert delta.change == pytest.approx(new - old)
    assert delta.rows() == [("agent.support", f"+${new - old:,.2f}/mo")]
    assert delta.for_address("agent.support.function") == f"+${new - old:,.2f}/mo"
    assert delta.for_address("resource.docs.bucket") is None
    data = delta.to_json()
    assert data["delta"] == f"+${new - old:,.2f}/mo" and data["owners"][0]["key"] == "agent.support"


def test_budget_check_refuses_with_figures(project_root: Path) -> None:
    graph, project = graph_of(project_root)
    fc = forecast(graph, project, "dev", load_prices("us-east-1"))  # type: ignore[arg-type]
    env = project.environment("dev")  # type: ignore[attr-defined]
    assert fc.total > 300
    err = budget_check(fc, env)
    assert err is not None
    assert f"${fc.total:,.2f}/month exceeds the budget of $300.00/month" in err.what
    assert f"by ${fc.total - 300:,.2f}" in err.what and "agent.support" in err.what
    assert err.where == "environments.dev.budget" and "--accept-cost" in (err.fix or "")
    big = project.environment("big")  # type: ignore[attr-defined]
    assert budget_check(forecast(graph, project, "big", load_prices("us-east-1")), big) is None  # type: ignore[arg-type]
    assert budget_check(fc, None) is None


def test_budget_resource_is_synthesized(project_root: Path) -> None:
    graph, _ = graph_of(project_root)
    budget = graph.resources["shared.budget"]
    assert budget.type == "aws.budgets.budget"
    assert budget.props == {
        "name": "acme-dev-monthly",
        "limit_usd": 300.0,
        "alert_at": [50.0, 80.0, 100.0],
        "subscribers": [{"type": "EMAIL", "address": "ops@example.com"}],
    }
