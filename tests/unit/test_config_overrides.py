"""Per-environment overrides: `environments.ENV.agents.NAME` / `.resources.NAME` merged over the
top-level settings for that environment only, validated as they are, errors at the override."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from strands_deploy.config.loader import load_project, merge_settings, validate_project
from strands_deploy.errors import ConfigError, StrandsDeployError
from strands_deploy.synth import synthesize
from strands_deploy.synth.graph import Graph
from tests.helpers import write_project

AGENT = "agent = object()\n"

PROJECT = """\
project: acme
region: us-east-1
agents:
  support:
    path: agents/support
    memory: 2048
    environment: {TONE: friendly, LOG_LEVEL: debug}
    expose: url
    auth: iam
    cors: {allow_origins: ["https://a.example"], max_age: 60}
    sessions: true
    link: [tickets, docs]
    model: us.anthropic.claude-sonnet-4-20250514-v1:0
  helper:
    path: agents/helper
resources:
  tickets: {type: table, key: id}
  docs: {type: bucket}
  jobs: {type: queue, visibility_timeout: 60}
environments:
  dev: {}
  prod:
    region: eu-west-1
    agents:
      support:
        memory: 4096
        environment: {LOG_LEVEL: warn, EXTRA: "1"}
        cors: {max_age: 600}
        sessions: {ttl_days: 7}
        link: [tickets]
        model: null
    resources:
      jobs: {visibility_timeout: 300, dlq: false}
      docs: {versioning: false}
"""


def project_root(tmp_path: Path, text: str = PROJECT) -> Path:
    return write_project(tmp_path / "p", text, agents={"support": AGENT, "helper": AGENT}, requirements="")


def problems(root: Path) -> list[StrandsDeployError]:
    with pytest.raises(ConfigError) as info:
        load_project(root)
    return info.value.problems


def at(root: Path, text: str, needle: str, nth: int = 0) -> str:
    """file:line:col of the ``nth`` occurrence of ``needle`` in ``text``."""
    index = -1
    for _ in range(nth + 1):
        index = text.index(needle, index + 1)
    line = text.count("\n", 0, index) + 1
    return f"{root / 'strands.yaml'}:{line}:{index - (text.rfind(chr(10), 0, index) + 1) + 1}"


def graph(root: Path, env: str) -> Graph:
    project = load_project(root).for_environment(env)
    return synthesize(
        project,
        env,
        target="aws",
        account="111122223333",
        secret_value=lambda s: "v",
        fingerprint_key=b"k" * 32,
    )


def test_merge_rules() -> None:
    base = {"memory": 1024, "environment": {"A": "1", "B": "2"}, "link": ["x", "y"], "cors": {"max_age": 1}}
    override = {
        "memory": 4096,
        "environment": {"B": "3", "C": "4"},
        "link": ["z"],
        "cors": {"allow_origins": ["o"]},
    }
    assert merge_settings(base, override) == {
        "memory": 4096,  # scalars replace
        "environment": {"A": "1", "B": "3", "C": "4"},  # mappings merge key by key
        "link": ["z"],  # lists replace
        "cors": {"max_age": 1, "allow_origins": ["o"]},
    }
    # null removes a key (its default applies); a mapping over a scalar replaces it; nested merge
    assert merge_settings(
        {"sessions": True, "model": "m", "env": {"A": "1"}}, {"model": None, "env": {"A": None}}
    ) == {
        "sessions": True,
        "env": {},
    }
    assert merge_settings({"sessions": True}, {"sessions": {"ttl_days": 7}}) == {"sessions": {"ttl_days": 7}}
    assert merge_settings({"a": {"b": {"c": 1, "d": 2}}}, {"a": {"b": {"d": 3}}}) == {
        "a": {"b": {"c": 1, "d": 3}}
    }
    assert base["environment"] == {"A": "1", "B": "2"}  # inputs untouched


def test_overrides_apply_to_their_environment_only(tmp_path: Path) -> None:
    project = load_project(project_root(tmp_path))
    prod = project.for_environment("prod")
    support = prod.agents["support"]
    assert support.memory == 4096
    assert support.environment == {"TONE": "friendly", "LOG_LEVEL": "warn", "EXTRA": "1"}
    assert support.cors is not None and support.cors.max_age == 600
    assert support.cors.allow_origins == ["https://a.example"]  # merged key by key
    assert support.sessions is not None and support.sessions.ttl_days == 7
    assert [str(link) for link in support.link] == ["tickets"]  # a list replaces
    assert support.model is None  # null: back to the default
    assert support.expose == "url" and support.auth == "iam"  # not overridden: as declared
    assert prod.config.agents["support"] is support
    assert prod.config.resources["jobs"].visibility_timeout == 300
    assert prod.config.resources["jobs"].dlq is False
    assert prod.config.resources["docs"].versioning is False
    assert prod.config.resources["tickets"] is project.config.resources["tickets"]
    assert prod.agents["helper"] is project.agents["helper"]

    # the project as loaded, and the other environments, keep the top-level settings
    for other in (project, project.for_environment("dev"), project.for_environment("local")):
        assert other.agents["support"].memory == 2048
        assert other.agents["support"].environment == {"TONE": "friendly", "LOG_LEVEL": "debug"}
        assert other.config.resources["jobs"].visibility_timeout == 60
    assert project.for_environment("dev").for_environment("prod").agents["support"].memory == 4096
    assert prod.for_environment("dev").agents["support"].memory == 2048
    assert prod.config.environments == project.config.environments


def test_no_overrides_is_the_project_itself(tmp_path: Path) -> None:
    text = PROJECT[: PROJECT.index("  prod:")]
    project = load_project(project_root(tmp_path, text))
    assert project.overridden == {}
    assert project.for_environment("dev") is project
    assert project.for_environment("local") is project


def test_synthesis_of_each_environment(tmp_path: Path) -> None:
    root = project_root(tmp_path)
    prod, dev = graph(root, "prod"), graph(root, "dev")
    fn = prod.resources["agent.support.function"].props
    assert fn["memory"] == 4096 and dev.resources["agent.support.function"].props["memory"] == 2048
    assert fn["environment"]["LOG_LEVEL"] == "warn" and fn["environment"]["EXTRA"] == "1"
    assert dev.resources["agent.support.function"].props["environment"]["LOG_LEVEL"] == "debug"
    assert "STRANDS_LINK_DOCS_BUCKET" not in fn["environment"]
    assert "STRANDS_LINK_DOCS_BUCKET" in dev.resources["agent.support.function"].props["environment"]
    assert prod.resources["resource.jobs.queue"].props["visibility_timeout"] == 300
    assert dev.resources["resource.jobs.queue"].props["visibility_timeout"] == 60
    assert prod.resources["shared.sessions"].props["expire_days"] == 7
    assert dev.resources["shared.sessions"].props["expire_days"] == 30
    assert prod.resources["agent.support.url"].props["cors"]["max_age"] == 600


def test_invalid_override_value_is_reported_at_the_override(tmp_path: Path) -> None:
    text = PROJECT.replace("        memory: 4096\n", "        memory: 99999\n")
    root = project_root(tmp_path, text)
    [p] = problems(root)
    assert p.what.startswith("environments.prod.agents.support.memory:")
    assert p.where == at(root, text, "99999")


def test_unknown_key_in_override_suggests_the_agent_setting(tmp_path: Path) -> None:
    text = PROJECT.replace("        memory: 4096\n", "        memroy: 4096\n")
    root = project_root(tmp_path, text)
    [p] = problems(root)
    assert p.what == "unknown key 'memroy'"
    assert p.fix == "did you mean 'memory'?"
    assert p.where == at(root, text, "memroy")
    text = PROJECT.replace("      docs: {versioning: false}", "      docs: {versoning: false}")
    [p] = problems(project_root(tmp_path / "r", text))
    assert p.what == "unknown key 'versoning'" and p.fix == "did you mean 'versioning'?"


def test_override_breaking_a_model_rule_points_at_the_override(tmp_path: Path) -> None:
    text = PROJECT.replace("      docs: {versioning: false}", "      tickets: {key: null}")
    root = project_root(tmp_path, text)
    [p] = problems(root)
    assert "a table needs a partition key" in p.what
    assert p.where == at(root, text, "{key: null}")


def test_override_of_undeclared_agent_or_resource(tmp_path: Path) -> None:
    text = PROJECT.replace(
        "      support:\n        memory: 4096\n", "      suport:\n        memory: 4096\n"
    ).replace("      docs: {versioning: false}", "      doc: {versioning: false}")
    root = project_root(tmp_path, text)
    found = problems(root)
    assert [(p.what, p.fix, p.where) for p in found] == [
        (
            "environment 'prod' overrides undeclared agent 'suport'",
            "did you mean 'support'?",
            at(root, text, "suport:"),
        ),
        (
            "environment 'prod' overrides undeclared resource 'doc'",
            "did you mean 'docs'?",
            at(root, text, "doc: {"),
        ),
    ]


def test_semantic_checks_run_on_the_merged_agent(tmp_path: Path) -> None:
    text = PROJECT.replace("        link: [tickets]\n", "        link: [tickets, dcs]\n")
    root = project_root(tmp_path, text)
    [p] = problems(root)
    assert p.what == "environment 'prod': agent 'support' links to unknown resource 'dcs'"
    assert p.fix == "did you mean 'docs'?"
    assert p.where == at(root, text, "dcs")


def test_a_top_level_problem_is_not_repeated_per_environment(tmp_path: Path) -> None:
    text = PROJECT.replace("    link: [tickets, docs]\n", "    link: [tickets, docs, nope]\n").replace(
        "        link: [tickets]\n", ""
    )
    found = problems(project_root(tmp_path, text))
    assert [p.what for p in found] == ["agent 'support' links to unknown resource 'nope'"]


def test_override_that_fixes_nothing_of_an_invalid_agent_adds_nothing(tmp_path: Path) -> None:
    text = PROJECT.replace("    memory: 2048\n", "    memory: lots\n")
    found = problems(project_root(tmp_path, text))
    assert len(found) == 1 and found[0].what.startswith("agents.support.memory")


def test_references_are_checked_per_environment(tmp_path: Path) -> None:
    """An override can invalidate a reference written at the top level (prod removes helper's
    endpoint): reported once, at the reference, named with the environment."""
    text = (
        PROJECT.replace(
            "    environment: {TONE: friendly, LOG_LEVEL: debug}\n",
            '    environment: {HELPER: "${agent.helper.url}"}\n',
        )
        .replace("    path: agents/helper\n", "    path: agents/helper\n    expose: http\n    auth: iam\n")
        .replace(
            "    agents:\n      support:\n", "    agents:\n      helper: {expose: none}\n      support:\n"
        )
    )
    root = project_root(tmp_path, text)
    [p] = problems(root)
    assert p.what.startswith("environment 'prod': agent 'support': environment variable HELPER:")
    assert "agent 'helper' has no endpoint" in p.what
    assert p.where == at(root, text, '"${agent.helper.url}"')


def test_reference_written_in_an_override_is_checked_at_its_line(tmp_path: Path) -> None:
    text = PROJECT.replace('EXTRA: "1"', 'EXTRA: "${resource.tickts.name}"')
    root = project_root(tmp_path, text)
    [p] = problems(root)
    assert "unknown resource 'tickts'" in p.what and p.fix == "did you mean 'tickets'?"
    assert p.where == at(root, text, '"${resource.tickts.name}"')


def test_warnings_of_an_override_belong_to_its_environment(tmp_path: Path) -> None:
    text = PROJECT.replace("        memory: 4096\n", "        memory: 4096\n        role: shared\n")
    project = load_project(project_root(tmp_path, text))
    shared = [w for w in project.warnings if "shared execution role" in w.what]
    assert [w.what.split(":")[0] for w in shared] == ["environment 'prod'"]
    assert any("shared execution role" in w.what for w in project.for_environment("prod").warnings)
    assert not any("shared execution role" in w.what for w in project.for_environment("dev").warnings)
    assert not any("shared execution role" in w.what for w in project.for_environment("local").warnings)


def test_discovered_agent_can_be_overridden(tmp_path: Path) -> None:
    root = project_root(
        tmp_path, PROJECT.replace("  dev: {}\n", "  dev:\n    agents:\n      extra: {memory: 512}\n")
    )
    folder = root / "agents" / "extra"
    folder.mkdir()
    (folder / "agent.py").write_text(AGENT)
    (folder / "requirements.txt").write_text("")
    (folder / "strands.agent.yaml").write_text(textwrap.dedent("memory: 256\nenvironment: {A: b}\n"))
    project = load_project(root)
    assert project.agents["extra"].memory == 256
    dev = project.for_environment("dev")
    assert dev.agents["extra"].memory == 512 and dev.agents["extra"].environment == {"A": "b"}
    assert dev.agents["extra"].path == "agents/extra"
    assert "extra" not in dev.config.agents


def test_validate_checks_every_environment(tmp_path: Path) -> None:
    text = PROJECT.replace("        memory: 4096\n", "        memory: 4096\n        timeout: 0\n")
    with pytest.raises(ConfigError) as info:
        validate_project(project_root(tmp_path, text))
    assert [p.what.split(":")[0] for p in info.value.problems] == ["environments.prod.agents.support.timeout"]


def test_reference_in_an_override_of_a_discovered_agent_is_reported_at_the_override(tmp_path: Path) -> None:
    text = PROJECT.replace(
        "  dev: {}\n", '  dev:\n    agents:\n      extra: {environment: {T: "${resource.tickts.name}"}}\n'
    )
    root = project_root(tmp_path, text)
    folder = root / "agents" / "extra"
    folder.mkdir()
    (folder / "agent.py").write_text(AGENT)
    (folder / "requirements.txt").write_text("")
    (folder / "strands.agent.yaml").write_text("memory: 256\n")
    [p] = problems(root)
    assert p.what.startswith("environment 'dev': agent 'extra': environment variable T:")
    assert p.where == at(root, text, '"${resource.tickts.name}"')


def test_validate_checks_the_code_an_override_points_to(tmp_path: Path) -> None:
    text = PROJECT.replace(
        "        memory: 4096\n", "        memory: 4096\n        entry: agent.py:missing\n"
    )
    root = project_root(tmp_path, text)
    load_project(root)  # configuration only: the entry file exists
    with pytest.raises(ConfigError) as info:
        validate_project(root)
    [p] = info.value.problems
    assert p.what == "environment 'prod': agent 'support': agent.py defines no 'missing'"
