"""`init --interactive`: answers read from standard input give a valid project; the JSON Schema
reference line is written."""

from __future__ import annotations

from pathlib import Path

import jsonschema
import yaml
from click.testing import CliRunner

from strands_deploy.cli.docgen import SCHEMA_URL, json_schema
from strands_deploy.cli.main import cli
from strands_deploy.config.loader import load_project


def wizard(folder: Path, answers: list[str]) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["-C", str(folder), "init", "-i"], input="\n".join(answers) + "\n")
    return result.exit_code, result.output


def test_answers_make_a_valid_project(tmp_path: Path) -> None:
    folder = tmp_path / "shop"
    model = "us.anthropic.claude-sonnet-4-20250514-v1:0"
    code, output = wizard(folder, ["acme-shop", "eu-west-1", "tools", "helpdesk", model, "iam"])
    assert code == 0, output
    text = (folder / "strands.yaml").read_text()
    assert text.startswith(f"# yaml-language-server: $schema={SCHEMA_URL}\n")
    raw = yaml.safe_load(text)
    jsonschema.validate(raw, json_schema())  # what an editor checks
    project = load_project(folder)  # the full loader: folders, entry symbols, model script
    assert project.name == "acme-shop" and project.config.region == "eu-west-1"
    agent = project.agents["helpdesk"]
    assert (agent.path, agent.model, agent.expose, agent.auth) == ("agents/helpdesk", model, "url", "iam")
    assert list(project.agents) == ["helpdesk"]
    assert (folder / "agents/helpdesk/agent.py").exists() and not (folder / "agents/assistant").exists()
    assert 'load("helpdesk")' in (folder / "tests/test_agent.py").read_text()
    assert 'invoke helpdesk "What is 6 * 7?"' in output


def test_defaults_and_retries_on_bad_answers(tmp_path: Path) -> None:
    folder = tmp_path / "Demo Folder"
    # a bad project name, a bad region, a bad agent name and a wildcard model are asked again
    answers = ["Bad Name!", "", "mars-1", "", "", "9lives", "", "anthropic.*", "", "public"]
    code, output = wizard(folder, answers)
    assert code == 0, output
    assert output.count("Error:") == 4, output
    project = load_project(folder)
    assert project.name == "demo-folder" and project.config.region == "us-east-1"
    agent = project.agents["assistant"]
    assert (agent.model, agent.expose, agent.auth) == (None, "url", "none")


def test_multi_agent_keeps_its_agents(tmp_path: Path) -> None:
    code, output = wizard(tmp_path, ["", "", "multi-agent", "", "none"])
    assert code == 0, output
    assert sorted(load_project(tmp_path).agents) == ["researcher", "writer"]
    assert "First agent's name" not in output


def test_every_template_validates_against_the_schema(tmp_path: Path) -> None:
    schema = json_schema()
    for template in ("basic", "tools", "multi-agent"):
        folder = tmp_path / template
        result = CliRunner().invoke(cli, ["-C", str(folder), "init", "-t", template])
        assert result.exit_code == 0, result.output
        jsonschema.validate(yaml.safe_load((folder / "strands.yaml").read_text()), schema)
    bad = yaml.safe_load((tmp_path / "basic" / "strands.yaml").read_text())
    bad["agents"]["assistant"]["memroy"] = 512
    try:
        jsonschema.validate(bad, schema)
    except jsonschema.ValidationError as e:
        assert "memroy" in e.message
    else:
        raise AssertionError("a misspelt key passed the schema")
