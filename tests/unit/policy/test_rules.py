"""Every built-in rule has a fixture that fails it and one that passes it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from strands_deploy.planning.plan import Action, Change, Plan
from strands_deploy.policy.registry import builtin_rules
from strands_deploy.synth.graph import Graph
from tests.unit.policy.helpers import PLAIN_AGENT, run, write

DANGEROUS = "from strands import Agent\nfrom strands_tools import shell\n\nagent = Agent(tools=[shell])\n"
SHELL_CODE = (
    "import subprocess\n\n\ndef run(cmd):\n    return subprocess.call(cmd, shell=True)\n\n\nagent = 1\n"
)
PUBLIC = {"agents": {"bot": {"auth": "none"}}}


def _set(address: str, key: str, value: Any) -> Any:
    def mutate(graph: Graph) -> None:
        graph.resources[address].props[key] = value

    return mutate


def _plan(action: Action) -> Plan:
    change = Change("resource.old.table", "aws.dynamodb.table", action, reason="removed from strands.yaml")
    return Plan(environment="dev", changes=[change])


@dataclass
class Case:
    over: dict[str, Any] = field(default_factory=dict)
    env: str = "dev"
    code: str = PLAIN_AGENT
    mutate: Any = None
    plan: Plan | None = None
    live: dict[str, Any] | None = None


GOV = "governance"
CASES: dict[str, tuple[Case, Case]] = {
    "SEC-001": (
        Case(
            {
                "agents": {
                    "bot": {
                        "allow_wildcards": True,
                        "permissions": [
                            {"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::x/*"}
                        ],
                    }
                }
            }
        ),
        Case(
            {
                "agents": {
                    "bot": {
                        "permissions": [
                            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::x/*"}
                        ]
                    }
                }
            }
        ),
    ),
    "SEC-002": (
        Case(
            {
                "agents": {
                    "bot": {
                        "model": "us.anthropic.claude-sonnet-4-20250514-v1:0",
                        "permissions": [
                            {
                                "Effect": "Allow",
                                "Action": "bedrock:InvokeModel",
                                "Resource": "arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-pro-v1:0",
                            }
                        ],
                    }
                }
            }
        ),
        Case({"agents": {"bot": {"model": "us.anthropic.claude-sonnet-4-20250514-v1:0"}}}),
    ),
    "SEC-003": (Case(PUBLIC), Case()),
    "SEC-004": (Case(PUBLIC, mutate=_set("agent.bot.function", "reserved_concurrency", None)), Case(PUBLIC)),
    "SEC-005": (
        Case({"resources": {"conf": {"type": "parameter", "from_env": "CONF", "secure": False}}}),
        Case({"resources": {"conf": {"type": "parameter", "from_env": "CONF"}}}),
    ),
    "SEC-006": (
        Case(live={"resource.docs.bucket": {"observed": {"public_access_block": False, "tls_only": True}}}),
        Case(live={"resource.docs.bucket": {"observed": {"public_access_block": True, "tls_only": True}}}),
    ),
    "SEC-007": (
        Case({"agents": {"bot": {"environment": {"STRIPE_API_KEY": "sk_live_abc"}}}}),
        Case(
            {
                "agents": {
                    "bot": {
                        "environment": {
                            "TONE": "friendly",
                            "DOCS_URL": "https://docs.example.com/v2/reference/agents?lang=en_US",
                        }
                    }
                }
            }
        ),
    ),
    "SEC-008": (
        Case({"agents": {"bot": {"runtime": "python3.10"}}}),
        Case({"agents": {"bot": {"runtime": "python3.12"}}}),
    ),
    "SEC-009": (Case({"agents": {"bot": {"role": "shared"}}}), Case()),
    "SEC-010": (Case({"agents": {"bot": {"tracing": False}}}, env="prod"), Case(env="prod")),
    "SEC-011": (Case(code=SHELL_CODE), Case()),
    "REL-001": (Case(mutate=_set("resource.tickets.table", "pitr", False)), Case()),
    "REL-002": (Case({"resources": {"jobs": {"dlq": False}}}), Case()),
    "REL-003": (Case({"environments": {"dev": {"alarms": None}}}), Case()),
    "REL-004": (
        Case({"agents": {"bot": {"expose": "http"}}}),
        Case({"agents": {"bot": {"expose": "http", "timeout": 30}}}),
    ),
    "REL-005": (
        Case({"agents": {"bot": {"trigger": "jobs"}}}),
        Case({"agents": {"bot": {"trigger": "jobs", "reserved_concurrency": 5}}}),
    ),
    "REL-006": (Case(plan=_plan(Action.DELETE)), Case(plan=_plan(Action.CREATE))),
    "AGT-001": (Case(mutate=_set("shared.sessions", "expire_days", None)), Case()),
    "AGT-002": (
        Case(PUBLIC),
        Case({"agents": {"bot": {"auth": "none", "guardrail": {"id": "abc123", "version": 1}}}}),
    ),
    "AGT-003": (Case({"agents": {"bot": {"prompt_logging": None}}}, env="prod"), Case(env="prod")),
    "AGT-004": (Case(PUBLIC, code=DANGEROUS), Case(code=DANGEROUS)),
    "CST-001": (
        Case({"agents": {"bot": {"memory": 4096}}}),
        Case({"agents": {"bot": {"memory": 4096, "memory_reason": "loads a 2 GB embedding index"}}}),
    ),
    "CST-002": (Case(env="prod"), Case(env="dev")),
    "GOV-001": (
        Case(
            {
                "environments": {
                    "dev": {GOV: {"required_tags": {"team": ["search", "support"]}}, "tags": {"team": "x"}}
                }
            }
        ),
        Case(
            {
                "environments": {
                    "dev": {
                        GOV: {"required_tags": {"team": ["search", "support"]}},
                        "tags": {"team": "support"},
                    }
                }
            }
        ),
    ),
    "GOV-002": (
        Case({"environments": {"dev": {GOV: {"naming": {"aws.dynamodb.table": "team-.*"}}}}}),
        Case({"environments": {"dev": {GOV: {"naming": {"aws.dynamodb.table": "acme-dev-[a-z]+"}}}}}),
    ),
    "GOV-003": (
        Case({"environments": {"dev": {GOV: {"allowed_regions": ["eu-west-1"]}}}}),
        Case({"environments": {"dev": {GOV: {"allowed_regions": ["us-east-1"]}}}}),
    ),
    "GOV-004": (
        Case(
            {
                "agents": {"bot": {"model": "amazon.nova-pro-v1:0"}},
                "environments": {"dev": {GOV: {"allowed_models": ["us.anthropic.*"]}}},
            }
        ),
        Case(
            {
                "agents": {"bot": {"model": "us.anthropic.claude-sonnet-4-20250514-v1:0"}},
                "environments": {"dev": {GOV: {"allowed_models": ["us.anthropic.*"]}}},
            }
        ),
    ),
    "GOV-005": (
        Case(
            {"agents": {"bot": {"memory": 2048}}, "environments": {"dev": {GOV: {"max": {"memory": 1024}}}}}
        ),
        Case(
            {"agents": {"bot": {"memory": 1024}}, "environments": {"dev": {GOV: {"max": {"memory": 1024}}}}}
        ),
    ),
    "GOV-006": (
        Case({"environments": {"dev": {GOV: {"max_agents": 0}}}}),
        Case({"environments": {"dev": {GOV: {"max_agents": 1}}}}),
    ),
}
RULES = {r.id: r for r in builtin_rules()}


def test_every_builtin_rule_has_cases() -> None:
    assert set(CASES) == set(RULES)


def _failures(tmp_path: Path, rule_id: str, case: Case) -> list[Any]:
    root = write(tmp_path, case.over, case.code)
    result = run(root, case.env, rules=[RULES[rule_id]], mutate=case.mutate, plan=case.plan, live=case.live)
    assert all(f.rule.id == rule_id for f in result.findings)
    assert result.findings, f"{rule_id} applied to nothing"
    return result.failures


@pytest.mark.parametrize("rule_id", sorted(CASES))
def test_rule_fails_its_failing_fixture(
    tmp_path: Path, rule_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONF", "value")
    failures = _failures(tmp_path, rule_id, CASES[rule_id][0])
    assert failures, f"{rule_id} did not fail"
    assert all(f.message for f in failures)


@pytest.mark.parametrize("rule_id", sorted(CASES))
def test_rule_passes_its_passing_fixture(
    tmp_path: Path, rule_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONF", "value")
    assert _failures(tmp_path, rule_id, CASES[rule_id][1]) == []


def test_every_rule_states_rationale_and_fix() -> None:
    for rule in RULES.values():
        assert rule.rationale and rule.fix and rule.title, rule.id
        assert rule.severity in ("error", "warning", "info")


def test_wildcards_with_a_reason_are_a_warning(tmp_path: Path) -> None:
    perm = [{"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::x/*"}]
    over = {
        "agents": {
            "bot": {"allow_wildcards": True, "wildcards_reason": "legacy bucket tool", "permissions": perm}
        }
    }
    result = run(write(tmp_path, over), rules=[RULES["SEC-001"]])
    assert [f.severity for f in result.failures] == ["warning"]
    assert "legacy bucket tool" in result.failures[0].message


def test_high_entropy_values_are_secrets_and_stay_redacted(tmp_path: Path) -> None:
    token = "Zx8qP2mL9vR4tY7wB1nK5sD3fG6hJ0aQ"
    result = run(
        write(tmp_path, {"agents": {"bot": {"environment": {"UPSTREAM": token}}}}), rules=[RULES["SEC-007"]]
    )
    assert len(result.failures) == 1
    assert token not in result.failures[0].evidence and token not in str(result.to_json())


def test_runtime_near_deprecation_is_a_warning(tmp_path: Path) -> None:
    import datetime as dt

    from strands_deploy.policy.evaluate import review
    from tests.unit.policy.helpers import ACCOUNT, graph_of

    project, graph = graph_of(write(tmp_path, {"agents": {"bot": {"runtime": "python3.11"}}}), "dev")
    result = review(
        project, "dev", graph, account=ACCOUNT, today=dt.date(2027, 3, 1), rules=[RULES["SEC-008"]]
    )
    assert [f.severity for f in result.failures] == ["warning"]


def test_clean_project_passes_everything_on_dev(tmp_path: Path) -> None:
    result = run(write(tmp_path))
    assert result.failures == [], [f.to_json() for f in result.failures]
    assert result.ok
