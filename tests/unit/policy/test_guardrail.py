"""`guardrail:` reaches the function (environment variables, IAM on exactly that guardrail) and
the runtime applies it to a Bedrock model."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from strands_deploy.config.loader import load_project
from strands_deploy.errors import StrandsDeployError
from strands_deploy.runtime.adapter import apply_guardrail
from tests.unit.policy.helpers import graph_of, write


def test_guardrail_env_and_iam(tmp_path: Path) -> None:
    _, graph = graph_of(
        write(tmp_path, {"agents": {"bot": {"guardrail": {"id": "gr12ab", "version": 3}}}}), "dev"
    )
    env = graph.resources["agent.bot.function"].props["environment"]
    assert env["STRANDS_GUARDRAIL_ID"] == "gr12ab" and env["STRANDS_GUARDRAIL_VERSION"] == "3"
    statements = graph.resources["agent.bot.policy"].props["document"]["Statement"]
    grant = [s for s in statements if s.get("Sid") == "Guardrail"]
    assert grant == [
        {
            "Sid": "Guardrail",
            "Effect": "Allow",
            "Action": ["bedrock:ApplyGuardrail"],
            "Resource": ["arn:aws:bedrock:us-east-1:111122223333:guardrail/gr12ab"],
        }
    ]
    _, plain = graph_of(write(tmp_path / "plain"), "dev")
    assert "STRANDS_GUARDRAIL_ID" not in plain.resources["agent.bot.function"].props["environment"]


def test_a_bad_guardrail_id_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(StrandsDeployError) as err:
        load_project(write(tmp_path, {"agents": {"bot": {"guardrail": {"id": "Not An Id"}}}}))
    assert "guardrail" in str(err.value)


class BedrockModel:  # the runtime recognises the SDK's model by its class name
    def __init__(self) -> None:
        self.config: dict[str, Any] = {}

    def update_config(self, **kw: Any) -> None:
        self.config.update(kw)


class OtherModel(BedrockModel):
    pass


class FakeAgent:
    def __init__(self, model: Any) -> None:
        self.model = model


def test_the_runtime_applies_the_guardrail_to_a_bedrock_model() -> None:
    agent = FakeAgent(BedrockModel())
    assert apply_guardrail(agent, {"STRANDS_GUARDRAIL_ID": "gr12ab", "STRANDS_GUARDRAIL_VERSION": "2"})
    assert agent.model.config == {"guardrail_id": "gr12ab", "guardrail_version": "2"}
    other = FakeAgent(OtherModel())
    assert not apply_guardrail(other, {"STRANDS_GUARDRAIL_ID": "gr12ab"})
    assert not apply_guardrail(FakeAgent(BedrockModel()), {})


def test_with_the_real_sdk_model() -> None:
    from strands.models.bedrock import BedrockModel as Real

    agent = FakeAgent(Real(model_id="us.anthropic.claude-sonnet-4-20250514-v1:0", region_name="us-east-1"))
    assert apply_guardrail(agent, {"STRANDS_GUARDRAIL_ID": "gr12ab", "STRANDS_GUARDRAIL_VERSION": "1"})
    assert agent.model.get_config()["guardrail_id"] == "gr12ab"
