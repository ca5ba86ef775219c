"""Secret fingerprints are keyed with a random key kept outside the state and plans (issue 10's
saved plans, issue 11 item 2): the state or a plan alone cannot be tested against guesses, and
plans never print a fingerprint."""

from __future__ import annotations

import json
import stat
from pathlib import Path

from strands_deploy.config.loader import load_project
from strands_deploy.planning.plan import make_plan
from strands_deploy.state.keys import fingerprint_key
from strands_deploy.state.model import State
from strands_deploy.synth import synthesize
from tests.helpers import write_project

PROJECT = "project: acme\nresources:\n  token: {type: secret, from_env: TOKEN}\n"
VALUE = "hunter2"


def graph(root: Path, key: bytes):  # type: ignore[no-untyped-def]
    return synthesize(
        load_project(root),
        "dev",
        target="aws",
        account="1",
        secret_value=lambda s: VALUE,
        fingerprint_key=key,
    )


def test_key_is_random_private_and_stable(tmp_path: Path) -> None:
    key = fingerprint_key(tmp_path, "dev")
    assert len(key) == 32 and fingerprint_key(tmp_path, "dev") == key
    assert fingerprint_key(tmp_path, "prod") != key
    path = tmp_path / ".strands" / "keys" / "dev.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


def test_fingerprint_depends_on_the_key_and_is_never_printed(tmp_path: Path) -> None:
    root = write_project(tmp_path / "p", PROJECT, agents={})
    a = graph(root, b"a" * 32).resources["resource.token.secret"].props["fingerprint"]
    b = graph(root, b"b" * 32).resources["resource.token.secret"].props["fingerprint"]
    assert a != b and len(a) == 64  # full HMAC-SHA256, keyed: not reproducible from public names
    plan = make_plan(graph(root, b"a" * 32), State(environment="dev"))
    shown = json.dumps(plan.to_json())
    assert a not in shown and "(hidden)" in shown and VALUE not in shown
    saved = json.dumps(plan.to_document())
    assert VALUE not in saved
