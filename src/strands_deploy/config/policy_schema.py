"""strands.yaml settings of the policy checks (docs/policy.md): suppressions, governance limits,
approvals, opt-in AWS-side guardrails, and an agent's Bedrock guardrail.

Kept apart from :mod:`.schema` (which imports these models) so the policy settings grow here.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

GUARDRAIL_ID_RE = re.compile(r"^[a-z0-9]+$|^arn:aws[a-z-]*:bedrock:[a-z0-9-]+:\d{12}:guardrail/[a-z0-9]+$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Suppression(_Strict):
    """`suppress: [{rule: SEC-003, resource: agent.public-faq, reason: "...", until: 2027-03-01}]`.

    ``resource`` is an address or an address prefix (``agent.public-faq`` covers every resource
    of that agent); omitted, the suppression covers every resource. ``reason`` is required; after
    ``until`` the suppression no longer suppresses (reports say it expired)."""

    rule: str = Field(min_length=1)
    resource: str | None = None
    reason: str
    until: dt.date | None = None

    @field_validator("reason")
    @classmethod
    def _reason(cls, v: str) -> str:
        if len(v.strip()) < 3:
            raise ValueError("a suppression needs a reason an auditor can read (why the rule does not apply)")
        return v.strip()


class Limits(_Strict):
    """Maximums per function (``null``: no limit)."""

    memory: int | None = Field(None, ge=128)
    timeout: int | None = Field(None, ge=1)
    concurrency: int | None = Field(None, ge=0)


class Governance(_Strict):
    """Limits an environment's plans must respect (error findings of the `governance` pack)."""

    # tag name → allowed values (an empty list: any value, but the tag must be there)
    required_tags: dict[str, list[str]] = Field(default_factory=dict)
    # resource type (aws.lambda.function, aws.dynamodb.table...) → regex its physical name matches
    naming: dict[str, str] = Field(default_factory=dict)
    allowed_regions: list[str] | None = None
    allowed_models: list[str] | None = None  # model ids; `*` at the end matches a prefix
    max: Limits = Field(default_factory=lambda: Limits())  # type: ignore[call-arg]
    max_agents: int | None = Field(None, ge=0)

    @field_validator("naming")
    @classmethod
    def _naming(cls, v: dict[str, str]) -> dict[str, str]:
        for rtype, pattern in v.items():
            try:
                re.compile(pattern)
            except re.error as e:
                raise ValueError(f"naming pattern of {rtype!r} is not a regular expression: {e}") from None
        return v


class SecurityServices(_Strict):
    """Opt-in AWS-side guardrails: AWS Config managed rules, Security Hub, GuardDuty."""

    config_rules: list[str] = Field(default_factory=list)  # managed rule identifiers
    security_hub: bool = False
    guardduty: bool = False


class GuardrailConfig(_Strict):
    """`guardrail: {id: abc123, version: "1"}`: a Bedrock guardrail on the agent's model calls."""

    id: str
    version: str = "DRAFT"

    @field_validator("id")
    @classmethod
    def _id(cls, v: str) -> str:
        if not GUARDRAIL_ID_RE.match(v):
            raise ValueError(f"{v!r} is not a Bedrock guardrail id (e.g. abc123def456) or guardrail ARN")
        return v

    @field_validator("version", mode="before")
    @classmethod
    def _version(cls, v: object) -> object:
        text = str(v) if isinstance(v, int) and not isinstance(v, bool) else v
        if not isinstance(text, str) or not re.fullmatch(r"DRAFT|\d+", text):
            raise ValueError('guardrail version is "DRAFT" or a number, e.g. "1"')
        return text


PromptLogging = Literal["none", "metadata", "full"]
