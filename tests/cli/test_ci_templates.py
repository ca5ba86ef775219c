"""`init --ci github|gitlab`: the pipelines parse as YAML, run the review and deploy steps the
docs promise, assume a role by OIDC, and every `strands-deploy` command line in them is one the
CLI accepts (parsed by click against the real command objects)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import click
import pytest
import yaml
from click.testing import CliRunner

from strands_deploy.cli.init_ci import PIPELINES, pipeline_text
from strands_deploy.cli.main import cli


def init(folder: Path, *args: str) -> Any:
    return CliRunner().invoke(cli, ["-C", str(folder), "init", *args])


def command_lines(text: str) -> list[str]:
    """Each shell command starting with `strands-deploy` (comments and installs left out)."""
    found = []
    for raw in text.splitlines():
        line = raw.strip().removeprefix("- ").removeprefix("run: ").strip()
        if line.startswith("strands-deploy "):
            found.append(line)
    return found


def check_command(line: str, variables: dict[str, str]) -> list[str]:
    """Parse ``line`` with click as the shell would pass it; the command path (e.g. ['plan'])."""
    words = shlex.split(line, comments=True)
    if ">" in words:  # output redirection is the shell's
        words = words[: words.index(">")]
    args = [re.sub(r"\$\{?(\w+)\}?", lambda m: variables[m.group(1)], w) for w in words[1:]]
    ctx = cli.make_context("strands-deploy", list(args))
    path: list[str] = []
    group: click.Command = cli
    rest = remaining(ctx)
    while isinstance(group, click.Group) and rest:
        name, rest = rest[0], rest[1:]
        command = group.get_command(ctx, name)
        assert command is not None, f"{line}: no command {name!r}"
        ctx = command.make_context(name, list(rest), parent=ctx)  # raises on unknown options/values
        path.append(name)
        group = command
        rest = remaining(ctx) if isinstance(command, click.Group) else []
    return path


def remaining(ctx: click.Context) -> list[str]:
    """The words a group left for its subcommand (click 8.2 renamed ``protected_args``)."""
    protected = ctx.__dict__.get("_protected_args", ctx.__dict__.get("protected_args", []))
    return [*protected, *ctx.args]


def project(tmp_path: Path, envs: str = "") -> Path:
    result = init(tmp_path)
    assert result.exit_code == 0, result.output
    if envs:
        with (tmp_path / "strands.yaml").open("a") as fh:
            fh.write(envs)
    return tmp_path


PROD = "  prod:\n    region: eu-west-1\n    state: {backend: s3, bucket: acme-state}\n"


def test_github_pipeline(tmp_path: Path) -> None:
    folder = project(tmp_path, PROD)
    result = init(folder, "--ci", "github")
    assert result.exit_code == 0, (result.output, result.exception)
    assert "bootstrap ci-role --env prod" in result.output and "note:" not in result.output
    text = (folder / ".github/workflows/strands-deploy.yml").read_text()
    doc = yaml.safe_load(text)
    triggers = doc.get("on", doc.get(True))  # YAML 1.1 reads the key `on` as true
    assert set(triggers) == {"pull_request", "push"} and triggers["push"]["branches"] == ["main"]
    assert doc["env"]["STRANDS_ENV"] == "prod" and doc["env"]["AWS_REGION"] == "eu-west-1"
    plan, deploy = doc["jobs"]["plan"], doc["jobs"]["deploy"]
    assert (
        plan["if"] == "github.event_name == 'pull_request'" and deploy["if"] == "github.event_name == 'push'"
    )
    for job in (plan, deploy):
        assert job["permissions"]["id-token"] == "write"
        creds = [
            s for s in job["steps"] if s.get("uses", "").startswith("aws-actions/configure-aws-credentials")
        ]
        assert creds and creds[0]["with"]["role-to-assume"] == "${{ vars.STRANDS_DEPLOY_ROLE_ARN }}"
    assert deploy["environment"] == "prod"
    plan_runs = [s["run"] for s in plan["steps"] if "run" in s]
    deploy_runs = [s["run"] for s in deploy["steps"] if "run" in s]
    assert [c.split()[1] for r in plan_runs for c in command_lines(r)] == ["validate", "check", "plan"]
    assert any("gh pr comment" in r and "plan.md" in r for r in plan_runs)
    assert [c for r in deploy_runs for c in command_lines(r)] == [
        'strands-deploy deploy --env "$STRANDS_ENV" --plan plan.json --yes'
    ]
    assert any("upload-artifact" in s.get("uses", "") for s in plan["steps"])
    assert any("gh run download" in r and "strands-plan" in r for r in deploy_runs)
    assert_no_keys(text)


def test_gitlab_pipeline(tmp_path: Path) -> None:
    folder = project(tmp_path)  # no `prod` environment yet: written, with a note saying what to add
    result = init(folder, "--ci", "gitlab", "--ci-env", "prod", "--ci-branch", "trunk")
    assert result.exit_code == 0, (result.output, result.exception)
    assert "add environment 'prod'" in result.output
    text = (folder / ".gitlab-ci.yml").read_text()
    doc = yaml.safe_load(text)
    assert doc["stages"] == ["plan", "deploy"]
    assert doc[".aws_oidc"]["id_tokens"]["AWS_ID_TOKEN"]["aud"] == "sts.amazonaws.com"
    assert "AWS_WEB_IDENTITY_TOKEN_FILE" in "\n".join(doc[".aws_oidc"]["before_script"])
    plan, deploy = doc["plan"], doc["deploy"]
    assert plan["rules"] == [{"if": '$CI_PIPELINE_SOURCE == "merge_request_event"'}]
    assert deploy["rules"] == [{"if": '$CI_COMMIT_BRANCH == "trunk" && $CI_PIPELINE_SOURCE == "push"'}]
    assert [c.split()[1] for s in plan["script"] for c in command_lines(s)] == ["validate", "check", "plan"]
    assert "plan.json" in plan["artifacts"]["paths"]
    assert [c for s in deploy["script"] for c in command_lines(s)] == [
        'strands-deploy deploy --env "$STRANDS_ENV" --plan plan.json --yes'
    ]
    assert_no_keys(text)


def assert_no_keys(text: str) -> None:
    for word in ("AWS_SECRET_ACCESS_KEY", "aws-secret-access-key", "AWS_ACCESS_KEY_ID", "aws-access-key-id"):
        assert word not in text


@pytest.mark.parametrize("provider", sorted(PIPELINES))
def test_every_command_line_is_accepted_by_the_cli(provider: str) -> None:
    text = pipeline_text(provider, env="prod", region="us-east-1")
    assert "{{" not in text.replace("${{", "")  # every placeholder filled
    lines = command_lines(text)
    assert len(lines) == 4
    paths = [check_command(line, {"STRANDS_ENV": "prod"}) for line in lines]
    assert paths == [["validate"], ["check"], ["plan"], ["deploy"]]
    assert "--format markdown" in lines[2] and "--out plan.json" in lines[2]


def test_the_checker_rejects_what_the_cli_rejects() -> None:
    with pytest.raises(click.NoSuchOption):
        check_command("strands-deploy plan --env prod --no-such-option", {})
    with pytest.raises(AssertionError, match="no command"):
        check_command("strands-deploy deplyo --env prod", {})
    assert check_command("strands-deploy state show --env $E", {"E": "prod"}) == ["state", "show"]


def test_an_existing_pipeline_is_kept_unless_forced(tmp_path: Path) -> None:
    folder = project(tmp_path)
    assert init(folder, "--ci", "gitlab").exit_code == 0
    (folder / ".gitlab-ci.yml").write_text("# mine\n")
    again = init(folder, "--ci", "gitlab")
    assert again.exit_code == 1 and "already exists" in str(again.exception)
    assert (folder / ".gitlab-ci.yml").read_text() == "# mine\n"
    assert init(folder, "--ci", "gitlab", "--force").exit_code == 0
    assert "strands-deploy deploy" in (folder / ".gitlab-ci.yml").read_text()
    assert (folder / "strands.yaml").exists() and "agents/assistant/agent.py" not in again.output
