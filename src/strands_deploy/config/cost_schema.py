"""strands.yaml models for cost: usage assumptions (agents, resources) and budgets (environments).

Kept apart from :mod:`strands_deploy.config.schema`, which imports them. Every figure here is an
*assumption* used by ``strands-deploy cost`` (docs/cost.md); none changes what is deployed, except
``budget:``, which becomes an AWS Budgets budget.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class AgentUsage(_Strict):
    """`usage:` of an agent. Unset keys take the defaults of ``cost.usage.AGENT_DEFAULTS``."""

    requests_per_day: float | None = Field(None, ge=0)
    input_tokens: int | None = Field(None, ge=0)  # per request, all model calls of the request
    output_tokens: int | None = Field(None, ge=0)
    cache_read_tokens: int | None = Field(None, ge=0)
    cache_write_tokens: int | None = Field(None, ge=0)
    tool_calls: float | None = Field(None, ge=0)  # per request: each is one read of a linked resource
    duration_ms: float | None = Field(None, ge=0)
    session_turns: float | None = Field(None, ge=1)  # requests per conversation
    log_kb_per_request: float | None = Field(None, ge=0)
    model: str | None = None  # which of the agent's models to price (default: its first)


class ResourceUsage(_Strict):
    """`usage:` of a resource. Unset keys take the defaults of ``cost.usage.RESOURCE_DEFAULTS``."""

    reads_per_request: float | None = Field(None, ge=0)  # per request of each agent linked to it
    writes_per_request: float | None = Field(None, ge=0)
    stored_gb: float | None = Field(None, ge=0)


class BudgetNotify(_Strict):
    """One recipient of a budget's alerts: `email: ADDRESS` or `sns: TOPIC_ARN`."""

    email: str | None = None
    sns: str | None = None

    @model_validator(mode="after")
    def _one(self) -> BudgetNotify:
        if (self.email is None) == (self.sns is None):
            raise ValueError("each budget notify entry is one of `email: ADDRESS` or `sns: TOPIC_ARN`")
        if self.email is not None and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", self.email):
            raise ValueError(f"{self.email!r} is not an email address")
        if self.sns is not None and not re.fullmatch(r"arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:\S+", self.sns):
            raise ValueError(f"{self.sns!r} is not an SNS topic ARN")
        return self


class BudgetConfig(_Strict):
    """`budget: {monthly_usd: 300, alert_at: [50%, 80%, 100%], notify: [{email: ...}]}`."""

    monthly_usd: float = Field(gt=0)
    alert_at: list[float] = Field(default_factory=lambda: [80.0, 100.0])  # percent of monthly_usd
    notify: list[BudgetNotify] = Field(default_factory=list)
    anomaly_alerts: bool = False
    anomaly_threshold_usd: float = Field(10.0, gt=0)  # an anomaly's impact that sends an alert

    @field_validator("alert_at", mode="before")
    @classmethod
    def _percent(cls, v: object) -> object:
        if not isinstance(v, list):
            return v
        out: list[object] = []
        for item in v:
            if isinstance(item, str):
                text = item.strip().removesuffix("%").strip()
                try:
                    out.append(float(text))
                except ValueError:
                    raise ValueError(f"alert_at entry {item!r} is not a percentage such as 80%") from None
            else:
                out.append(item)
        return out

    @field_validator("alert_at")
    @classmethod
    def _range(cls, v: list[float]) -> list[float]:
        for pct in v:
            if not 0 < pct <= 1000:
                raise ValueError(f"alert_at {pct}% is out of range (0-1000%)")
        return sorted(set(v))
