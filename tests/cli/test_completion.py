"""Shell completion: the scripts, click's completion protocol in process (commands, agent names,
environment names, resource addresses, output names), a real bash sourcing the script, and
`completion --install` writing once."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from strands_deploy.cli.main import cli
from tests.conftest import BIN
from tests.helpers import AGENT_NO_LAYER, write_project

PROJECT = """\
project: comp
region: us-east-1
agents:
  support:
    path: agents/support
  summarizer:
    path: agents/summarizer
environments:
  local: {}
  staging: {}
  prod: {region: eu-west-1}
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = write_project(
        tmp_path / "p", PROJECT, agents={"support": AGENT_NO_LAYER, "summarizer": AGENT_NO_LAYER}
    )
    state = {
        "version": 1,
        "environment": "local",
        "resources": {
            "agent.support.function": {"type": "lambda_function", "outputs": {"name": "comp-local-support"}},
            "agent.support.url": {"type": "function_url", "outputs": {"url": "http://x/support"}},
            "resource.tickets.table": {"type": "dynamodb_table", "outputs": {}},
        },
    }
    (root / ".strands" / "state").mkdir(parents=True)
    (root / ".strands" / "state" / "local.json").write_text(json.dumps(state))
    return root


def complete(project: Path, line: str) -> list[str]:
    """What bash would offer for ``line`` (the last word is the one being completed)."""
    words = ["strands-deploy", "-C", str(project), *line.split(" ")]
    result = CliRunner().invoke(
        cli,
        [],
        prog_name="strands-deploy",
        env={
            "_STRANDS_DEPLOY_COMPLETE": "bash_complete",
            "COMP_WORDS": " ".join(words),
            "COMP_CWORD": str(len(words) - 1),
        },
    )
    assert result.exit_code == 0, result.output
    return [row.split(",", 1)[1] for row in result.output.splitlines() if row]


def test_commands_and_options_complete(project: Path) -> None:
    assert complete(project, "dep") == ["deploy"]
    assert "completion" in complete(project, "comp")
    assert "--env" in complete(project, "invoke support --e")


def test_agent_environment_address_and_output_names_complete(project: Path) -> None:
    assert complete(project, "invoke s") == ["summarizer", "support"]
    assert complete(project, "chat su") == ["summarizer", "support"]
    assert complete(project, "logs summ") == ["summarizer"]
    assert complete(project, "list --env ") == ["local", "prod", "staging"]
    assert complete(project, "deploy --agent sup") == ["support"]
    assert complete(project, "describe agent.") == ["agent.support.function", "agent.support.url"]
    assert complete(project, "state rm res") == ["resource.tickets.table"]
    assert complete(project, "output agent.support.") == ["agent.support.function", "agent.support.url"]
    # another environment: its own state (none here), so nothing, and never an error
    assert complete(project, "describe --env prod agent.") == []


def test_completion_outside_a_project_completes_nothing_quietly(tmp_path: Path) -> None:
    assert complete(tmp_path, "invoke ") == []
    assert complete(tmp_path, "list --env ") == ["local"]


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_the_scripts(shell: str) -> None:
    result = CliRunner().invoke(cli, ["completion", shell])
    assert result.exit_code == 0
    assert "_STRANDS_DEPLOY_COMPLETE" in result.output and "strands-deploy" in result.output


def test_completion_needs_a_shell() -> None:
    result = CliRunner().invoke(cli, ["completion"])
    assert result.exit_code == 2 and "bash|zsh|fish" in result.output


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
def test_bash_completes_through_the_printed_script(project: Path, tmp_path: Path) -> None:
    script = tmp_path / "completion.bash"
    script.write_text(subprocess.run([str(BIN), "completion", "bash"], capture_output=True, text=True).stdout)
    probe = (
        f'source "{script}"; COMP_WORDS=(strands-deploy -C "{project}" invoke su); COMP_CWORD=4; '
        '_strands_deploy_completion strands-deploy; printf "%s\\n" "${COMPREPLY[@]}"'
    )
    env = {**os.environ, "PATH": f"{BIN.parent}:{os.environ['PATH']}"}
    done = subprocess.run(["bash", "-c", probe], capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["summarizer", "support"]


def test_install_writes_once_and_says_where(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / ".bashrc").write_text("export A=1")  # no final newline: the line goes on its own line
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("SHELL", "/bin/bash")
    monkeypatch.delenv("ZDOTDIR", raising=False)
    for _ in range(2):
        result = CliRunner().invoke(cli, ["completion", "--install"])
        assert result.exit_code == 0, result.output
    script = home / ".config" / "strands-deploy" / "completion.bash"
    assert "_STRANDS_DEPLOY_COMPLETE" in script.read_text()
    rc = (home / ".bashrc").read_text().splitlines()
    assert rc[0] == "export A=1" and len(rc) == 2 and str(script) in rc[1]
    assert str(script) in result.output and "already loads it" in result.output

    fish = CliRunner().invoke(cli, ["completion", "fish", "--install"])
    assert fish.exit_code == 0
    assert (home / ".config" / "fish" / "completions" / "strands-deploy.fish").is_file()

    monkeypatch.setenv("SHELL", "/bin/tcsh")
    unknown = CliRunner().invoke(cli, ["completion", "--install"])
    assert unknown.exit_code != 0 and isinstance(unknown.exception, Exception)
