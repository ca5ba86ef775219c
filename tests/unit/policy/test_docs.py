from __future__ import annotations

from pathlib import Path

from strands_deploy.policy.docs import updated
from strands_deploy.policy.registry import builtin_rules

DOC = Path(__file__).resolve().parents[3] / "docs" / "policy.md"


def test_docs_policy_lists_every_rule_and_is_current() -> None:
    text = DOC.read_text(encoding="utf-8")
    assert text == updated(text), "docs/policy.md is stale: run `python -m strands_deploy.policy.docs`"
    for rule in builtin_rules():
        assert f"| {rule.id} |" in text
