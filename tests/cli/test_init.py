"""`strands-deploy init`: each template gives a valid project whose own tests pass offline."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from strands_deploy.cli.init_cmd import TEMPLATES, default_name, merge_gitignore
from strands_deploy.cli.main import cli
from strands_deploy.config.loader import load_project
from strands_deploy.config.schema import ProjectConfig
from strands_deploy.errors import StrandsDeployError


def run_init(folder: Path, *args: str) -> tuple[int, str, BaseException | None]:
    result = CliRunner().invoke(cli, ["-C", str(folder), "init", *args])
    return result.exit_code, result.output, result.exception


EXPECTED_AGENTS = {"basic": ["assistant"], "tools": ["assistant"], "multi-agent": ["researcher", "writer"]}


@pytest.mark.parametrize("template", list(TEMPLATES))
def test_template_is_a_valid_project_whose_tests_pass(template: str, tmp_path: Path) -> None:
    folder = tmp_path / "My Project"
    code, output, exc = run_init(folder, "--template", template)
    assert code == 0, (output, exc)

    raw = yaml.safe_load((folder / "strands.yaml").read_text())
    config = ProjectConfig.model_validate(raw)  # the schema exactly: unknown keys are errors
    assert config.project == "my-project"
    assert sorted(config.agents) == EXPECTED_AGENTS[template]
    assert list(config.environments) == ["local"]
    for name, agent in config.agents.items():
        assert agent.path == f"agents/{name}"
        assert agent.entry == "agent.py:agent"
        assert "strands-agents" in (folder / agent.path / "requirements.txt").read_text()
    project = load_project(folder)  # the full loader: folders, entry symbols, model_script exist
    assert sorted(project.agents) == EXPECTED_AGENTS[template]

    if template == "tools":
        assert config.environments["local"].model_script == "local.yaml"
        rules = yaml.safe_load((folder / "local.yaml").read_text())
        assert all("match" in r and ("reply" in r) != ("tool" in r) for r in rules)
        tools = {"current_time", "calculator", "word_count"}
        assert {r["tool"]["name"] for r in rules if "tool" in r} == tools
        from strands_deploy.local.model_script import decide, parse

        script = parse((folder / "local.yaml").read_text(), "local.yaml")
        assert script.error is None
        call = decide(script, "What is (6 + 1) * 6?", False, tools)
        assert (call.tool_name, call.tool_input) == ("calculator", {"expression": "(6 + 1) * 6"})
        assert decide(script, "what time is it", False, tools).tool_name == "current_time"
    if template == "multi-agent":
        assert config.agents["writer"].expose == "url" and config.agents["writer"].sessions
        assert config.agents["researcher"].expose == "none"

    assert ".strands/" in (folder / ".gitignore").read_text().splitlines()
    assert "strands-deploy invoke" in output and "Next steps" in output

    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "AWS_ENDPOINT"))}
    env["AWS_DEFAULT_REGION"] = "us-east-1"
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist"],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert " passed" in proc.stdout and "failed" not in proc.stdout


def test_refuses_to_overwrite_without_force(tmp_path: Path) -> None:
    assert run_init(tmp_path)[0] == 0
    agent_file = tmp_path / "agents" / "assistant" / "agent.py"
    agent_file.write_text("# my work\n")

    code, _, exc = run_init(tmp_path, "--template", "tools")
    assert code != 0
    assert isinstance(exc, StrandsDeployError)
    assert "strands.yaml already exists" in exc.what and "--force" in (exc.fix or "")
    assert agent_file.read_text() == "# my work\n"

    code, output, exc = run_init(tmp_path, "--template", "tools", "--force")
    assert code == 0, (output, exc)
    assert "calculator" in agent_file.read_text()
    assert (tmp_path / "local.yaml").exists()


def test_refuses_when_agent_files_exist_even_without_strands_yaml(tmp_path: Path) -> None:
    (tmp_path / "agents" / "assistant").mkdir(parents=True)
    (tmp_path / "agents" / "assistant" / "agent.py").write_text("# keep\n")
    code, _, exc = run_init(tmp_path)
    assert code != 0 and isinstance(exc, StrandsDeployError)
    assert "agents/assistant/agent.py" in exc.what
    assert not (tmp_path / "strands.yaml").exists()


def test_existing_gitignore_is_extended_not_replaced(tmp_path: Path) -> None:
    (tmp_path / ".gitignore").write_text("node_modules/\n")
    assert run_init(tmp_path, "--name", "keep-ignores")[0] == 0
    lines = (tmp_path / ".gitignore").read_text().splitlines()
    assert lines[0] == "node_modules/" and ".strands/" in lines
    assert merge_gitignore("\n".join(lines) + "\n", ".strands/\n") == "\n".join(lines) + "\n"


def test_invalid_name_is_a_clear_error(tmp_path: Path) -> None:
    code, _, exc = run_init(tmp_path, "--name", "Bad_Name")
    assert code != 0 and isinstance(exc, StrandsDeployError)
    assert "'Bad_Name' is not valid" in exc.what
    assert not (tmp_path / "strands.yaml").exists()


@pytest.mark.parametrize(
    ("folder", "name"),
    [("My Agents_2", "my-agents-2"), ("2fast", "fast"), ("___", "my-agents"), ("x" * 40, "x" * 24)],
)
def test_default_name(folder: str, name: str) -> None:
    assert default_name(Path("/tmp") / folder) == name
    ProjectConfig(project=name)


def test_console_script_runs_init(tmp_path: Path) -> None:
    cli_path = Path(sys.executable).parent / "strands-deploy"
    proc = subprocess.run(
        [str(cli_path), "-C", str(tmp_path / "p"), "init", "--name", "demo"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "p" / "strands.yaml").read_text().startswith("# yaml-language-server: $schema=")
    again = subprocess.run(
        [str(cli_path), "-C", str(tmp_path / "p"), "init"], capture_output=True, text=True, timeout=60
    )
    assert again.returncode == 1
    assert "strands.yaml already exists" in again.stderr and "--force" in again.stderr
    assert "Traceback" not in again.stderr


def test_json_lists_what_was_written_and_nothing_else(tmp_path: Path) -> None:
    import json

    result = CliRunner().invoke(
        cli, ["-C", str(tmp_path), "init", "--name", "demo", "--ci", "github", "--json"]
    )
    assert result.exit_code == 0, (result.output, result.exception)
    doc = json.loads(result.stdout)  # the whole of stdout is the document
    assert doc["project"] == "demo" and doc["template"] == "basic"
    assert "strands.yaml" in doc["written"] and "agents/assistant/agent.py" in doc["written"]
    assert doc["pipeline"] and (tmp_path / doc["pipeline"]).exists()
    both = CliRunner().invoke(cli, ["-C", str(tmp_path / "x"), "init", "--interactive", "--json"])
    assert both.exit_code == 2 and "leave out --json" in both.output
