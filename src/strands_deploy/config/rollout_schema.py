"""`rollout:` in strands.yaml: how a new version of an agent takes traffic (see docs/rollouts.md).

```yaml
rollout:
  strategy: canary          # all-at-once | canary | linear | blue-green
  steps: [10%, 50%]         # canary: weights held in turn; linear: {every: 1m, step: 10%}
  hold: 5m                  # how long each step is watched
  gates: {alarms: [errors], error_rate: 2%, p95_latency_ms: 8000, cost_per_request_usd: 0.02,
          evals: evals/support.yaml}
  hooks: {before_traffic: agents/support/smoke.py:check, after_traffic: scripts/notify.py:done}
  notify: [{slack: {secret: slack-webhook}}, {email: oncall@example.com}]
```
`rollout: canary` (a bare strategy) is the strategy with its defaults.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, RootModel, field_validator, model_validator

Strategy = Literal["all-at-once", "canary", "linear", "blue-green"]
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}


def seconds(value: Any) -> float:
    """`5m`, `30s`, `1h`, `250ms` or a number of seconds."""
    if isinstance(value, bool):
        raise ValueError("a duration is a number of seconds or text such as 30s, 5m, 1h")
    if isinstance(value, (int, float)):
        return float(value)
    m = _DURATION.match(str(value))
    if not m:
        raise ValueError(f"{value!r} is not a duration (examples: 30s, 5m, 1h)")
    return float(m.group(1)) * _UNITS[m.group(2)]


def fraction(value: Any) -> float:
    """`10%`, `0.1` or `10` (a number above 1 is a percentage) as a fraction 0..1."""
    if isinstance(value, bool):
        raise ValueError("a percentage is written 10% (or 0.1)")
    text = str(value).strip()
    number = float(text[:-1]) / 100 if text.endswith("%") else float(text)
    if number > 1 and not text.endswith("%"):
        number /= 100
    if not 0 <= number <= 1:
        raise ValueError(f"{value!r} is not a percentage between 0% and 100%")
    return number


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class LinearSteps(_Strict):
    every: float = 60.0
    step: float = 0.1

    @field_validator("every", mode="before")
    @classmethod
    def _every(cls, v: Any) -> float:
        return seconds(v)

    @field_validator("step", mode="before")
    @classmethod
    def _step(cls, v: Any) -> float:
        f = fraction(v)
        if f <= 0:
            raise ValueError("a linear step moves more than 0%")
        return f


class Gates(_Strict):
    alarms: list[str] = Field(default_factory=list)  # the agent's alarm kinds, or alarm ARNs
    error_rate: float | None = None  # fraction of the new version's invocations
    p95_latency_ms: float | None = Field(default=None, gt=0)
    cost_per_request_usd: float | None = Field(default=None, gt=0)
    evals: str | None = None  # a suite file, relative to the project
    min_invocations: int = Field(default=1, ge=0)  # metric gates judge only once this many calls were seen

    @field_validator("error_rate", mode="before")
    @classmethod
    def _rate(cls, v: Any) -> float | None:
        return None if v is None else fraction(v)


class Hooks(_Strict):
    before_traffic: str | None = None  # path.py:function
    after_traffic: str | None = None

    @field_validator("before_traffic", "after_traffic")
    @classmethod
    def _hook(cls, v: str | None) -> str | None:
        if v is not None and not re.fullmatch(r"[^:]+\.py:[A-Za-z_][A-Za-z0-9_]*", v):
            raise ValueError(f"{v!r}: a hook is written path/to/file.py:function")
        return v


class Secret(_Strict):
    secret: str


class RolloutNotify(_Strict):
    """One notification target: exactly one of slack, discord, webhook, email, sns, pagerduty."""

    slack: Secret | None = None
    discord: Secret | None = None
    webhook: Secret | None = None
    email: str | None = None
    sns: str | None = None  # a topic ARN
    pagerduty: Secret | None = None  # the routing key is a secret

    @model_validator(mode="after")
    def _one(self) -> RolloutNotify:
        given = [k for k, v in self.__dict__.items() if v is not None]
        if len(given) != 1:
            raise ValueError(
                "each notify entry is one of slack/discord/webhook/pagerduty: {secret: NAME}, "
                "email: ADDRESS or sns: TOPIC_ARN"
            )
        return self

    @property
    def kind(self) -> str:
        return next(k for k, v in self.__dict__.items() if v is not None)


class RolloutConfig(_Strict):
    strategy: Strategy = "all-at-once"
    steps: list[float] | LinearSteps | None = None
    hold: float = 300.0
    check_every: float = 30.0  # how often the gates are read during a hold
    gates: Gates = Field(default_factory=lambda: Gates())
    hooks: Hooks = Field(default_factory=Hooks)
    notify: list[RolloutNotify] = Field(default_factory=list)
    eval_pass_rate: float = 1.0

    @model_validator(mode="before")
    @classmethod
    def _bare(cls, v: Any) -> Any:
        return {"strategy": v} if isinstance(v, str) else v

    @field_validator("hold", "check_every", mode="before")
    @classmethod
    def _duration(cls, v: Any) -> float:
        return seconds(v)

    @field_validator("eval_pass_rate", mode="before")
    @classmethod
    def _pass_rate(cls, v: Any) -> float:
        return fraction(v)

    @field_validator("steps", mode="before")
    @classmethod
    def _steps(cls, v: Any) -> Any:
        if isinstance(v, list):
            weights = [fraction(x) for x in v]
            if any(w <= 0 or w >= 1 for w in weights) or weights != sorted(weights):
                raise ValueError("canary steps are increasing weights between 0% and 100%, e.g. [10%, 50%]")
            return weights
        return v

    def weights(self) -> list[float]:
        """The weights the new version holds in turn before it takes 100%."""
        if self.strategy == "canary":
            return list(self.steps) if isinstance(self.steps, list) and self.steps else [0.1]
        if self.strategy == "linear":
            lin = self.steps if isinstance(self.steps, LinearSteps) else LinearSteps()
            out, w = [], lin.step
            while w < 1 - 1e-9:
                out.append(round(w, 4))
                w += lin.step
            return out
        return []

    def hold_for(self) -> float:
        """Seconds each step is watched (linear: ``every``)."""
        if self.strategy == "linear" and isinstance(self.steps, LinearSteps):
            return self.steps.every
        return self.hold


def effective_rollout(config: Any, env: str, agent: Any) -> RolloutConfig:
    """The agent's rollout in ``env``: its own (including `environments.<env>.agents` overrides),
    else the environment's, else ``defaults.rollout``, else all-at-once. The embedded ``local``
    environment uses it too, so a canary can be rehearsed offline."""
    env_config = config.environments.get(env)
    for candidate in (
        getattr(agent, "rollout", None),
        getattr(env_config, "rollout", None),
        getattr(config.defaults, "rollout", None),
    ):
        if candidate is not None:
            return (
                RolloutConfig.model_validate(candidate) if isinstance(candidate, (dict, str)) else candidate
            )
    return RolloutConfig()


# --- HTTP API stages (`expose: http` + `stages:`) ---------------------------------------------

STAGE_NAME = re.compile(r"^[A-Za-z0-9_-]{1,128}$")
VARIABLE_NAME = re.compile(r"^[A-Za-z0-9_]{1,64}$")
# the characters API Gateway accepts in a stage variable's value
VARIABLE_VALUE = re.compile(r"^[A-Za-z0-9\-._~:/?#&=,]{1,2048}$")
STAGE_ALIAS = "alias"  # the variable that selects what the stage invokes
RESERVED_PREFIX = "alias_"  # the per-agent variables synthesis writes (`alias_<agent>`)


class HttpStages(RootModel[list[str] | dict[str, dict[str, str | int] | None]]):
    """`stages:` of an agent exposed over the HTTP API: named stages clients call
    (`<api>/<stage>/agents/<name>`), each invoking the alias or the version its `alias` stage
    variable names.

    ```yaml
    stages: [v1, v2]                    # both invoke `live` (pin one later, URLs unchanged)
    stages:
      v1: {alias: 3}                    # pinned to version 3 (kept from pruning)
      v2: {alias: live, tier: gold}     # `live`, plus a stage variable the agent reads
    ```
    """

    @model_validator(mode="after")
    def _valid(self) -> HttpStages:
        self.variables()
        return self

    def variables(self) -> dict[str, dict[str, str]]:
        """Each stage's variables, `alias` always set (`live` or a version number)."""
        items = {name: None for name in self.root} if isinstance(self.root, list) else dict(self.root)
        if isinstance(self.root, list) and len(items) != len(self.root):
            raise ValueError("stages: each stage is named once")
        if not items:
            raise ValueError("stages: name at least one stage, or remove the key")
        out: dict[str, dict[str, str]] = {}
        for stage, given in items.items():
            out[stage] = _stage_variables(stage, given or {})
        return out


def _stage_variables(stage: str, given: dict[str, str | int]) -> dict[str, str]:
    if not STAGE_NAME.match(stage):
        raise ValueError(f"stage {stage!r}: a stage name is letters, digits, - and _ (at most 128)")
    variables = {STAGE_ALIAS: "live", **{k: str(v) for k, v in given.items()}}
    target = variables[STAGE_ALIAS]
    if target != "live" and not target.isdigit():
        raise ValueError(
            f"stage {stage!r}: `alias: {target}` must be `live` or a published version number "
            "(see `strands-deploy versions AGENT`)"
        )
    for name, value in variables.items():
        if not VARIABLE_NAME.match(name) or name.startswith(RESERVED_PREFIX):
            raise ValueError(
                f"stage {stage!r}: stage variable {name!r} must be letters, digits and _ "
                f"(at most 64) and not start with {RESERVED_PREFIX!r}"
            )
        if not VARIABLE_VALUE.match(value):
            raise ValueError(
                f"stage {stage!r}: the value of {name!r} may use letters, digits and -._~:/?#&=, only"
            )
    return variables
