"""`cost --actual` completed by AWS/Lambda metrics: requests the logs miss are counted from
Invocations, priced at the metrics' mean duration, with tokens from the best source available."""

from __future__ import annotations

import pytest

from strands_deploy.cost.actual import AgentSpec, actual_cost
from strands_deploy.cost.metrics import DayMetrics
from strands_deploy.cost.prices import load_prices
from tests.unit.cost.test_actual import DAY, T0, request

SPEC = AgentSpec(
    "support", "us.anthropic.claude-sonnet-4-20250514-v1:0", 1024, "arm64", {"input": 1000, "output": 100}
)
GB_S = 0.0000133334  # arm64, per GB-second
REQ = 0.20 / 1e6
SONNET_IN, SONNET_OUT = 3.0 / 1e6, 15.0 / 1e6


def test_without_metrics_the_logs_alone_count() -> None:
    result = actual_cost(
        {"support": [request(T0, "s1", 100, 10)]}, {"support": SPEC}, load_prices("us-east-1"), "x"
    )
    assert result.gaps == [] and result.metrics_read is False
    assert result.to_json()["agents"]["support"]["sources"]["metrics"] == {
        "read": False,
        "requests": 0,
        "days": [],
    }
    assert result.sources("support") == "from logs"


def test_requests_only_the_metrics_saw_take_their_tokens_from_token_metrics() -> None:
    prices = load_prices("us-east-1")
    events = [request(T0, "s1", 100, 10, duration=500.0)]
    # day 1: 3 invocations, 1 logged; Strands/Agent says 900 input and 60 output tokens in all
    metrics = {"support": {"2026-01-01": DayMetrics(3, 3000.0, 900.0, 60.0)}}
    result = actual_cost({"support": events}, {"support": SPEC}, prices, "x", metrics)
    (gap,) = result.gaps
    assert (gap.day, gap.requests, gap.token_source) == ("2026-01-01", 2, "metrics")
    assert gap.tokens == {"input": 800, "output": 50}
    assert gap.duration_ms == pytest.approx(2000.0)  # mean 1000 ms × 2
    expected = 800 * SONNET_IN + 50 * SONNET_OUT + 2.0 * 1.0 * GB_S + 2 * REQ
    assert gap.usd == pytest.approx(expected, rel=1e-6)
    logged = 100 * SONNET_IN + 10 * SONNET_OUT + 0.5 * GB_S + REQ
    assert result.total == pytest.approx(expected + logged, rel=1e-6)
    assert result.counts() == {"support": (1, 2)}
    assert result.per_request()["support"] == pytest.approx((expected + logged) / 3, rel=1e-6)
    assert result.tokens()["support"]["input"] == 900
    agent = result.to_json()["agents"]["support"]
    assert agent["requests"] == 3 and agent["sources"]["logs"] == {"requests": 1}
    assert agent["sources"]["metrics"]["requests"] == 2
    assert agent["sources"]["metrics"]["days"][0]["token_source"] == "metrics"
    assert (
        result.sources("support")
        == "1 from logs, 2 from AWS/Lambda metrics only (their tokens: Strands/Agent metrics)"
    )


def test_without_token_metrics_unlogged_requests_get_the_logged_mean_or_the_assumptions() -> None:
    prices = load_prices("us-east-1")
    events = [request(T0, "s1", 100, 10), request(T0 + 1, "s1", 300, 30)]
    metrics = {
        "support": {
            "2026-01-01": DayMetrics(2, 2000.0),  # both logged: nothing to add
            "2026-01-02": DayMetrics(4, 8000.0),  # log retention gone: all four from metrics
        }
    }
    result = actual_cost({"support": events}, {"support": SPEC}, prices, "x", metrics)
    (gap,) = result.gaps
    assert (gap.day, gap.requests, gap.token_source) == ("2026-01-02", 4, "logged mean")
    assert gap.tokens == {"input": 800, "output": 80, "cache_read": 0, "cache_write": 0}
    assert result.by_day()["support"]["2026-01-02"] == pytest.approx(gap.usd)
    assert "the mean of the logged requests" in result.sources("support")

    nothing_logged = actual_cost({"support": []}, {"support": SPEC}, prices, "x", metrics)
    assert [(g.requests, g.token_source, g.tokens) for g in nothing_logged.gaps] == [
        (2, "assumed", {"input": 2000, "output": 200}),
        (4, "assumed", {"input": 4000, "output": 400}),
    ]


def test_fewer_invocations_than_logged_requests_add_nothing() -> None:
    # metrics can lag the logs by a minute: never subtract logged requests
    events = [request(T0, "s", 1, 1), request(T0 + 2, "s", 1, 1), request(T0 + DAY, "s", 1, 1)]
    metrics = {"support": {"2026-01-01": DayMetrics(1, 100.0)}}
    result = actual_cost({"support": events}, {"support": SPEC}, load_prices("us-east-1"), "x", metrics)
    assert result.gaps == [] and result.counts() == {"support": (3, 0)}


def test_unpriced_model_in_metrics_gap_is_named() -> None:
    spec = AgentSpec("support", "someone.unknown-model", 512, "x86_64")
    metrics = {"support": {"2026-01-01": DayMetrics(2, 100.0)}}
    result = actual_cost({"support": []}, {"support": spec}, load_prices("us-east-1"), "x", metrics)
    assert result.unpriced_models == {"someone.unknown-model"} and result.gaps[0].usd == 0.0
