"""An agent's Bedrock guardrail (`guardrail: {id, version}`): the runtime's environment variables
and the IAM statement that lets the function apply exactly that guardrail."""

from __future__ import annotations

from typing import Any

from strands_deploy.config.policy_schema import GuardrailConfig
from strands_deploy.synth.links import partition


def guardrail_arn(guardrail: GuardrailConfig, region: str, account: str) -> str:
    if guardrail.id.startswith("arn:"):
        return guardrail.id
    return f"arn:{partition(region)}:bedrock:{region}:{account}:guardrail/{guardrail.id}"


def guardrail_env(guardrail: GuardrailConfig | None) -> dict[str, str]:
    """Read by the runtime (runtime/adapter.py ``apply_guardrail``) to configure the model."""
    if guardrail is None:
        return {}
    return {"STRANDS_GUARDRAIL_ID": guardrail.id, "STRANDS_GUARDRAIL_VERSION": guardrail.version}


def guardrail_statements(
    guardrail: GuardrailConfig | None, region: str, account: str
) -> list[dict[str, Any]]:
    if guardrail is None:
        return []
    return [
        {
            "Sid": "Guardrail",
            "Effect": "Allow",
            "Action": ["bedrock:ApplyGuardrail"],
            "Resource": [guardrail_arn(guardrail, region, account)],
        }
    ]
