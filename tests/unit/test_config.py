from __future__ import annotations

from pathlib import Path

import pytest

from strands_deploy.config.loader import load_project
from strands_deploy.errors import ConfigError, StrandsDeployError
from tests.helpers import AGENT_PY, BASIC, write_project


def problems(root: Path) -> list[StrandsDeployError]:
    with pytest.raises(ConfigError) as info:
        load_project(root)
    return info.value.problems


def test_valid_project_loads(tmp_path: Path) -> None:
    project = load_project(write_project(tmp_path, BASIC))
    assert project.name == "acme"
    assert project.agents["support"].memory == 2048
    assert project.environment_names() == ["local", "dev", "prod"]
    assert project.region("prod") == "eu-west-1"
    assert project.region("dev") == "us-east-1"


def test_unknown_key_has_position_and_suggestion(tmp_path: Path) -> None:
    root = write_project(tmp_path, BASIC.replace("    memory: 2048", "    memroy: 2048"))
    [p] = problems(root)
    assert p.what == "unknown key 'memroy'"
    assert p.where == f"{root / 'strands.yaml'}:7:5"
    assert p.fix == "did you mean 'memory'?"


def test_every_problem_reported_at_once(tmp_path: Path) -> None:
    text = (
        BASIC.replace("memory: 2048", "memory: lots")
        .replace("expose: url", "expose: urll")
        .replace("link: [tickets, docs]", "link: [tickets, dcs]")
        .replace("region: eu-west-1", "region: eu-wset-1")
    )
    root = write_project(tmp_path, text)
    found = problems(root)
    text_all = "\n".join(p.render() for p in found)
    assert "agents.support.memory" in text_all
    assert "did you mean 'url'?" in text_all
    assert "did you mean 'eu-west-1'?" in text_all
    # (the agent itself is invalid, so its links are not checked in this run); every reported
    # problem carries file:line:column
    assert all(p.where and p.where.count(":") >= 2 for p in found)
    assert len(found) >= 3


def test_link_to_unknown_resource(tmp_path: Path) -> None:
    root = write_project(tmp_path, BASIC.replace("link: [tickets, docs]", "link: [tickets, dcs]"))
    [p] = problems(root)
    assert "unknown resource 'dcs'" in p.what
    assert p.fix == "did you mean 'docs'?"
    assert p.where is not None and p.where.endswith(":11:21")


def test_malformed_yaml(tmp_path: Path) -> None:
    root = write_project(tmp_path, "project: acme\nagents:\n  a: [unclosed\n")
    [p] = problems(root)
    assert "YAML syntax error" in p.what
    assert ":4:" in (p.where or "") or ":3:" in (p.where or "")


def test_duplicate_agent_key(tmp_path: Path) -> None:
    text = BASIC.replace("resources:", "  support:\n    path: agents/support\nresources:")
    found = problems(write_project(tmp_path, text))
    assert any("duplicate key 'support'" in p.what for p in found)


def test_missing_entry_and_requirements_and_outside_path(tmp_path: Path) -> None:
    text = """\
    project: acme
    agents:
      a: {path: agents/a, entry: main.py:agent}
      b: {path: agents/b}
      c: {path: ../elsewhere}
    """
    root = write_project(tmp_path, text, agents={"a": AGENT_PY, "b": AGENT_PY})
    (root / "agents" / "b" / "requirements.txt").unlink()
    found = problems(root)
    whats = " | ".join(p.what for p in found)
    assert "entry file agents/a/main.py does not exist" in whats
    assert "requirements file agents/b/requirements.txt does not exist" in whats
    assert "outside the project folder" in whats


def test_entry_symbol_and_syntax_checked(tmp_path: Path) -> None:
    text = "project: acme\nagents:\n  a: {path: agents/a, entry: agent.py:agnt}\n  b: {path: agents/b}\n"
    root = write_project(tmp_path, text, agents={"a": AGENT_PY, "b": "def broken(:\n"})
    from strands_deploy.config.loader import code_problems

    found = code_problems(load_project(root))  # the code is checked by plan/deploy/validate, not by loading
    assert any("defines no 'agnt'" in p.what and p.fix == "did you mean 'agent'?" for p in found)
    syntax = [p for p in found if "syntax error" in p.what]
    assert syntax and syntax[0].where and syntax[0].where.endswith("agent.py:1:12")


def test_wildcard_permissions_refused(tmp_path: Path) -> None:
    text = BASIC.replace(
        "    link: [tickets, docs]",
        "    link: [tickets, docs]\n    permissions:\n      - {Action: ['s3:PutObject'], Resource: '*'}",
    )
    [p] = problems(write_project(tmp_path, text))
    assert "s3:PutObject on every resource" in p.what
    assert "allow_wildcards" in (p.fix or "")
    ok = text.replace("    permissions:", "    allow_wildcards: true\n    permissions:")
    load_project(write_project(tmp_path, ok))


def test_secret_value_never_in_yaml(tmp_path: Path) -> None:
    text = "project: acme\nresources:\n  key: {type: secret}\n"
    [p] = problems(write_project(tmp_path, text, agents={}))
    assert "from_env" in p.what


def test_discovered_agents_join(tmp_path: Path) -> None:
    root = write_project(tmp_path, "project: acme\n", agents={"helper": AGENT_PY})
    (root / "agents" / "helper" / "strands.agent.yaml").write_text("memory: 512\nexpose: url\n")
    project = load_project(root)
    assert project.agents["helper"].path == "agents/helper"
    assert project.agents["helper"].memory == 512


def test_discovered_duplicate_name(tmp_path: Path) -> None:
    root = write_project(
        tmp_path, "project: acme\nagents:\n  helper: {path: agents/helper}\n", agents={"helper": AGENT_PY}
    )
    (root / "agents" / "helper" / "strands.agent.yaml").write_text("memory: 512\n")
    [p] = problems(root)
    assert "duplicate agent name 'helper'" in p.what


def test_unknown_environment_suggests(tmp_path: Path) -> None:
    project = load_project(write_project(tmp_path, BASIC))
    with pytest.raises(StrandsDeployError) as info:
        project.environment("prd")
    assert info.value.fix == "did you mean 'prod'?"


def test_no_config(tmp_path: Path) -> None:
    with pytest.raises(StrandsDeployError) as info:
        load_project(tmp_path)
    assert "strands-deploy init" in (info.value.fix or "")
