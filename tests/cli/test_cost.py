"""`strands-deploy cost` end to end through the console script against a local cloud: a budget
deployed with the project, a forecast that states its prices and refuses nothing by itself, and
`cost --actual` after scripted invocations whose per-agent tokens and per-session cost match what
the invocations reported."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from strands_deploy.cost.prices import load_prices
from tests.conftest import stop_process
from tests.helpers import write_project
from tests.integration.local.conftest import Cloud, start_server

PROJECT = """\
project: cst
region: us-east-1
agents:
  alpha:
    path: agents/alpha
    sessions: true
    model: us.anthropic.claude-sonnet-4-20250514-v1:0
  beta:
    path: agents/beta
    sessions: true
    model: anthropic.claude-3-haiku-20240307-v1:0
environments:
  local:
    endpoint: "{endpoint}"
    budget: {{monthly_usd: 5, alert_at: [80%, 100%], notify: [{{email: ops@example.com}}], anomaly_alerts: true}}
"""
# the agent uses the model its `model:` grants (the runtime gets it as STRANDS_MODEL_ID)
AGENT = """\
import os

try:
    from strands import Agent
except ImportError:  # provided by the local cloud's workers in these tests; no layer is built
    raise

agent = Agent(model=os.environ["STRANDS_MODEL_ID"], callback_handler=None)
"""


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cloud]:
    root = tmp_path_factory.mktemp("cost-cloud")
    server = start_server(root / "state", root / "server.log")
    try:
        yield server
    finally:
        stop_process(server.proc)


@pytest.fixture(scope="module")
def cli(cloud: Cloud, tmp_path_factory: pytest.TempPathFactory) -> Any:
    from tests.conftest import Cli

    root = write_project(
        tmp_path_factory.mktemp("cost") / "p",
        PROJECT.format(endpoint=cloud.endpoint),
        agents={"alpha": AGENT, "beta": AGENT},
        requirements="",
    )
    run = Cli(root)
    deployed = run("deploy", "--json", "--accept-cost", "the test budget is deliberately small")
    assert deployed.returncode == 0, deployed.stderr + deployed.stdout
    return run


def ask(cli: Any, agent: str, prompt: str, session: str | None = None) -> dict[str, Any]:
    args = ["invoke", agent, prompt, "--json"] + (["--session", session] if session else [])
    proc = cli(*args)
    assert proc.returncode == 0, proc.stderr + proc.stdout
    answer: dict[str, Any] = json.loads(proc.stdout)
    return answer


def test_budget_is_deployed_and_forecast_is_over_it(cli: Any, cloud: Cloud) -> None:
    budget = cloud.client("budgets").describe_budget(AccountId="123456789012", BudgetName="cst-local-monthly")
    assert float(budget["Budget"]["BudgetLimit"]["Amount"]) == 5.0
    notes = cloud.client("budgets").describe_notifications_for_budget(
        AccountId="123456789012", BudgetName="cst-local-monthly"
    )
    assert sorted(n["Threshold"] for n in notes["Notifications"]) == [80.0, 100.0]

    monitors = cloud.client("ce").get_anomaly_monitors()["AnomalyMonitors"]
    (monitor,) = [m for m in monitors if m["MonitorName"] == "cst-local-anomalies"]
    subs = cloud.client("ce").get_anomaly_subscriptions(MonitorArn=monitor["MonitorArn"])[
        "AnomalySubscriptions"
    ]
    assert [s["Subscribers"] for s in subs] == [[{"Address": "ops@example.com", "Type": "EMAIL"}]]
    assert subs[0]["Frequency"] == "DAILY"

    data = cli.json("cost")
    assert data["prices"]["date"] == "2025-11-01" and data["environment"] == "local"
    # defaults: 2000 requests a day of 1800 input and 350 output tokens, on Sonnet 4 for alpha
    alpha_tokens = 60_000 * (1800 * 3.0 + 350 * 15.0) / 1e6
    assert data["owners"]["agent.alpha"] > alpha_tokens
    assert (
        data["budget"]["within"] is False and "exceeds the budget of $5.00/month" in data["budget"]["message"]
    )
    text = cli("cost")
    assert text.returncode == 0, text.stderr
    assert "agent.alpha total" in text.stdout and "prices of 2025-11-01 (shipped)" in text.stdout


def test_actual_cost_matches_the_invocations(cli: Any, tmp_path: Path) -> None:
    first = ask(cli, "alpha", "hello there")
    session = str(first["session_id"])
    second = ask(cli, "alpha", "and again, a longer message this time", session)
    third = ask(cli, "beta", "one more")
    data = cli.json("cost", "--actual", "--since", "1d")

    def tokens(*answers: dict[str, Any]) -> dict[str, int]:
        return {
            "input": sum(a["usage"].get("inputTokens", 0) for a in answers),
            "output": sum(a["usage"].get("outputTokens", 0) for a in answers),
        }

    alpha, beta = data["agents"]["alpha"], data["agents"]["beta"]
    assert alpha["requests"] == 2 and beta["requests"] == 1
    assert {k: alpha["tokens"][k] for k in ("input", "output")} == tokens(first, second)
    assert {k: beta["tokens"][k] for k in ("input", "output")} == tokens(third)
    prices = load_prices("us-east-1")
    sonnet = prices.model_price("us.anthropic.claude-sonnet-4-20250514-v1:0")
    assert sonnet is not None
    t = tokens(first, second)
    token_usd = (t["input"] * sonnet.input + t["output"] * sonnet.output) / 1e6
    (top,) = [s for s in data["top_sessions"] if s["session_id"] == session]
    assert top["agent"] == "alpha" and top["requests"] == 2
    # the session's cost is its tokens plus two Lambda requests (at 1024 MB, a few seconds at most)
    lambda_bound = 2 * (0.20 / 1e6 + 30 * 1.0 * 0.0000133334)
    assert token_usd <= top["usd"] <= token_usd + lambda_bound
    assert data["total_usd"] == pytest.approx(alpha["usd"] + beta["usd"], abs=1e-5)

    measured = cli.json("cost", "--from-usage", "1d")["assumptions"]
    assert measured["alpha"]["measured"] and measured["alpha"]["requests_per_day"] == 2
    assert measured["alpha"]["session_turns"] == 2 and measured["beta"]["requests_per_day"] == 1
    assert measured["alpha"]["output_tokens"] == round(tokens(first, second)["output"] / 2)

    page = tmp_path / "cost.html"
    text = cli("cost", "--actual", "--since", "1d", "--html", str(page), "--recommend")
    assert text.returncode == 0, text.stderr
    assert "agent alpha" in text.stdout and "Top sessions:" in text.stdout and session in text.stdout
    assert "<svg" in page.read_text()


def test_bad_period_is_an_error_not_a_traceback(cli: Any) -> None:
    proc = cli("cost", "--actual", "--since", "soon")
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert "'soon' is not a period" in proc.stderr


def test_anomaly_alerts_provider_on_the_local_cloud(cloud: Cloud, tmp_path: Path) -> None:
    from strands_deploy.aws.session import AwsContext, AwsSettings
    from strands_deploy.providers.base import ProviderContext
    from strands_deploy.providers.registry import get_provider

    aws = AwsContext(AwsSettings(region="us-east-1", endpoint_url=cloud.endpoint, local=True, max_attempts=1))
    ctx = ProviderContext(aws=aws, project="p", environment="e", project_dir=tmp_path, cache_dir=tmp_path)
    provider = get_provider("aws.ce.anomaly_alerts")
    props = {
        "name": "p-e-anomalies",
        "threshold_usd": 25.0,
        "subscribers": [],
        "tags": {"strands:project": "p"},
    }
    assert provider.find(ctx, "shared.anomaly-alerts", props) is None
    created = provider.create(ctx, "shared.anomaly-alerts", props)
    assert created.outputs["subscription_arn"] is None  # nobody to tell: no subscription
    topic = "arn:aws:sns:us-east-1:123456789012:alerts"
    new = {**props, "subscribers": [{"type": "SNS", "address": topic}]}
    out = provider.update(ctx, "shared.anomaly-alerts", created.physical_id, props, new, created.outputs)
    (sub,) = cloud.client("ce").get_anomaly_subscriptions(SubscriptionArnList=[out["subscription_arn"]])[
        "AnomalySubscriptions"
    ]
    assert sub["Frequency"] == "IMMEDIATE" and sub["ThresholdExpression"]["Dimensions"]["Values"] == ["25"]
    assert provider.drift(new, out) == {}
    cheaper = {**new, "threshold_usd": 5.0}
    assert provider.drift(cheaper, out) == {"threshold_usd": (25.0, 5.0)}
    out = provider.update(ctx, "shared.anomaly-alerts", created.physical_id, new, cheaper, out)
    assert out["observed"]["threshold_usd"] == 5.0
    found = provider.find(ctx, "shared.anomaly-alerts", cheaper)
    assert found is not None and found.physical_id == created.physical_id
    provider.delete(ctx, "shared.anomaly-alerts", created.physical_id, cheaper, out)
    assert provider.read(ctx, "shared.anomaly-alerts", created.physical_id, cheaper) is None
    provider.delete(ctx, "shared.anomaly-alerts", created.physical_id, cheaper, out)  # gone: fine


def test_requests_the_logs_miss_are_counted_from_the_metrics(cli: Any, cloud: Cloud, tmp_path: Path) -> None:
    """Log retention gone (streams deleted): AWS/Lambda Invocations still count every request,
    and the local cloud's Strands/Agent token metrics give their tokens."""
    before = cli.json("cost", "--actual", "--since", "2d")["agents"].get("beta")
    n_before = before["requests"] if before else 0
    tokens_before = before["tokens"] if before else {}
    first = ask(cli, "beta", "the first of two")
    logs = cloud.client("logs")
    groups = [g["logGroupName"] for g in logs.describe_log_groups()["logGroups"]]
    (group,) = [g for g in groups if g.endswith("-beta")]
    for stream in logs.describe_log_streams(logGroupName=group)["logStreams"]:
        logs.delete_log_stream(logGroupName=group, logStreamName=stream["logStreamName"])
    second = ask(cli, "beta", "the second of two")

    data = cli.json("cost", "--actual", "--since", "2d")
    beta = data["agents"]["beta"]
    assert beta["requests"] == n_before + 2
    assert beta["sources"]["logs"] == {"requests": 1}
    metrics = beta["sources"]["metrics"]
    assert metrics["read"] is True and metrics["requests"] == n_before + 1
    assert {d["token_source"] for d in metrics["days"]} == {"metrics"}
    for kind, key in (("input", "inputTokens"), ("output", "outputTokens")):
        assert beta["tokens"][kind] == tokens_before.get(kind, 0) + first["usage"][key] + second["usage"][key]
    assert data["agents"]["alpha"]["sources"]["metrics"]["requests"] == 0  # its logs are whole

    png = tmp_path / "cost.png"
    text = cli("cost", "--actual", "--since", "2d", "--png", str(png))
    assert text.returncode == 0, text.stderr
    assert f"1 from logs, {n_before + 1} from AWS/Lambda metrics only" in text.stdout
    assert f"chart written to {png}" in text.stdout.replace("\n", "")
    head = png.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR"


def test_a_chart_that_cannot_be_written_is_an_error_not_a_traceback(cli: Any, tmp_path: Path) -> None:
    proc = cli("cost", "--actual", "--since", "1d", "--png", str(tmp_path / "missing" / "chart.png"))
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert "could not write the chart: No such file or directory" in proc.stderr
