"""issue 5's done-when on the real local cloud: every init template deploys and answers, and an
agent with sessions: true remembers across invokes with one session id, not across two."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow

MEMORY_SCRIPT = """\
- match: 'what did I say'
  reply: 'you said: {history}'
"""


@pytest.mark.parametrize("template", ["basic", "multi-agent"])
def test_template_deploys_and_answers(template: str, tmp_path: Path, cli_factory: Any) -> None:
    root = tmp_path / template
    cli = cli_factory(root, env={"STRANDS_LOCAL_PORT": "0"})
    try:
        assert cli("init", "--template", template).returncode == 0
        deploy = cli("deploy")
        assert deploy.returncode == 0, deploy.stdout + deploy.stderr
        from strands_deploy.config.loader import load_project

        for agent in load_project(root).agents:
            answer = cli("invoke", agent, "hi there")
            assert answer.returncode == 0, answer.stderr
            assert answer.stdout.strip() == "echo: hi there"
        if template == "multi-agent":
            assert "local: {model_script: local.yaml}" in (root / "strands.yaml").read_text()
            (root / "local.yaml").write_text(MEMORY_SCRIPT)  # the template ships a script: replace it
            assert cli("local", "stop").returncode == 0  # picks the script up on the next start
            assert cli("deploy").returncode == 0
            remembering = [a for a, cfg in load_project(root).agents.items() if cfg.sessions]
            assert remembering, "the multi-agent template has an agent with sessions"
            agent = remembering[0]
            assert cli("invoke", agent, "my name is Ada", "--session", "s-one").returncode == 0
            same = cli("invoke", agent, "what did I say?", "--session", "s-one")
            assert same.stdout.strip() == "you said: my name is Ada", same.stderr
            other = cli("invoke", agent, "what did I say?", "--session", "s-two")
            assert other.stdout.strip() == "you said:", other.stderr
    finally:
        cli("local", "stop", timeout=60)
