"""Blue-green through the installed console script against moto: deploy, the new version waits
on `live-green`, `versions`, `promote`, `rollback` (previous and --to), `abort`, exit codes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3

from tests.helpers import AGENT_NO_LAYER, write_project

PROJECT = """\
project: bg
region: us-east-1
agents:
  support:
    path: agents/support
environments:
  local:
    endpoint: "{endpoint}"
    rollout: blue-green
"""


def _lam(endpoint: str) -> Any:
    return boto3.client("lambda", endpoint_url=endpoint, region_name="us-east-1")


def _alias(endpoint: str, name: str = "live") -> str:
    return str(_lam(endpoint).get_alias(FunctionName="bg-local-support", Name=name)["FunctionVersion"])


def _new_code(root: Path, n: int) -> None:
    (root / "agents" / "support" / "agent.py").write_text(AGENT_NO_LAYER + f"\nREVISION = {n}\n")


def test_blue_green_promote_rollback_abort(tmp_path: Path, moto: str, cli_factory: Any) -> None:
    root = write_project(
        tmp_path / "p", PROJECT.format(endpoint=moto), agents={"support": AGENT_NO_LAYER}, requirements=""
    )
    cli = cli_factory(root)
    first = cli("deploy", "--json")
    assert first.returncode == 0, first.stderr + first.stdout
    v1 = _alias(moto)  # a first deploy has nothing to compare with: all at once

    _new_code(root, 2)
    second = cli("deploy", "--json")
    assert second.returncode == 0, second.stderr + second.stdout
    doc = json.loads(second.stdout)
    (rollout,) = doc["rollouts"]
    assert rollout["status"] == "waiting" and rollout["green_alias"] == "live-green"
    v2 = rollout["new_version"]
    assert _alias(moto) == v1 and _alias(moto, "live-green") == v2 != v1

    status = cli("rollout", "status", "--json")
    assert json.loads(status.stdout)[0]["status"] == "waiting"
    versions = json.loads(cli("versions", "support", "--json").stdout)
    assert [v["version"] for v in versions["versions"]] == [v1, v2]
    assert versions["serving"] == v1

    promoted = cli("promote", "support", "--json")
    assert promoted.returncode == 0, promoted.stderr
    assert _alias(moto) == v2
    assert [a["Name"] for a in _lam(moto).list_aliases(FunctionName="bg-local-support")["Aliases"]] == [
        "live"
    ]

    back = cli("rollback", "support", "--json")
    assert back.returncode == 0, back.stderr
    assert _alias(moto) == v1
    forward = cli("rollback", "support", "--to", v2)
    assert forward.returncode == 0, forward.stderr
    assert _alias(moto) == v2
    missing = cli("rollback", "support", "--to", "99")
    assert missing.returncode != 0 and "does not exist" in missing.stderr

    # a third version, discarded: traffic never left v2, and nothing is left waiting
    _new_code(root, 3)
    third = cli("deploy", "--json")
    assert third.returncode == 0, third.stderr
    aborted = cli("abort", "support")
    assert aborted.returncode == 0, aborted.stderr
    assert _alias(moto) == v2
    assert json.loads(cli("rollout", "status", "--json").stdout)[0]["status"] == "aborted"
    nothing = cli("promote", "support")
    assert nothing.returncode != 0 and "no rollout in progress" in nothing.stderr
