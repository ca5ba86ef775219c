from __future__ import annotations

from pathlib import Path

import pytest

from strands_deploy.config.loader import load_project
from strands_deploy.errors import StrandsDeployError
from tests.unit.policy.helpers import run, write

PUBLIC = {"agents": {"bot": {"auth": "none", "guardrail": {"id": "abc123"}}}}


def _with(suppress: list[dict[str, object]], where: str = "env") -> dict[str, object]:
    if where == "env":
        return {**PUBLIC, "environments": {"dev": {"suppress": suppress}}}
    return {**PUBLIC, "suppress": suppress}


@pytest.mark.parametrize("where", ["env", "project"])
def test_a_suppression_suppresses_its_rule_on_its_resource(tmp_path: Path, where: str) -> None:
    entry = {
        "rule": "SEC-003",
        "resource": "agent.bot",
        "reason": "public FAQ, capped at 5",
        "until": "2027-03-01",
    }
    result = run(write(tmp_path, _with([entry], where)))
    assert [f.rule.id for f in result.suppressed] == ["SEC-003"]
    assert "SEC-003" not in {f.rule.id for f in result.failures}
    data = result.to_json()
    assert data["suppressions"] == [
        {
            "rule": "SEC-003",
            "resource": "agent.bot",
            "reason": "public FAQ, capped at 5",
            "until": "2027-03-01",
            "active": True,
        }
    ]
    assert any(f["status"] == "suppressed" and f["suppression"]["reason"] for f in data["findings"])


def test_an_expired_suppression_stops_suppressing_with_a_notice(tmp_path: Path) -> None:
    entry = {"rule": "SEC-003", "resource": "agent.bot", "reason": "launch week", "until": "2026-11-01"}
    result = run(write(tmp_path, _with([entry])))
    assert "SEC-003" in {f.rule.id for f in result.failures}
    assert any("expired on 2026-11-01" in n for n in result.notices)
    assert result.to_json()["suppressions"][0]["active"] is False


def test_a_prefix_covers_the_agent_resources_and_another_resource_is_not_covered(tmp_path: Path) -> None:
    over = {
        "environments": {
            "dev": {
                "alarms": None,
                "suppress": [{"rule": "REL-003", "resource": "agent.bot", "reason": "no on-call yet"}],
            }
        }
    }
    result = run(write(tmp_path, over))
    assert {f.address for f in result.suppressed} == {
        "agent.bot.alarm-errors",
        "agent.bot.alarm-throttles",
        "agent.bot.alarm-duration",
    }
    other = {
        "environments": {
            "dev": {
                "alarms": None,
                "suppress": [{"rule": "REL-003", "resource": "agent.bott", "reason": "typo"}],
            }
        }
    }
    result = run(write(tmp_path / "2", other))
    assert not result.suppressed and len(result.warnings) == 3
    assert any("matched no finding" in n for n in result.notices)


def test_a_reason_is_required(tmp_path: Path) -> None:
    root = write(tmp_path, _with([{"rule": "SEC-003", "resource": "agent.bot"}]))
    with pytest.raises(StrandsDeployError) as err:
        load_project(root)
    assert "reason" in str(err.value)
