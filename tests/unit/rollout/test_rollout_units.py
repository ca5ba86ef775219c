"""Pure parts of progressive delivery: configuration, gate verdicts, eval expectations,
notification failures (a closed port on 127.0.0.1), percentiles."""

from __future__ import annotations

import socket

import pytest
from pydantic import ValidationError

from strands_deploy.config.rollout_schema import RolloutConfig, RolloutNotify, effective_rollout
from strands_deploy.config.schema import ProjectConfig
from strands_deploy.local.routing import WeightedRouter, percentile
from strands_deploy.rollout.evals import Case, check
from strands_deploy.rollout.gates import judge, price_per_million
from strands_deploy.rollout.metrics import VersionStats
from strands_deploy.rollout.notify import Notifier


def test_strategies_and_steps() -> None:
    assert RolloutConfig.model_validate("canary").weights() == [0.1]
    canary = RolloutConfig.model_validate({"strategy": "canary", "steps": ["10%", "50%"], "hold": "5m"})
    assert canary.weights() == [0.1, 0.5] and canary.hold_for() == 300
    linear = RolloutConfig.model_validate({"strategy": "linear", "steps": {"every": "1m", "step": "20%"}})
    assert linear.weights() == [0.2, 0.4, 0.6, 0.8] and linear.hold_for() == 60
    assert RolloutConfig.model_validate("blue-green").weights() == []
    with pytest.raises(ValidationError, match="increasing"):
        RolloutConfig.model_validate({"strategy": "canary", "steps": ["50%", "10%"]})
    with pytest.raises(ValidationError):
        RolloutConfig.model_validate({"strategy": "canary", "hold": "soon"})
    with pytest.raises(ValidationError, match="path/to/file.py:function"):
        RolloutConfig.model_validate({"hooks": {"before_traffic": "smoke"}})
    with pytest.raises(ValidationError, match="each notify entry"):
        RolloutNotify.model_validate({"slack": {"secret": "a"}, "email": "x@example.com"})


def test_agent_over_environment_over_defaults() -> None:
    config = ProjectConfig.model_validate(
        {
            "project": "p",
            "defaults": {"rollout": "linear"},
            "agents": {"a": {"path": "a"}, "b": {"path": "b", "rollout": "blue-green"}},
            "environments": {"prod": {"rollout": {"strategy": "canary", "steps": ["5%"]}}},
        }
    )
    assert effective_rollout(config, "prod", config.agents["a"]).weights() == [0.05]
    assert effective_rollout(config, "prod", config.agents["b"]).strategy == "blue-green"
    assert effective_rollout(config, "local", config.agents["a"]).strategy == "linear"
    bare = ProjectConfig.model_validate({"project": "p", "agents": {"a": {"path": "a"}}})
    assert effective_rollout(bare, "prod", bare.agents["a"]).strategy == "all-at-once"


def test_gates_judge_only_the_new_versions_numbers() -> None:
    gates = RolloutConfig.model_validate(
        {
            "gates": {
                "error_rate": "2%",
                "p95_latency_ms": 8000,
                "cost_per_request_usd": 0.02,
                "min_invocations": 10,
            }
        }
    ).gates
    healthy = judge(
        gates, VersionStats(invocations=100, errors=1, p95_ms=900, input_tokens=1000, output_tokens=500), []
    )
    assert healthy.ok and healthy.judged
    bad = judge(
        gates,
        VersionStats(invocations=100, errors=5, p95_ms=9000, input_tokens=10**6, output_tokens=10**5),
        [],
    )
    assert len(bad.breaches) == 3 and "error rate 5.0%" in bad.breaches[0]
    too_few = judge(gates, VersionStats(invocations=3, errors=3), [])
    assert too_few.ok and not too_few.judged  # three calls say nothing yet
    firing = judge(gates, VersionStats(), ["p-prod-support-errors"])
    assert firing.breaches == ["alarm p-prod-support-errors is in ALARM"]
    assert price_per_million("us.anthropic.claude-3-5-haiku-20241022-v1:0") == (0.8, 4.0)


def test_eval_expectations() -> None:
    case = Case(
        "c",
        "hi",
        expect={"contains": "refund", "regex": r"\d+ days", "max_tokens": 100, "max_latency_ms": 50},
    )
    good = {"response": "A refund within 30 days", "usage": {"inputTokens": 40, "outputTokens": 20}}
    assert check(case, good, 10, None) == []
    bad = {"response": "no", "usage": {"inputTokens": 400, "outputTokens": 20}}
    assert len(check(case, bad, 80, None)) == 4
    schema = Case(
        "s", "x", expect={"json_schema": {"type": "object", "required": ["id"]}, "tool_called": "lookup"}
    )
    problems = check(schema, {"response": '{"name": 1}', "tools": [{"tool": "other"}]}, 1, None)
    assert any("JSON schema" in p for p in problems) and any("lookup" in p for p in problems)
    judged = Case("j", "x", judge="polite")
    assert check(judged, {"response": "ok"}, 1, lambda rubric, prompt, answer: False)
    assert not check(judged, {"response": "ok"}, 1, lambda rubric, prompt, answer: True)


def test_a_notification_failure_is_reported_never_raised() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed once the block ends: nothing listens there
    targets = [
        RolloutNotify.model_validate({"slack": {"secret": "s"}}),
        RolloutNotify.model_validate({"email": "a@b.co"}),
    ]
    notifier = Notifier(targets, "prod", lambda name: f"http://127.0.0.1:{port}/x")
    problems = notifier.send("rolled-back", "support", "error rate 9%")
    assert len(problems) == 2 and "slack" in problems[0] and "email" in problems[1]
    plain_http = Notifier(targets[:1], "prod", lambda name: "http://example.com/hook")
    assert "https" in plain_http.send("step", "support")[0]
    look_alike = Notifier(targets[:1], "prod", lambda name: "http://localhost.example.com/hook")
    assert "https" in look_alike.send("step", "support")[0]  # not a local address: refused


def test_percentiles_and_seeded_routing() -> None:
    assert percentile([float(v) for v in range(1, 101)], 95) == 95.0
    a = WeightedRouter(lambda: 5)
    b = WeightedRouter(lambda: 5)
    picks = [a.pick("1", {"2": 0.25}) for _ in range(400)]
    assert picks == [b.pick("1", {"2": 0.25}) for _ in range(400)]  # the seed makes it repeatable
    assert 60 < picks.count("2") < 140
