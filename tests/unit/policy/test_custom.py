"""Custom rules: the project's policies/*.py and *.yaml, and an installed pack (entry point)."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from strands_deploy.errors import StrandsDeployError
from strands_deploy.planning.plan import Action, Change, Plan
from strands_deploy.policy.custom import all_rules, entry_point_rules, project_rules
from tests.unit.policy.helpers import run, write

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "policy"


def _project(tmp_path: Path, over: dict[str, object] | None = None) -> Path:
    root = write(tmp_path / "p", over)
    shutil.copytree(FIXTURES / "custom" / "policies", root / "policies")
    return root


def test_python_rules_see_typed_agents_resources_and_changes(tmp_path: Path) -> None:
    root = _project(tmp_path, {"agents": {"bot": {"architecture": "x86_64"}}})
    plan = Plan("dev", [Change("resource.tickets.table", "aws.dynamodb.table", Action.REPLACE)])
    result = run(root, plan=plan, rules=project_rules(root))
    failing = {(f.rule.id, f.address, f.severity) for f in result.failures}
    assert failing == {
        ("TEAM-001", "agent.bot", "error"),
        ("TEAM-002", "agent.bot.function", "warning"),
        ("TEAM-003", "resource.tickets.table", "error"),
    }
    assert result.failures[0].rule.source == "policies/team.py"


def test_python_rules_pass_when_complying(tmp_path: Path) -> None:
    root = _project(tmp_path, {"agents": {"bot": {"description": "answers tickets"}}})
    result = run(root, rules=[r for r in project_rules(root) if r.id.startswith("TEAM-00")])
    assert result.failures == [] and len(result.findings) == 2


def test_yaml_rules(tmp_path: Path) -> None:
    root = _project(tmp_path, {"resources": {"jobs": {"visibility_timeout": 1200}}})

    def no_pitr(graph: object) -> None:
        graph.resources["resource.tickets.table"].props["pitr"] = False  # type: ignore[attr-defined]

    result = run(root, mutate=no_pitr, rules=[r for r in project_rules(root) if r.id.startswith("TEAM-01")])
    assert {(f.rule.id, f.evidence) for f in result.failures} == {
        ("TEAM-010", "pitr = False"),
        ("TEAM-011", "visibility_timeout = 1200"),
    }
    clean = run(
        _project(tmp_path / "c"), rules=[r for r in project_rules(root) if r.id.startswith("TEAM-01")]
    )
    assert clean.failures == []


def test_a_bad_yaml_rule_is_refused_with_where(tmp_path: Path) -> None:
    root = write(tmp_path)
    (root / "policies").mkdir()
    (root / "policies" / "bad.yaml").write_text(
        "rules:\n  - id: X-1\n    message: m\n    resource_type: t\n    property: p\n    condition: {bigger: 1}\n"
    )
    with pytest.raises(StrandsDeployError) as err:
        project_rules(root)
    assert err.value.where == "policies/bad.yaml#1" and "condition" in err.value.what


def test_a_policy_file_that_fails_to_import_is_an_error(tmp_path: Path) -> None:
    root = write(tmp_path)
    (root / "policies").mkdir()
    (root / "policies" / "broken.py").write_text("import not_a_module_anywhere\n")
    with pytest.raises(StrandsDeployError) as err:
        project_rules(root)
    assert "ModuleNotFoundError" in err.value.what and "broken.py" in str(err.value.where)


def test_a_rule_that_crashes_blocks_naming_itself(tmp_path: Path) -> None:
    root = write(tmp_path)
    (root / "policies").mkdir()
    (root / "policies" / "buggy.py").write_text(
        "from strands_deploy.policy import rule\n\n@rule(id='BUG-1', severity='info', message='m', subject='agent')\n"
        "def f(agent, ctx):\n    return agent.no_such_attribute\n"
    )
    result = run(root, rules=project_rules(root))
    assert [(f.rule.id, f.severity) for f in result.errors] == [("BUG-1", "error")]
    assert "AttributeError" in result.errors[0].message


@pytest.fixture
def installed_pack(tmp_path: Path) -> Iterator[Path]:
    """A package with an entry point, 'installed' as a folder on sys.path with its dist-info."""
    site = tmp_path / "site"
    site.mkdir()
    shutil.copy(FIXTURES / "pack" / "acme_policies.py", site / "acme_policies.py")
    info = site / "acme_policies-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-policies\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[strands_deploy.policies]\nacme = acme_policies\n")
    sys.path.insert(0, str(site))
    try:
        yield site
    finally:
        sys.path.remove(str(site))
        sys.modules.pop("acme_policies", None)


def test_an_entry_point_pack_is_loaded(tmp_path: Path, installed_pack: Path) -> None:
    rules = entry_point_rules()
    assert [r.id for r in rules] == ["ACME-001"]
    assert "acme_policies" in rules[0].source
    root = write(tmp_path / "p")
    assert "ACME-001" in {r.id for r in all_rules(root)}
    result = run(root, rules=rules)
    assert [f.rule.id for f in result.errors] == ["ACME-001"]
    ok = run(
        write(tmp_path / "q", {"agents": {"bot": {"model": "us.anthropic.claude-sonnet-4-20250514-v1:0"}}}),
        rules=rules,
    )
    assert ok.errors == []


def test_a_rule_id_defined_twice_is_refused(tmp_path: Path) -> None:
    root = write(tmp_path)
    (root / "policies").mkdir()
    (root / "policies" / "dup.py").write_text(
        "from strands_deploy.policy import rule\n\n@rule(id='SEC-001', message='m')\ndef f(r):\n    return True\n"
    )
    with pytest.raises(StrandsDeployError) as err:
        all_rules(root)
    assert "SEC-001 is defined twice" in err.value.what
