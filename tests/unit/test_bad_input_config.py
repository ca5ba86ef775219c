"""issue 10 (defect 6 and 'the plan is the program'): configuration input that is hostile or
broken gets one clear message at file:line:col; agent code is checked apart from loading."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from strands_deploy.config.loader import code_problems, load_project, validate_project
from strands_deploy.errors import ConfigError, StrandsDeployError
from tests.helpers import AGENT_PY, write_project


def problems(root: Path) -> list[StrandsDeployError]:
    with pytest.raises(ConfigError) as info:
        load_project(root)
    return info.value.problems


def one(root: Path) -> StrandsDeployError:
    found = problems(root)
    assert len(found) == 1, [p.render() for p in found]
    assert "<unicode string>" not in found[0].render()
    return found[0]


# -- YAML tags ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "tag"),
    [
        ("!!python/object/apply:os.system ['touch {marker}']", "!!python/object/apply:os.system"),
        ("!!python/name:os.system", "!!python/name:os.system"),
        ("!Sub '${AWS::Region}-bot'", "!Sub"),
        ("!Ref Something", "!Ref"),
        ("!custom {a: 1}", "!custom"),
    ],
)
def test_yaml_tags_are_refused_at_their_position(tmp_path: Path, value: str, tag: str) -> None:
    marker = tmp_path / "constructed"
    text = f"project: acme\nagents:\n  bot:\n    path: agents/bot\n    description: {value.replace('{marker}', str(marker))}\n"
    p = one(write_project(tmp_path / "p", text, agents={"bot": AGENT_PY}))
    assert p.what == f"unsupported YAML tag {tag!r}"
    assert p.where == f"{tmp_path / 'p' / 'strands.yaml'}:5:18"
    assert p.fix and "!Sub" in p.fix
    assert not marker.exists()


def test_standard_tags_still_work(tmp_path: Path) -> None:
    text = "project: acme\nagents:\n  bot: {path: agents/bot, description: !!str 42, memory: !!int '512'}\n"
    project = load_project(write_project(tmp_path, text, agents={"bot": AGENT_PY}))
    assert project.agents["bot"].description == "42" and project.agents["bot"].memory == 512


# -- merge keys -----------------------------------------------------------------------------------
MERGE = """\
project: acme
agents:
  a: &common
    path: agents/a
    memory: 512
    timeout: 60
    environment: {TONE: calm}
  b:
    <<: *common
    path: agents/b
    timeout: 30
  c:
    <<: [*common, {memory: 2048, description: from-the-second}]
    path: agents/c
"""


def test_merge_keys_work(tmp_path: Path) -> None:
    root = write_project(tmp_path, MERGE, agents={"a": AGENT_PY, "b": AGENT_PY, "c": AGENT_PY})
    agents = load_project(root).agents
    assert (agents["b"].path, agents["b"].memory, agents["b"].timeout) == ("agents/b", 512, 30)
    assert agents["b"].environment == {"TONE": "calm"}
    assert (agents["c"].memory, agents["c"].description) == (512, "from-the-second")  # first wins


def test_merged_values_keep_their_positions(tmp_path: Path) -> None:
    text = MERGE.replace("timeout: 60", "timeout: 5000")
    root = write_project(tmp_path, text, agents={"a": AGENT_PY, "b": AGENT_PY, "c": AGENT_PY})
    found = {p.what.split(":")[0]: p.where for p in problems(root)}
    source = root / "strands.yaml"
    assert found["agents.a.timeout"] == f"{source}:6:14"
    assert found["agents.c.timeout"] == f"{source}:6:14"  # merged: reported where it is written
    assert "agents.b.timeout" not in found  # b overrides it


def test_a_merge_key_needs_a_mapping(tmp_path: Path) -> None:
    text = "project: acme\nagents:\n  bot:\n    <<: [1, 2]\n    path: agents/bot\n"
    p = one(write_project(tmp_path, text, agents={"bot": AGENT_PY}))
    assert "merge key" in p.what and p.where and p.where.endswith(":4:10")  # the first bad one


def test_a_recursive_alias_is_refused(tmp_path: Path) -> None:
    p = one(write_project(tmp_path, "project: acme\ntags: &t {a: *t}\n", agents={}))
    assert "alias refers to a value that contains it" in p.what


# -- alias bomb -----------------------------------------------------------------------------------
def test_an_alias_bomb_is_refused_quickly(tmp_path: Path) -> None:
    lines = ['project: acme\nx0: &x0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"x{i}: &x{i} [" + ", ".join([f"*x{i - 1}"] * 9) + "]" for i in range(1, 9)]
    text = "\n".join(lines) + "\n"
    assert len(text) < 600  # expands to 9**9 (387 million) strings
    root = write_project(tmp_path, text, agents={})
    start = time.perf_counter()
    p = one(root)
    assert time.perf_counter() - start < 1.0
    assert "expands to more than 100,000 values" in p.what and "alias bomb" in p.what
    assert p.where and p.where.startswith(str(root / "strands.yaml"))


def test_a_merge_key_bomb_is_refused_quickly(tmp_path: Path) -> None:
    lines = ["project: acme", "m0: &m0 {a: 1, b: 2, c: 3, d: 4, e: 5, f: 6, g: 7, h: 8, i: 9, j: 10}"]
    lines += [f"m{i}: &m{i} {{<<: [" + ", ".join([f"*m{i - 1}"] * 10) + "]}" for i in range(1, 10)]
    root = write_project(tmp_path, "\n".join(lines) + "\n", agents={})
    start = time.perf_counter()
    p = one(root)
    assert time.perf_counter() - start < 1.0 and "alias bomb" in p.what


# -- bytes that are not UTF-8 text ------------------------------------------------------------------
@pytest.mark.parametrize(
    ("data", "needle", "at"),
    [
        (
            b"project: acme\nregion: \xe9u-west-1\n",
            "strands.yaml is not UTF-8 text (invalid byte 0xe9)",
            ":2:9",
        ),
        (b"project: acme\n\x00\n", "strands.yaml contains a NUL byte", ":2:1"),
        ("project: acme\n".encode("utf-16"), "strands.yaml is not UTF-8 text (it looks like UTF-16)", ":1:1"),
        (b"project: acme\ndesc: a\x01b\n", "control characters are not allowed", ":2:8"),
    ],
)
def test_non_text_configuration(tmp_path: Path, data: bytes, needle: str, at: str) -> None:
    root = write_project(tmp_path, "project: acme\n", agents={})
    (root / "strands.yaml").write_bytes(data)
    p = one(root)
    assert needle in p.what, p.what
    assert p.where == f"{root / 'strands.yaml'}{at}"


def test_a_utf8_bom_is_fine(tmp_path: Path) -> None:
    root = write_project(tmp_path, "project: acme\n", agents={})
    (root / "strands.yaml").write_bytes(b"\xef\xbb\xbfproject: acme\n")
    assert load_project(root).name == "acme"


def test_a_discovered_agent_file_that_is_not_text(tmp_path: Path) -> None:
    root = write_project(tmp_path, "project: acme\nregion: eu-wset-1\n", agents={"helper": AGENT_PY})
    agent_file = root / "agents" / "helper" / "strands.agent.yaml"
    agent_file.write_bytes(b"memory: 512\ndescription: \xff\n")
    found = problems(root)
    whats = [p.what for p in found]
    assert "strands.agent.yaml is not UTF-8 text (invalid byte 0xff)" in whats
    assert any("unknown AWS region" in w for w in whats)  # reported in the same run
    assert any(p.where == f"{agent_file}:2:14" for p in found)


def test_yaml_errors_name_the_file(tmp_path: Path) -> None:
    root = write_project(tmp_path, "project: acme\n", agents={"helper": AGENT_PY})
    (root / "agents" / "helper" / "strands.agent.yaml").write_text("memory: [1\n")
    p = one(root)
    assert p.where and p.where.startswith(str(root / "agents" / "helper" / "strands.agent.yaml") + ":")
    assert "YAML syntax error" in p.what and "<unicode string>" not in p.render()


# -- file names and symlinks ----------------------------------------------------------------------
def test_a_file_name_too_long(tmp_path: Path) -> None:
    root = write_project(
        tmp_path, f"project: acme\nagents:\n  bot: {{path: agents/{'x' * 300}}}\n", agents={}
    )
    (root / "agents").mkdir()
    p = one(root)
    assert "File name too long" in p.what and p.where and p.where.endswith(":3:15")
    with pytest.raises(StrandsDeployError) as info:
        load_project(tmp_path / ("y" * 300))
    assert "File name too long" in info.value.what


def test_an_unreadable_configuration_names_the_file(tmp_path: Path) -> None:
    root = write_project(tmp_path, "project: acme\n", agents={})
    (root / "strands.yaml").unlink()
    (root / "strands.yaml").mkdir()  # exists, but cannot be read as a file
    with pytest.raises(StrandsDeployError) as info:
        load_project(root)
    assert str(root / "strands.yaml") in info.value.render()


def test_symlink_loops_in_agent_folders(tmp_path: Path) -> None:
    root = write_project(tmp_path, "project: acme\n", agents={"helper": AGENT_PY})
    agents = root / "agents"
    (agents / "loop").symlink_to("loop")
    (agents / "x1").symlink_to("x2")
    (agents / "x2").symlink_to("x1")
    (agents / "helper" / "up").symlink_to("..")
    (agents / "helper" / "strands.agent.yaml").write_text("memory: 512\n")
    project = load_project(root)
    assert sorted(project.agents) == ["helper"]
    (root / "strands.yaml").write_text("project: acme\nagents:\n  bot: {path: agents/loop}\n")
    p = one(root)
    assert "folder 'agents/loop' does not exist" in p.what


# -- agent code is checked apart from loading ---------------------------------------------------------
CODE = "project: acme\nagents:\n  a: {path: agents/a, entry: agent.py:agnt}\n  b: {path: agents/b}\n  c: {path: agents/c}\n"


def test_load_project_does_not_parse_agent_code(tmp_path: Path) -> None:
    root = write_project(tmp_path, CODE, agents={"a": AGENT_PY, "b": "def broken(:\n", "c": AGENT_PY})
    project = load_project(root)  # read-only commands work while an agent's code is broken
    found = code_problems(project)
    assert [p.what.split(":")[0] for p in found] == ["agent 'a'", "agent 'b'"]
    missing, syntax = found
    assert "defines no 'agnt'" in missing.what and missing.fix == "did you mean 'agent'?"
    assert missing.where == f"{root / 'strands.yaml'}:3:30"  # where `entry` is written
    assert "syntax error" in syntax.what and syntax.where == f"{root / 'agents/b/agent.py'}:1:12"
    assert code_problems(project, ["c"]) == []
    assert [p.what for p in code_problems(project, ["b"])] == [syntax.what]
    [unknown] = code_problems(project, ["nope"])
    assert "unknown agent 'nope'" in unknown.what


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        (b"agent = '\xe9'\n", "entry file agent.py is not UTF-8 text (invalid byte 0xe9)"),
        (b"agent = 1\n\x00\n", "entry file agent.py contains a NUL byte"),
    ],
)
def test_an_entry_file_that_is_not_text(tmp_path: Path, data: bytes, needle: str) -> None:
    root = write_project(tmp_path, "project: acme\nagents:\n  a: {path: agents/a}\n", agents={"a": AGENT_PY})
    (root / "agents" / "a" / "agent.py").write_bytes(data)
    [p] = code_problems(load_project(root))
    assert needle in p.what and p.where and p.where.startswith(str(root / "agents" / "a" / "agent.py"))


def test_an_entry_file_that_is_a_fifo_is_missing_not_read(tmp_path: Path) -> None:
    import os

    root = write_project(tmp_path, "project: acme\nagents:\n  a: {path: agents/a}\n", agents={"a": AGENT_PY})
    (root / "agents" / "a" / "agent.py").unlink()
    os.mkfifo(root / "agents" / "a" / "agent.py")
    p = one(root)
    assert "entry file agents/a/agent.py does not exist" in p.what


# -- one pass reports everything -----------------------------------------------------------------------
ALL = """\
project: acme
agents:
  a: {path: agents/a, memory: lots, link: [tickets, dcs], trigger: nothing}
  b: {path: agents/b, link: [docs]}
  c: {memory: 512, link: [nope]}
resources:
  tickets: {type: table}
  docs: {type: bucket}
"""


def test_semantic_checks_run_on_a_partly_valid_configuration(tmp_path: Path) -> None:
    root = write_project(tmp_path, ALL, agents={"a": AGENT_PY, "b": AGENT_PY})
    found = problems(root)
    text = "\n".join(p.render() for p in found)
    assert "agents.a.memory" in text  # the schema error...
    assert "agent 'a' links to unknown resource 'dcs'" in text  # ...and, in the same run, the links
    assert "did you mean 'docs'?" in text
    assert "trigger 'nothing' is not a declared resource" in text
    assert "agents.c.path" in text and "agent 'c' links to unknown resource 'nope'" in text
    assert "resources.tickets" in text  # a table without a key: invalid, but declared...
    assert "unknown resource 'tickets'" not in text  # ...so links to it are not 'unknown'
    assert "folder" not in text  # c has no valid path: its folder is not checked


def test_validate_reports_configuration_and_code_together(tmp_path: Path) -> None:
    from strands_deploy.cli.main import cli

    root = write_project(tmp_path, ALL, agents={"a": AGENT_PY, "b": "def broken(:\n"})
    with pytest.raises(ConfigError) as info:
        validate_project(root)
    text = "\n".join(p.render() for p in info.value.problems)
    assert "agents.a.memory" in text and "unknown resource 'dcs'" in text and "syntax error" in text
    result = CliRunner().invoke(cli, ["-C", str(root), "validate", "--json"])
    assert result.exit_code == 1
    out = json.loads(result.output)
    whats = [p["what"] for p in out["problems"]]
    assert any("syntax error in agent.py" in w for w in whats)
    assert any("unknown resource 'dcs'" in w for w in whats)
    fixed = write_project(
        tmp_path / "ok", "project: acme\nagents:\n  a: {path: agents/a}\n", agents={"a": AGENT_PY}
    )
    ok = CliRunner().invoke(cli, ["-C", str(fixed), "validate", "--json"])
    assert ok.exit_code == 0 and json.loads(ok.output)["valid"] is True
