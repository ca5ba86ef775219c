"""Remote state for teams, configuration side: the `state:` block of an environment is checked
when the project loads, and every problem points at its line of strands.yaml with a fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from strands_deploy.config.loader import load_project, state_key, validate_project
from strands_deploy.errors import ConfigError, StrandsDeployError
from tests.helpers import AGENT_PY, write_project

HEADER = """\
project: acme
region: us-east-1
agents:
  bot: {path: agents/bot}
environments:
"""  # environments start at line 6


def write(tmp_path: Path, environments: str) -> Path:
    return write_project(tmp_path / "p", HEADER + environments, agents={"bot": AGENT_PY}, requirements="")


def problems(root: Path) -> list[StrandsDeployError]:
    with pytest.raises(ConfigError) as info:
        load_project(root)
    return info.value.problems


def line_of(p: StrandsDeployError, root: Path) -> int:
    """The line of strands.yaml a problem points at (its where is ``<file>:<line>:<col>``)."""
    source = str(root / "strands.yaml")
    assert p.where is not None and p.where.startswith(source + ":"), p.render()
    return int(p.where[len(source) + 1 :].split(":")[0])


def test_a_complete_state_block_loads(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        """\
  dev:
    state:
      backend: s3
      bucket: team-state
      key: team/dev.json
      kms_key: alias/x
      encrypt: client
      lock: dynamodb
      lock_table: locks
  prod:
    state: {backend: s3, bucket: team-state, region: eu-west-1, history_days: 30}
  staging: {}
""",
    )
    project = validate_project(root)
    dev = project.environment("dev").state
    assert (dev.backend, dev.bucket, dev.key, dev.kms_key, dev.encrypt) == (
        "s3",
        "team-state",
        "team/dev.json",
        "alias/x",
        "client",
    )
    assert (dev.lock, dev.lock_table, dev.history_days) == ("dynamodb", "locks", 90)
    prod = project.environment("prod").state
    assert (prod.lock, prod.region, prod.history_days) == ("s3", "eu-west-1", 30)
    assert project.environment("staging").state.backend == "local"  # the default
    assert state_key(project.config, "dev") == "team/dev.json"
    assert state_key(project.config, "prod") == "acme/prod.json"  # default <project>/<env>.json
    assert project.warnings == []


def test_the_local_environment_may_use_s3_state_on_an_endpoint(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        '  local:\n    endpoint: "http://127.0.0.1:4566"\n    state: {backend: s3, bucket: team-state}\n',
    )
    assert load_project(root).environment("local").state.backend == "s3"


# (environments text, the line the problem must point at, words the message must contain)
CASES = [
    pytest.param(
        "  dev:\n    state:\n      backend: nope\n      bucket: team-state\n",
        8,
        ["backend", "'local' or 's3'"],
        id="unknown-backend",
    ),
    pytest.param(
        "  dev:\n    state: {backend: s3, bucket: team-state, key: shared.json}\n"
        "  prod:\n    state: {backend: s3, bucket: team-state, key: shared.json}\n",
        9,
        ["'dev' and 'prod'", "s3://team-state/shared.json"],
        id="two-environments-one-key",
    ),
    pytest.param(
        # the explicit key of prod is dev's default key
        "  dev:\n    state: {backend: s3, bucket: team-state}\n"
        "  prod:\n    state: {backend: s3, bucket: team-state, key: acme/dev.json}\n",
        9,
        ["'dev' and 'prod'", "s3://team-state/acme/dev.json"],
        id="a-key-equal-to-another-default",
    ),
    pytest.param(
        "  local:\n    state:\n      backend: s3\n      bucket: team-state\n",
        8,
        ["`local` environment", "embedded local cloud"],
        id="s3-state-on-the-embedded-local-cloud",
    ),
    pytest.param(
        "  dev:\n    state:\n      backend: s3\n      region: us-east-1\n",
        range(7, 10),
        ["bucket"],
        id="s3-without-bucket",
    ),
    pytest.param(
        "  dev:\n    state:\n      backend: s3\n      bucket: team-state\n      lock: dynamodb\n",
        range(7, 11),
        ["lock_table"],
        id="dynamodb-lock-without-table",
    ),
    pytest.param(
        "  dev:\n    state:\n      backend: s3\n      bucket: Team_State\n",
        9,
        ["Team_State", "bucket name"],
        id="invalid-bucket-name",
    ),
]


@pytest.mark.parametrize(("environments", "line", "words"), CASES)
def test_each_state_problem_points_at_its_line_with_a_fix(
    tmp_path: Path, environments: str, line: int | range, words: list[str]
) -> None:
    root = write(tmp_path, environments)
    found = problems(root)
    assert len(found) == 1, [p.render() for p in found]
    p = found[0]
    at = line_of(p, root)
    assert at in line if isinstance(line, range) else at == line, p.render()
    for word in words:
        assert word in p.what, p.render()
    assert p.fix, f"no fix for: {p.render()}"


def test_an_unknown_key_in_state_is_found_at_its_line(tmp_path: Path) -> None:
    root = write(
        tmp_path, "  dev:\n    state:\n      backend: s3\n      bucket: team-state\n      lokc: s3\n"
    )
    p = problems(root)[0]
    assert p.what == "unknown key 'lokc'"
    assert line_of(p, root) == 10 and p.fix


def test_an_unknown_key_in_state_suggests_the_close_one(tmp_path: Path) -> None:
    root = write(
        tmp_path, "  dev:\n    state:\n      backend: s3\n      bucket: team-state\n      lokc: s3\n"
    )
    p = problems(root)[0]
    assert p.fix and "did you mean 'lock'?" in p.fix


def test_all_state_problems_are_reported_together_by_validate(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        """\
  local:
    state: {backend: s3, bucket: team-state}
  dev:
    state: {backend: nope}
  staging:
    state: {backend: s3, bucket: other-state, key: k.json}
  prod:
    state: {backend: s3, bucket: other-state, key: k.json}
""",
    )
    with pytest.raises(ConfigError) as info:
        validate_project(root)
    found = {line_of(p, root): p for p in info.value.problems}
    assert sorted(found) == [7, 9, 13], [p.render() for p in info.value.problems]
    assert "embedded local cloud" in found[7].what
    assert "backend" in found[9].what and found[9].fix == "use one of: local, s3"
    assert "'staging' and 'prod'" in found[13].what and found[13].fix and "key" in found[13].fix
    rendered = str(info.value)
    assert "Traceback" not in rendered
