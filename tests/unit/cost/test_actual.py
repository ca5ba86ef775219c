"""Actual cost from log lines, anomalies, memory advice, charts, budget config and price updates."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from strands_deploy.aws.price_list import fetch_prices
from strands_deploy.config.cost_schema import BudgetConfig
from strands_deploy.cost.actual import AgentSpec, actual_cost
from strands_deploy.cost.anomaly import anomalies
from strands_deploy.cost.chart import html_page, terminal_lines
from strands_deploy.cost.measured import measured_assumptions
from strands_deploy.cost.prices import load_prices, read_document, write_user_table
from strands_deploy.cost.recommend import memory_advice, recommended_memory
from strands_deploy.cost.update import updated_document
from strands_deploy.cost.usage import AgentAssumptions

DAY = 86_400_000
T0 = 1_767_225_600_000  # 2026-01-01T00:00:00Z
SPEC = AgentSpec("support", "us.anthropic.claude-sonnet-4-20250514-v1:0", 1024, "arm64")


def request(ts: int, session: str, inp: int, out: int, duration: float = 1000.0) -> dict[str, Any]:
    line = {
        "level": "INFO",
        "msg": "request",
        "request_id": f"r{ts}",
        "session_id": session,
        "agent": "support",
        "status": 200,
        "duration_ms": duration,
        "usage": {"inputTokens": inp, "outputTokens": out, "totalTokens": inp + out},
    }
    return {"timestamp": ts, "message": json.dumps(line)}


def report(ts: int, used: int, memory: int = 1024, billed: int = 1000) -> dict[str, Any]:
    msg = (
        f"REPORT RequestId: r{ts}\tDuration: {billed - 0.5:.2f} ms\tBilled Duration: {billed} ms\t"
        f"Memory Size: {memory} MB\tMax Memory Used: {used} MB"
    )
    return {"timestamp": ts, "message": msg}


def test_cost_per_request_session_and_day_follow_the_tokens() -> None:
    prices = load_prices("us-east-1")
    events = [
        request(T0, "s1", 1000, 200),
        request(T0 + 1000, "s1", 3000, 100),
        request(T0 + DAY, "s2", 500, 50),
        {"timestamp": T0 + 5, "message": "START RequestId: x"},
        {"timestamp": T0 + 6, "message": '{"msg": "tool error"}'},
    ]
    result = actual_cost({"support": events}, {"support": SPEC}, prices, "2026-01-01")
    lam = 1.0 * 1.0 * 0.0000133334 + 0.20 / 1e6  # 1 s at 1 GB on arm64, plus the request

    def usd(i: int, o: int) -> float:
        return (i * 3.0 + o * 15.0) / 1e6 + lam

    assert [r.usd for r in result.requests] == pytest.approx([usd(1000, 200), usd(3000, 100), usd(500, 50)])
    assert result.by_day() == {
        "support": pytest.approx({"2026-01-01": usd(1000, 200) + usd(3000, 100), "2026-01-02": usd(500, 50)})
    }
    (top, second) = result.by_session()
    assert top[:3] == ("support", "s1", 2) and top[3] == pytest.approx(usd(1000, 200) + usd(3000, 100))
    assert second[1] == "s2"
    assert result.tokens() == {"support": {"input": 4500, "output": 350, "cache_read": 0, "cache_write": 0}}
    assert result.per_request()["support"] == pytest.approx(result.total / 3)
    data = result.to_json()
    assert data["agents"]["support"]["requests"] == 3 and data["top_sessions"][0]["session_id"] == "s1"

    measured = measured_assumptions(result, 2.0, {"support": AgentAssumptions(tool_calls=5)})["support"]
    assert (
        measured.requests_per_day == 1.5 and measured.input_tokens == 1500 and measured.output_tokens == 117
    )
    assert measured.session_turns == 1.5 and measured.tool_calls == 5 and measured.measured


def test_unpriced_model_is_counted_as_zero_and_named() -> None:
    spec = AgentSpec("support", "acme.private", 1024, "arm64")
    result = actual_cost(
        {"support": [request(T0, "s", 10, 10)]}, {"support": spec}, load_prices("us-east-1"), "x"
    )
    assert result.total == 0 and result.unpriced_models == {"acme.private"}


def test_anomaly_is_a_day_far_from_the_median() -> None:
    calm = {f"2026-01-0{d}": 1.0 + d / 100 for d in range(1, 8)}
    assert anomalies({"a": calm}) == []
    spike = {**calm, "2026-01-08": 9.0}
    (found,) = anomalies({"a": spike})
    assert found.day == "2026-01-08" and found.score is not None and found.score > 3.5
    flat = {**{f"2026-01-0{d}": 2.0 for d in range(1, 8)}, "2026-01-08": 5.0}
    (flat_found,) = anomalies({"a": flat})
    assert flat_found.score is None and flat_found.median == 2.0
    assert anomalies({"a": {"2026-01-01": 1.0, "2026-01-02": 50.0}}) == []  # too few days


def test_memory_advice_from_report_lines() -> None:
    assert recommended_memory(100) == 192  # 130 MB rounded up to 64 MB steps
    assert recommended_memory(10) == 128
    prices = load_prices("us-east-1")
    events = [report(T0 + i, used=180 + i) for i in range(10)]
    result = actual_cost({"support": events}, {"support": SPEC}, prices, "x")
    (advice,) = memory_advice(result.reports, result.gb_second_prices(), window_days=1.0)
    assert (advice.current_mb, advice.peak_used_mb, advice.recommended_mb) == (1024, 189, 256)
    # 10 s billed a day at 1024 MB → 256 MB: 7.5 GB-s saved a day, 30 days a month
    assert advice.monthly_saving_usd == pytest.approx(10 * (1024 - 256) / 1024 * 0.0000133334 * 30)
    assert "1024 MB → 256 MB" in advice.text()
    few = actual_cost({"support": events[:3]}, {"support": SPEC}, prices, "x")
    assert memory_advice(few.reports, few.gb_second_prices(), 1.0) == []


def test_charts() -> None:
    by_day = {"support": {"2026-01-01": 1.0, "2026-01-02": 4.0}}
    lines = terminal_lines(by_day, {("support", "2026-01-02")})
    assert lines[0] == "agent support"
    assert lines[2].count("█") == 40 and lines[2].endswith("$4.0000 !")
    assert lines[1].count("█") == 10
    page = html_page("Daily <cost>", by_day, {("support", "2026-01-02")})
    assert "<svg" in page and 'class="anomaly"' in page and "&lt;cost&gt;" in page
    assert "http" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")  # no external asset


def test_budget_config() -> None:
    b = BudgetConfig.model_validate(
        {"monthly_usd": 300, "alert_at": ["100%", "50%", 80], "notify": [{"email": "a@b.co"}]}
    )
    assert b.alert_at == [50.0, 80.0, 100.0]
    for bad in (
        {"monthly_usd": 0},
        {"monthly_usd": 5, "alert_at": ["lots"]},
        {"monthly_usd": 5, "notify": [{}]},
    ):
        with pytest.raises(ValidationError):
            BudgetConfig.model_validate(bad)


class FakePricing:
    """The Price List API's answers for two products; nothing for the rest."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def get_products(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(kwargs)
        group = {f["Field"]: f["Value"] for f in kwargs["Filters"]}.get("group")
        usd = {"AWS-Lambda-Requests": "0.0000002500", "AWS-Lambda-Duration-ARM": "0.0000140000"}.get(
            str(group)
        )
        if usd is None:
            return {"PriceList": []}
        product = {
            "terms": {
                "OnDemand": {
                    "t": {"priceDimensions": {"d": {"beginRange": "0", "pricePerUnit": {"USD": usd}}}}
                }
            }
        }
        return {"PriceList": [json.dumps(product)]}


def test_prices_update_writes_a_user_table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STRANDS_DEPLOY_CACHE_DIR", str(tmp_path / "cache"))
    client = FakePricing()
    found, missing = fetch_prices(client, "eu-west-1")
    assert found == {"lambda": {"requests_per_million": pytest.approx(0.25), "gb_second_arm64": 0.000014}}
    assert "dynamodb.storage_gb_month" in missing
    assert all(
        {"Type": "TERM_MATCH", "Field": "regionCode", "Value": "eu-west-1"} in c["Filters"]
        for c in client.calls
    )
    current, origin = read_document()
    assert origin == "shipped"
    path = write_user_table(updated_document(current, "eu-west-1", found, today="2026-01-02"))
    table = load_prices("eu-west-1")
    assert table.origin == str(path) and table.date == "2026-01-02"
    assert table.price("lambda", "requests_per_million") == pytest.approx(0.25)
    assert table.price("dynamodb", "read_request_units_per_million") == 0.1413  # kept
    assert load_prices("us-east-1").price("lambda", "requests_per_million") == 0.20  # other regions untouched
    assert "AWS Price List API for eu-west-1 on 2026-01-02" in table.source
