"""`--affected [--base REF]`: agents selected from a real git repository's changes."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from strands_deploy.cli.affected import affected_agents
from strands_deploy.cli.main import cli
from strands_deploy.config.loader import load_project
from strands_deploy.errors import StrandsDeployError

CONFIG = """\
project: acme
region: us-east-1
agents:
  support: {path: agents/support, link: [tickets]}
  triage: {path: agents/triage, trigger: inbox}
  writer:
    path: agents/writer
    environment: {NOTES: "${resource.notes.name}"}
  solo: {path: agents/solo, requirements: ../../shared/requirements.txt}
resources:
  tickets: {type: table, key: id}
  inbox: {type: queue}
  notes: {type: table, key: id}
environments:
  prod:
    endpoint: "ENDPOINT"
"""


def git(root: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True, text=True).stdout


def repo(tmp_path: Path, endpoint: str = "http://127.0.0.1:9") -> Path:
    root = tmp_path / "repo"
    for name in ("support", "triage", "writer", "solo"):
        (root / "agents" / name).mkdir(parents=True)
        (root / "agents" / name / "agent.py").write_text("agent = None\n")
        (root / "agents" / name / "requirements.txt").write_text("strands-agents\n")
    (root / "shared").mkdir()
    (root / "shared" / "requirements.txt").write_text("strands-agents\n")
    (root / "strands.yaml").write_text(CONFIG.replace("ENDPOINT", endpoint))
    (root / ".gitignore").write_text(".strands/\n")
    git(root, "init", "-q", "-b", "main")
    git(root, "-c", "user.name=t", "-c", "user.email=t@example.com", "add", "-A")
    git(root, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", "base")
    git(root, "checkout", "-q", "-b", "feature")
    return root


def affected(root: Path, base: str = "main", env: str = "prod") -> dict[str, str]:
    return affected_agents(load_project(root), env, base).agents


def commit(root: Path) -> None:
    git(root, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-am", "change")


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def test_folders_requirements_and_untracked_files(tmp_path: Path) -> None:
    root = repo(tmp_path)
    assert affected(root) == {}
    (root / "agents" / "support" / "agent.py").write_text("agent = 1\n")  # unstaged
    assert affected(root) == {"support": "agents/support/agent.py changed"}
    commit(root)  # committed on the branch: still a change since main's merge base
    (root / "agents" / "triage" / "tools.py").write_text("x = 1\n")  # untracked
    (root / "shared" / "requirements.txt").write_text("strands-agents\nhttpx\n")  # outside the folder
    assert affected(root) == {
        "support": "agents/support/agent.py changed",
        "triage": "agents/triage/tools.py changed",
        "solo": "shared/requirements.txt changed",
    }
    (root / ".strands").mkdir()
    (root / ".strands" / "noise").write_text("ignored by git\n")
    assert "writer" not in affected(root)


def test_configuration_and_shared_resources(tmp_path: Path) -> None:
    root = repo(tmp_path)
    config = root / "strands.yaml"
    edit(config, "inbox: {type: queue}", "inbox: {type: queue, visibility_timeout: 600}")
    assert affected(root) == {"triage": "it uses resource inbox, which changed in strands.yaml"}
    edit(config, "notes: {type: table, key: id}", "notes: {type: table, key: pk}")
    edit(
        config,
        "support: {path: agents/support, link: [tickets]}",
        "support: {path: agents/support, link: [tickets], memory: 2048}",
    )
    assert affected(root) == {
        "support": "agents.support changed in strands.yaml",
        "triage": "it uses resource inbox, which changed in strands.yaml",
        "writer": "it uses resource notes, which changed in strands.yaml",
    }
    git(root, "checkout", "-q", "--", "strands.yaml")
    edit(config, '    endpoint: "', '    agents: {writer: {memory: 512}}\n    endpoint: "')
    assert affected(root) == {"writer": "its override in the environment changed in strands.yaml"}
    assert affected(root, env="local") == {}  # another environment's override
    edit(config, "region: us-east-1", "region: eu-west-1")
    assert set(affected(root)) == {"support", "triage", "writer", "solo"}


def test_bad_base_is_a_clear_error(tmp_path: Path) -> None:
    root = repo(tmp_path)
    with pytest.raises(StrandsDeployError) as err:
        affected(root, base="origin/nope")
    assert "git merge-base failed" in err.value.what and "fetch" in (err.value.fix or "")
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "strands.yaml").write_text("project: plain\n")
    with pytest.raises(StrandsDeployError, match="git rev-parse failed"):
        affected(plain)


def run(root: Path, *args: str) -> Any:
    return CliRunner().invoke(cli, ["-C", str(root), *args])


def test_deploy_and_plan_take_the_selection(tmp_path: Path, moto: str) -> None:
    root = repo(tmp_path, moto)
    nothing = run(root, "deploy", "--env", "prod", "--affected", "--base", "main", "--yes")
    assert nothing.exit_code == 0 and "No agent changed since main: nothing to do." in nothing.stderr
    both = run(root, "plan", "--env", "prod", "--affected", "--agent", "support")
    assert both.exit_code == 2 and "leave out --agent" in both.output
    (root / "agents" / "writer" / "agent.py").write_text("agent = 2\n")
    result = run(root, "plan", "--env", "prod", "--affected", "--base", "main", "--json")
    assert result.exit_code == 0, (result.output, result.exception)
    assert "Affected since main: writer" in result.stderr
    addresses = {c["address"] for c in json.loads(result.stdout)["changes"]}
    assert any(a.startswith("agent.writer") for a in addresses)
    assert not any(a.startswith(("agent.support", "agent.triage", "agent.solo")) for a in addresses)


def test_list_takes_the_selection(tmp_path: Path, moto: str) -> None:
    root = repo(tmp_path, moto)
    deployed = run(root, "deploy", "--env", "prod", "--yes")
    assert deployed.exit_code == 0, (deployed.output, deployed.exception)
    (root / "agents" / "writer" / "agent.py").write_text("agent = 2\n")
    listed = run(root, "list", "--env", "prod", "--affected", "--base", "main", "--json")
    assert listed.exit_code == 0, (listed.output, listed.exception)
    addresses = [r["address"] for r in json.loads(listed.stdout)["resources"]]
    assert addresses and all(a.startswith("agent.writer.") for a in addresses)
    one = run(root, "list", "--env", "prod", "--agent", "support", "--json")
    assert {r["address"].split(".")[1] for r in json.loads(one.stdout)["resources"]} == {"support"}
