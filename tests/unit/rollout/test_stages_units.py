"""`stages:` configuration and synthesis (a shared stage per name, one variable per agent, pins
and their permissions), and the rollout clock driven by tick files."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from pydantic import ValidationError

from strands_deploy.config.loader import load_project
from strands_deploy.config.rollout_schema import HttpStages
from strands_deploy.errors import StrandsDeployError
from strands_deploy.planning.values import encode
from strands_deploy.rollout.runner import CLOCK_ENV, Clock
from strands_deploy.synth import synthesize
from strands_deploy.synth.graph import Graph
from tests.helpers import write_project

PROJECT = """\
project: acme
region: eu-west-1
agents:
  support:
    path: agents/support
    expose: http
    auth: iam
    stages: {support_stages}
  billing-bot:
    path: agents/billing-bot
    expose: http
    auth: iam
    stages: {billing_stages}
  quiet:
    path: agents/quiet
    expose: http
    auth: iam
"""


def graph(tmp_path: Path, support: str, billing: str) -> Graph:
    root = write_project(
        tmp_path,
        PROJECT.format(support_stages=support, billing_stages=billing),
        agents={"support": "agent = 1\n", "billing-bot": "agent = 2\n", "quiet": "agent = 3\n"},
    )
    return synthesize(
        load_project(root),
        "dev",
        target="aws",
        account="111122223333",
        secret_value=lambda s: "",
        fingerprint_key=b"k" * 32,
    )


def test_stage_forms_and_refusals() -> None:
    assert HttpStages.model_validate(["v1", "v2"]).variables() == {
        "v1": {"alias": "live"},
        "v2": {"alias": "live"},
    }
    assert HttpStages.model_validate(
        {"v1": {"alias": 3}, "beta": {"tier": "gold"}, "v3": None}
    ).variables() == {
        "v1": {"alias": "3"},
        "beta": {"alias": "live", "tier": "gold"},
        "v3": {"alias": "live"},
    }
    for bad, message in [
        ([], "at least one stage"),
        (["v1", "v1"], "named once"),
        (["$default"], "a stage name is"),
        ({"v1": {"alias": "live-green"}}, "must be `live` or a published version number"),
        ({"v1": {"alias_support": "x"}}, "not start with 'alias_'"),
        ({"v1": {"tier": "a b"}}, "may use letters"),
    ]:
        with pytest.raises(ValidationError, match=message):
            HttpStages.model_validate(bad)


def test_shared_stages_carry_each_agents_variable(tmp_path: Path) -> None:
    g = graph(tmp_path, "{v1: {alias: 3}, v2: {tier: gold}}", "[v2]")
    api = g.resources["shared.http-api"].props
    assert api["stage_variables"] == {"alias_support": "live", "alias_billing_bot": "live"}
    v1, v2 = g.resources["shared.http-api.stage.v1"], g.resources["shared.http-api.stage.v2"]
    assert v1.props["variables"] == {"alias_support": "stage-v1"}
    assert v2.props["variables"] == {"tier": "gold", "alias_support": "live", "alias_billing_bot": "live"}
    # the pinned stage goes live only once its alias and permission exist
    assert v1.dependencies() >= {"agent.support.stage-v1.alias", "agent.support.stage-v1.permission"}
    pin = g.resources["agent.support.stage-v1.alias"]
    assert encode(pin.props) == {
        "function_name": {"$ref": ["agent.support.function", "name"]},
        "name": "stage-v1",
        "version": "3",
    }
    permission = encode(g.resources["agent.support.stage-v1.permission"].props)
    assert permission["principal"] == "apigateway.amazonaws.com"
    assert permission["source_arn"]["$join"][-1] == "/v1/POST/agents/support"
    route = encode(g.resources["agent.support.route"].props)
    assert route["function_arn"] == {
        "$join": [{"$ref": ["agent.support.function", "arn"]}, ":${stageVariables.alias_support}"]
    }
    # an agent without stages keeps invoking its alias directly
    quiet = encode(g.resources["agent.quiet.route"].props)
    assert quiet["function_arn"] == {"$ref": ["agent.quiet.alias", "arn"]}
    assert not [a for a in g.resources if a.startswith("agent.billing-bot.stage-")]


def test_agents_disagreeing_on_a_stage_variable_are_refused(tmp_path: Path) -> None:
    with pytest.raises(StrandsDeployError, match="stage variable 'tier' of stage 'v2'"):
        graph(tmp_path, "{v2: {tier: gold}}", "{v2: {tier: silver}}")


def test_a_project_without_stages_synthesises_no_stage_variables(tmp_path: Path) -> None:
    root = write_project(
        tmp_path,
        "project: acme\nregion: eu-west-1\nagents:\n  a: {path: agents/a, expose: http, auth: iam}\n",
        agents={"a": "agent = 1\n"},
    )
    g = synthesize(
        load_project(root),
        "dev",
        target="aws",
        account="111122223333",
        secret_value=lambda s: "",
        fingerprint_key=b"k" * 32,
    )
    assert "stage_variables" not in g.resources["shared.http-api"].props  # no change for them
    assert not [r for r in g if r.type == "aws.apigw.http_stage"]


def test_clock_driven_by_tick_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(CLOCK_ENV, str(tmp_path))
    clock = Clock()
    assert clock.ticks == tmp_path
    start = clock.now()
    (tmp_path / "tick").write_text("")
    clock.sleep(600)  # returns at once: the tick was there
    assert not (tmp_path / "tick").exists()
    assert 600 <= clock.now() - start < 660
    # with no tick, a wait lasts until cancelled (Ctrl-C), and the clock does not move
    cancel = threading.Event()
    waiting = Clock(cancel, ticks=tmp_path)
    before = waiting.offset
    cancel.set()
    waiting.sleep(600)
    assert waiting.offset == before
    monkeypatch.delenv(CLOCK_ENV)
    assert Clock().ticks is None
