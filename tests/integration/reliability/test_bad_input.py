"""issue 7.7: bad input everywhere gets one clear error, exit 1, no traceback, no state change."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import write_project

AGENT = "agent = None\n"
BASE = """\
project: bad
agents:
  bot: {path: agents/bot, alarms: false}
environments:
  local: {}
  dev: {region: us-east-1}
"""


def check(proc: Any, *needles: str) -> None:
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    for n in needles:
        assert n in proc.stderr, proc.stderr


@pytest.mark.parametrize(
    ("yaml_text", "needles"),
    [
        ("project: bad\nagents: [1, 2\n", ["YAML syntax error"]),
        ("project: bad\nagents:\n  bot: {path: agents/bot, memory: huge}\n", ["agents.bot.memory", ":3:"]),
        ("project: bad\nagents:\n  bot: {path: agents/bot, timeout: 5000}\n", ["agents.bot.timeout"]),
        ("project: bad\nagnets: {}\n", ["unknown key 'agnets'", "did you mean 'agents'?"]),
        (
            "project: bad\nagents:\n  bot: {path: agents/bot}\n  bot: {path: agents/bot}\n",
            ["duplicate key 'bot'"],
        ),
        (
            "project: bad\nagents:\n  bot: {path: agents/bot, entry: nope.py:agent}\n",
            ["nope.py does not exist"],
        ),
        ("project: bad\nagents:\n  bot: {path: ../../etc}\n", ["outside the project folder"]),
        (
            "project: bad\nregion: us-middle-9\nagents:\n  bot: {path: agents/bot}\n",
            ["unknown AWS region 'us-middle-9'"],
        ),
        ("project: Bad_Name\n", ["project must be"]),
        ("project: bad\nenvironments:\n  prod: {account: 12345}\n", ["12-digit"]),
        ("project: bad\nagents:\n  bot: {path: agents/bot, expose: public}\n", ["expose", "use one of"]),
        ("project: bad\nagents:\n  bot: {path: agents/bot, trigger: nothing}\n", ["trigger 'nothing'"]),
        ("", ["missing required key 'project'"]),
        ("- just\n- a list\n", ["must be a mapping"]),
        (
            "project: bad\nagents:\n  bot: {path: agents/bot, description: !Sub x}\n",
            ["unsupported YAML tag '!Sub'", "strands.yaml:3:40"],
        ),
        (
            "project: bad\nagents:\n  bot: {path: agents/bot, description: !!python/object/apply:os.system [ls]}\n",
            ["unsupported YAML tag '!!python/object/apply:os.system'"],
        ),
        (
            "project: bad\nx0: &x0 [a, a, a, a, a, a, a, a, a]\n"
            + "".join(f"x{i}: &x{i} [{', '.join([f'*x{i - 1}'] * 9)}]\n" for i in range(1, 9)),
            ["alias bomb"],
        ),
        ("project: bad\nregion: \udce9\n", ["strands.yaml is not UTF-8 text", "strands.yaml:2:9"]),
    ],
)
def test_bad_configs(tmp_path: Path, cli_factory: Any, yaml_text: str, needles: list[str]) -> None:
    root = write_project(tmp_path / "p", BASE, agents={"bot": AGENT}, requirements="")
    (root / "strands.yaml").write_bytes(yaml_text.encode("utf-8", "surrogateescape"))
    check(cli_factory(root)("plan"), *needles)
    assert not (root / ".strands").exists()  # nothing was written


def test_bad_state_files(tmp_path: Path, cli_factory: Any) -> None:
    root = write_project(tmp_path / "p", BASE, agents={"bot": AGENT}, requirements="")
    state = root / ".strands/state/dev.json"
    state.parent.mkdir(parents=True)
    state.write_text('{"version": 1, "environment": "dev", "lineage": "x", "serial": 3, "resources": {')
    check(cli_factory(root)("list", "--env", "dev"), "not valid JSON", "dev.json:1:")
    newer = {
        "version": 7,
        "tool_version": "9.9.9",
        "environment": "dev",
        "lineage": "x",
        "serial": 3,
        "resources": {},
        "pending": [],
    }
    state.write_text(json.dumps(newer))
    check(cli_factory(root)("deploy", "--env", "dev"), "newer strands-deploy", "upgrade strands-deploy")
    assert json.loads(state.read_text()) == newer  # untouched
    for data, needle in (
        (
            b'{"version": "1", "environment": "dev", "lineage": "x", "serial": 3}',
            "`version` field is invalid",
        ),
        (b"[]", "the top level is a list"),
        (
            b'{"version": 1, "environment": "dev", "lineage": "x", "serial": 1e400}',
            "`serial` field is invalid",
        ),
        (json.dumps(newer).encode("utf-16"), "not UTF-8 text"),
    ):
        state.write_bytes(data)
        check(cli_factory(root)("list", "--env", "dev"), needle, "dev.json", "restore")
        assert state.read_bytes() == data  # untouched
    if os.geteuid() != 0:  # root reads everything
        state.chmod(0)
        check(cli_factory(root)("list", "--env", "dev"), "cannot read the state file")


def test_missing_credentials(tmp_path: Path, cli_factory: Any) -> None:
    root = write_project(tmp_path / "p", BASE, agents={"bot": AGENT}, requirements="")
    env = {
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
        "AWS_CONFIG_FILE": str(tmp_path / "none"),
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    cli = cli_factory(root, env=env)
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        cli.env.pop(key, None)
    check(cli("plan", "--env", "dev"), "no AWS credentials found for environment 'dev'", "aws configure")
    assert not (root / ".strands/state/dev.json").exists()


def test_unknown_environment_and_agent(tmp_path: Path, cli_factory: Any) -> None:
    root = write_project(tmp_path / "p", BASE, agents={"bot": AGENT}, requirements="")
    check(cli_factory(root)("plan", "--env", "dve"), "unknown environment 'dve'", "did you mean 'dev'?")
    check(cli_factory(root)("describe", "agent.bot.functon"), "no resource 'agent.bot.functon'")


def test_read_only_commands_work_while_agent_code_is_broken(tmp_path: Path, cli_factory: Any) -> None:
    root = write_project(tmp_path / "p", BASE, agents={"bot": "def broken(:\n"}, requirements="")
    cli = cli_factory(root)
    listed = cli("list", "--env", "dev")
    assert listed.returncode == 0, listed.stderr
    check(cli("validate"), "syntax error in agent.py", "agents/bot/agent.py:1:12")


def test_a_damaged_lock_is_released_by_state_unlock(tmp_path: Path, cli_factory: Any) -> None:
    root = write_project(tmp_path / "p", BASE, agents={"bot": AGENT}, requirements="")
    lock = root / ".strands/state/dev.lock"
    lock.parent.mkdir(parents=True)
    lock.write_text("")
    cli = cli_factory(root)
    check(cli("deploy", "--env", "dev"), "a damaged lock file (empty)", "state unlock --env dev")
    unlocked = cli("state", "unlock", "--env", "dev")
    assert unlocked.returncode == 0 and "Released" in unlocked.stderr, unlocked.stdout
    assert not lock.exists()
