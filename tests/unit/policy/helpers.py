"""Small projects for the policy tests: a base strands.yaml, changed per case."""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from strands_deploy.config.loader import load_project
from strands_deploy.planning.plan import Plan
from strands_deploy.policy.evaluate import PolicyReview, review
from strands_deploy.policy.model import Rule
from strands_deploy.synth import synthesize
from strands_deploy.synth.graph import Graph

ACCOUNT = "111122223333"
TODAY = dt.date(2026, 11, 29)
PLAIN_AGENT = "from strands import Agent\n\nagent = Agent(callback_handler=None)\n"

BASE: dict[str, Any] = {
    "project": "acme",
    "region": "us-east-1",
    "agents": {
        "bot": {
            "path": "agents/bot",
            "expose": "url",
            "auth": "iam",
            "sessions": True,
            "tracing": True,
            "prompt_logging": "metadata",
            "link": ["tickets"],
        }
    },
    "resources": {
        "tickets": {"type": "table", "key": "id"},
        "docs": {"type": "bucket"},
        "jobs": {"type": "queue"},
    },
    "environments": {
        "dev": {"account": ACCOUNT, "alarms": {"notify": [{"email": "ops@example.com"}]}},
        "prod": {"account": ACCOUNT, "protect": True, "alarms": {"notify": [{"email": "ops@example.com"}]}},
    },
}


def merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        elif value is None:
            out.pop(key, None)
        else:
            out[key] = copy.deepcopy(value)
    return out


def write(root: Path, over: dict[str, Any] | None = None, code: str = PLAIN_AGENT) -> Path:
    config = merge(BASE, over or {})
    root.mkdir(parents=True, exist_ok=True)
    (root / "strands.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    for agent in config.get("agents", {}).values():
        folder = root / agent["path"]
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "agent.py").write_text(code)
        (folder / "requirements.txt").write_text("strands-agents\n")
    return root


def graph_of(root: Path, env: str) -> tuple[Any, Graph]:
    project = load_project(root).for_environment(env)
    graph = synthesize(
        project, env, target="aws", account=ACCOUNT, secret_value=lambda s: "v", fingerprint_key=b"k" * 32
    )
    return project, graph


def run(
    root: Path,
    env: str = "dev",
    *,
    rules: list[Rule] | None = None,
    mutate: Callable[[Graph], None] | None = None,
    plan: Plan | None = None,
    live: dict[str, dict[str, Any]] | None = None,
) -> PolicyReview:
    project, graph = graph_of(root, env)
    if mutate is not None:
        mutate(graph)
    return review(project, env, graph, plan, live=live, account=ACCOUNT, today=TODAY, rules=rules)
