"""Test helpers: write small projects to disk."""

from __future__ import annotations

import textwrap
from pathlib import Path

AGENT_PY = """\
from strands import Agent

agent = Agent(callback_handler=None)
"""


# An agent for projects deployed with `requirements=""` (no layer) to moto or to the local cloud
# through an `endpoint:`: the local cloud's workers have strands from the host. The guarded import
# tells the import check (packaging/imports.py) that the package is not expected in a layer.
AGENT_NO_LAYER = """\
try:
    from strands import Agent
except ImportError:  # provided by the local cloud's workers in these tests; no layer is built
    raise

agent = Agent(callback_handler=None)
"""


def write_project(
    root: Path, yaml_text: str, agents: dict[str, str] | None = None, requirements: str = "strands-agents\n"
) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "strands.yaml").write_text(textwrap.dedent(yaml_text))
    for name, code in (agents if agents is not None else {"support": AGENT_PY}).items():
        folder = root / "agents" / name
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "agent.py").write_text(code)
        (folder / "requirements.txt").write_text(requirements)
    return root


BASIC = """\
project: acme
region: us-east-1
agents:
  support:
    path: agents/support
    entry: agent.py:agent
    memory: 2048
    environment: {TONE: friendly}
    expose: url
    sessions: true
    link: [tickets, docs]
resources:
  tickets: {type: table, key: id}
  docs: {type: bucket}
  jobs: {type: queue}
environments:
  local: {}
  dev: {profile: dev}
  prod: {account: "123456789012", region: eu-west-1, protect: true}
"""
