"""Conventions users expect (issue 20), through the real entry point (`main`, as the console
script calls it) in a temporary project: JSON errors, global flags anywhere, suggestions for
mistyped commands, single-dash long options, aliases, --json on the read commands."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
import pytest

from strands_deploy.cli.main import main
from tests.helpers import AGENT_NO_LAYER, write_project

PROJECT = """\
project: conv
region: us-east-1
agents:
  support:
    path: agents/support
    sessions: true
  billing:
    path: agents/billing
resources:
  tickets: {type: table, key: id}
environments:
  local: {}
  prod: {region: eu-west-1}
"""


class Run:
    def __init__(self, code: int, out: str, err: str) -> None:
        self.code, self.out, self.err = code, out, err

    def json(self) -> Any:
        return json.loads(self.out)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))  # no user aliases from this machine
    monkeypatch.setenv("NO_COLOR", "1")
    return write_project(
        tmp_path / "p",
        PROJECT,
        agents={"support": AGENT_NO_LAYER, "billing": AGENT_NO_LAYER},
        requirements="",
    )


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str]) -> Any:
    def go(*args: str) -> Run:
        capsys.readouterr()
        try:
            main(list(args))
            code = 0
        except SystemExit as e:
            code = int(e.code or 0)
        captured = capsys.readouterr()
        return Run(code, captured.out, captured.err)

    return go


def test_errors_are_json_on_stdout_when_json_is_anywhere(run: Any, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    result = run("list", "--json", "-C", str(empty))
    assert result.code == 1
    error = result.json()["error"]
    assert set(error) >= {"what", "where", "fix"}
    assert "no strands.yaml" in error["what"] and "init" in error["fix"]
    assert result.err == ""  # scripts read stdout; nothing half-printed elsewhere
    plain = run("-C", str(empty), "list")
    assert plain.code == 1 and plain.out == "" and "error:" in plain.err and "no strands.yaml" in plain.err


def test_usage_errors_are_json_too(run: Any, project: Path) -> None:
    result = run("-C", str(project), "list", "--json", "--nope")
    assert result.code == 2
    error = result.json()["error"]
    assert "--nope" in error["what"] and error["fix"] == "see strands-deploy list --help"


def test_a_mistyped_command_gets_a_suggestion(run: Any) -> None:
    result = run("deplyo")
    assert result.code == 2 and "Did you mean deploy?" in result.err
    as_json = run("invokee", "--json")
    assert as_json.code == 2 and "Did you mean invoke?" in as_json.json()["error"]["what"]
    far = run("frobnicate")
    assert far.code == 2 and "No such command 'frobnicate'" in far.err and "Did you mean" not in far.err


def test_a_single_dash_long_option_is_an_error_suggesting_two_dashes(run: Any, project: Path) -> None:
    result = run("-C", str(project), "list", "-env", "prod")
    assert result.code == 2
    assert "-env is not an option" in result.err and "Did you mean --env?" in result.err
    joined = run("-C", str(project), "list", "-json")
    assert joined.code == 2 and "Did you mean --json?" in joined.err
    # a real short option with its value attached still works: -eprod is -e prod
    ok = run("-C", str(project), "list", "-eprod", "--json")
    assert ok.code == 0 and ok.json()["environment"] == "prod"


def test_debug_quiet_and_verbose_are_accepted_anywhere(run: Any, project: Path) -> None:
    loud = run("-C", str(project), "list")
    assert loud.code == 0 and "No resources recorded" in loud.err and loud.out == ""
    quiet = run("list", "-C", str(project), "-q")
    assert quiet.code == 0 and quiet.err == "" and quiet.out == ""
    also = run("list", "--debug", "--quiet", "-C", str(project), "--json")
    assert also.code == 0 and also.json()["resources"] == []
    verbose = run("list", "-v", "-C", str(project), "--json")
    assert verbose.code == 0 and verbose.json()["environment"] == "local"


def test_quiet_keeps_errors(run: Any, tmp_path: Path) -> None:
    result = run("-q", "-C", str(tmp_path), "list")
    assert result.code == 1 and "no strands.yaml" in result.err


def test_json_on_read_commands(run: Any, project: Path) -> None:
    graph = run("-C", str(project), "graph", "--json")
    assert graph.code == 0, graph.err
    body = graph.json()
    addresses = {r["address"]: r for r in body["resources"]}
    assert body["project"] == "conv" and "agent.support.function" in addresses
    function = addresses["agent.support.function"]
    assert function["type"] and "agent.support.role" in function["dependencies"]
    outputs = run("-C", str(project), "outputs", "--json")
    assert outputs.code == 0 and outputs.json() == {}
    state_list = run("-C", str(project), "state", "list", "--json")
    assert state_list.code == 0 and state_list.json() == []
    missing = run("-C", str(project), "describe", "agent.support.function", "--json")
    assert missing.code == 1 and "no resource" in missing.json()["error"]["what"]
    status = run("-C", str(project), "local", "status", "--json")
    assert status.code == 0 and status.json() == {"running": False}
    stop = run("-C", str(project), "local", "stop", "--json")
    assert stop.code == 0 and stop.json() == {"stopped": False}


def test_user_and_project_aliases(run: Any, project: Path, tmp_path: Path) -> None:
    config = tmp_path / "config" / "strands-deploy"
    config.mkdir(parents=True)
    (config / "config.toml").write_text(
        'aliases = { ls = "list --json", deploy = "destroy --yes", who = "history" }\n'
    )
    text = (project / "strands.yaml").read_text()
    (project / "strands.yaml").write_text(text + 'aliases:\n  who: "list --env prod --json"\n')

    listed = run("-C", str(project), "ls")
    assert listed.code == 0, listed.err
    assert listed.json()["environment"] == "local"
    assert "ignored" in listed.err and "deploy" in listed.err  # an alias cannot replace a built-in
    # the project's alias wins over the user's of the same name, and options after it are kept
    prod = run("-C", str(project), "who", "-q")
    assert prod.code == 0 and prod.json()["environment"] == "prod"
    # a mistyped alias is suggested like a command
    typo = run("-C", str(project), "lss")
    assert typo.code == 2 and "Did you mean ls?" in typo.err
    # strands.yaml with aliases still validates
    valid = run("-C", str(project), "validate", "--json")
    assert valid.code == 0 and valid.json()["valid"] is True


def test_a_broken_user_config_is_an_error_naming_the_file(run: Any, project: Path, tmp_path: Path) -> None:
    config = tmp_path / "config" / "strands-deploy"
    config.mkdir(parents=True)
    (config / "config.toml").write_text("aliases = {ship = \n")
    result = run("-C", str(project), "ship", "--json")
    assert result.code == 1
    error = result.json()["error"]
    assert error["where"].endswith("config.toml") and "TOML" in error["fix"]


def test_a_declared_single_dash_option_is_still_accepted() -> None:
    """plan declares Terraform's -lock itself: it is that option, not a mistyped --lock."""
    from strands_deploy.cli.argv import check_single_dash
    from strands_deploy.cli.main import cli

    check_single_dash(cli, ["plan", "-lock"])
    check_single_dash(cli, ["plan", "--env", "prod", "-lock=false"])
    with pytest.raises(click.UsageError, match="Did you mean --json"):
        check_single_dash(cli, ["plan", "-lock", "-json"])
