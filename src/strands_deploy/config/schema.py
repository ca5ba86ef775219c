"""The strands.yaml contract, as pydantic models. Extend it; never break it.

Unknown keys are errors (``extra="forbid"``) so typos are caught; the loader turns pydantic's
errors into file:line:column messages with suggestions.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    field_validator,
    model_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import core_schema

from strands_deploy.config.cost_schema import AgentUsage, BudgetConfig, ResourceUsage
from strands_deploy.config.policy_schema import (
    Governance,
    GuardrailConfig,
    PromptLogging,
    SecurityServices,
    Suppression,
)
from strands_deploy.config.rollout_schema import HttpStages, RolloutConfig

NAME_RE = re.compile(r"^[a-z][a-z0-9-]{0,38}[a-z0-9]$|^[a-z]$")
ENV_VAR_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
RUNTIMES = ("python3.10", "python3.11", "python3.12", "python3.13")
# a Bedrock model id or inference profile id (no wildcards), or an ARN granted as written
MODEL_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/-]*$")
# `auth:` spellings of strands-deploy 0.1, still accepted
AUTH_ALIASES = {"NONE": "none", "AWS_IAM": "iam"}
LinkAccess = Literal["read", "write", "readwrite"]
SESSIONS_TTL_DAYS = 30


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Defaults(Strict):
    runtime: Literal["python3.10", "python3.11", "python3.12", "python3.13"] = "python3.12"
    memory: int = Field(1024, ge=128, le=10240)
    timeout: int = Field(120, ge=1, le=900)
    architecture: Literal["arm64", "x86_64"] = "arm64"
    log_retention: int = Field(30, ge=1)
    alarms: bool = True
    rollout: RolloutConfig | None = None  # how new versions take traffic (docs/rollouts.md)
    # reserved concurrency of an agent with `auth: none` on AWS (when it sets none itself): a cap
    # on what anyone on the internet can make it spend
    public_concurrency: int = Field(10, ge=1)


class Cors(Strict):
    allow_origins: list[str] = Field(default_factory=lambda: ["*"])
    allow_methods: list[str] = Field(default_factory=lambda: ["POST"])
    allow_headers: list[str] = Field(default_factory=lambda: ["content-type", "authorization"])
    max_age: int = 300


class WebhookTarget(Strict):
    """A chat webhook (Slack, Discord...) whose URL is a `secret` resource: never in strands.yaml."""

    secret: str


class NotifyTarget(Strict):
    """One place alarm notifications go: exactly one of `email:`, `sns:` or `webhook:`."""

    email: str | None = None
    sns: str | None = None  # the ARN of a topic of yours
    webhook: WebhookTarget | None = None

    @model_validator(mode="after")
    def _one(self) -> NotifyTarget:
        given = [k for k in ("email", "sns", "webhook") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(
                "each notify entry is one of `email: ADDRESS`, `sns: TOPIC_ARN` or `webhook: {secret: NAME}`"
            )
        if self.email is not None and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", self.email):
            raise ValueError(f"{self.email!r} is not an email address")
        if self.sns is not None and not re.fullmatch(
            r"arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_.-]+", self.sns
        ):
            raise ValueError(f"{self.sns!r} is not an SNS topic ARN (arn:aws:sns:REGION:ACCOUNT:NAME)")
        return self


class AlarmsConfig(Strict):
    """`alarms: {notify: [...]}`: the agent's alarms on, notifying these targets."""

    notify: list[NotifyTarget] = Field(default_factory=list)


class JwtConfig(Strict):
    """`auth: jwt`: tokens of this issuer for one of these audiences (an HTTP API JWT authorizer)."""

    issuer: str
    audience: list[str] = Field(min_length=1)

    @field_validator("issuer")
    @classmethod
    def _issuer(cls, v: str) -> str:
        if not re.fullmatch(r"https://[^\s/]+(/\S*)?", v):
            raise ValueError("issuer must be an https:// URL (the token issuer, e.g. https://cognito-idp...)")
        return v

    @field_validator("audience")
    @classmethod
    def _audience(cls, v: list[str]) -> list[str]:
        if any(not a.strip() for a in v):
            raise ValueError("audience entries must not be empty")
        return v


class SessionsConfig(Strict):
    """`sessions: {ttl_days: N}`; `sessions: true` is `{ttl_days: 30}`."""

    ttl_days: int = Field(SESSIONS_TTL_DAYS, ge=1, le=36500)


class LinkEntry(Strict):
    """The mapping form of a `link:` entry."""

    to: str
    access: LinkAccess = "readwrite"


class Link(str):
    """A `link:` entry: the linked resource's name (it *is* that string, so code that needs only
    the name keeps using it as one) and the access it grants (``.access``).

    In strands.yaml either ``tickets`` (read and write) or ``{to: tickets, access: read}``.
    """

    access: LinkAccess

    def __new__(cls, to: str, access: LinkAccess = "readwrite") -> Link:
        self = super().__new__(cls, to)
        self.access = access
        return self

    @property
    def to(self) -> str:
        return str(self)

    def __repr__(self) -> str:
        return f"Link({str(self)!r}, access={self.access!r})"

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        def as_mapping(value: Any) -> Any:
            if isinstance(value, Link):
                return {"to": str(value), "access": value.access}
            return {"to": value} if isinstance(value, str) else value

        def to_link(entry: LinkEntry) -> Link:
            return cls(entry.to, entry.access)

        def serialize(link: Link) -> Any:
            return str(link) if link.access == "readwrite" else {"to": str(link), "access": link.access}

        return core_schema.no_info_before_validator_function(
            as_mapping,
            core_schema.no_info_after_validator_function(to_link, handler.generate_schema(LinkEntry)),
            serialization=core_schema.plain_serializer_function_ser_schema(serialize),
        )

    @classmethod
    def __get_pydantic_json_schema__(
        cls, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return {"anyOf": [{"type": "string"}, handler(schema)]}


BucketEvent = Literal["created", "removed"]
TRIGGER_KINDS = ("queue", "topic", "bucket", "schedule", "pattern", "table")


class TriggerConfig(Strict):
    """One event source that invokes the agent (docs/agents.md, "Triggers"). Exactly one of
    ``queue``, ``topic``, ``bucket``, ``schedule``, ``pattern``, ``table``; ``prompt`` is a template
    that turns the event into the agent's input (``"New file {{ s3.key }} arrived"``)."""

    queue: str | None = None  # an SQS queue resource
    topic: str | None = None  # an SNS topic resource
    bucket: str | None = None  # S3 object events of a bucket resource
    events: list[BucketEvent] = Field(default_factory=lambda: list[BucketEvent](["created"]))
    prefix: str = ""
    suffix: str = ""
    schedule: str | None = None  # EventBridge schedule: rate(5 minutes) | cron(0 9 * * ? *)
    pattern: dict[str, Any] | None = None  # EventBridge event pattern on the default bus
    table: str | None = None  # a DynamoDB table resource's stream
    prompt: str | None = None  # template; default: the event record as JSON
    batch_size: int = Field(1, ge=1, le=10)

    @property
    def kind(self) -> str:
        return next(k for k in TRIGGER_KINDS if getattr(self, k) is not None)

    @property
    def source(self) -> Any:
        return getattr(self, self.kind)

    @model_validator(mode="after")
    def _one(self) -> TriggerConfig:
        kinds = [k for k in TRIGGER_KINDS if getattr(self, k) is not None]
        if len(kinds) != 1:
            raise ValueError(
                f"a trigger names exactly one source{FIX_MARK}use one of "
                + ", ".join(f"`{k}:`" for k in TRIGGER_KINDS)
                + (f" (this one has {', '.join(kinds)})" if kinds else "")
            )
        if self.schedule is not None and not re.fullmatch(r"(rate|cron)\(.+\)", self.schedule.strip()):
            raise ValueError(
                f"schedule {self.schedule!r} is not an EventBridge schedule{FIX_MARK}use "
                "`rate(5 minutes)` or `cron(0 9 * * ? *)`"
            )
        if (self.prefix or self.suffix or self.events != ["created"]) and self.bucket is None:
            raise ValueError(f"`events`, `prefix` and `suffix` apply to bucket triggers{FIX_MARK}remove them")
        return self


class AgentConfig(Strict):
    path: str
    entry: str = "agent.py:agent"
    description: str = ""
    runtime: Literal["python3.10", "python3.11", "python3.12", "python3.13"] | None = None
    memory: int | None = Field(None, ge=128, le=10240)
    timeout: int | None = Field(None, ge=1, le=900)
    architecture: Literal["arm64", "x86_64"] | None = None
    environment: dict[str, str] = Field(default_factory=dict)
    expose: Literal["url", "http", "none"] = "none"
    # None: not stated (then `local` serves the endpoint openly, and any other environment refuses
    # to synthesise it: a public endpoint is a decision, not a default)
    auth: Literal["none", "iam", "jwt"] | None = None
    jwt: JwtConfig | None = None
    cors: Cors | None = None
    stages: HttpStages | None = None  # named HTTP API stages (expose: http; docs/rollouts.md)
    sessions: SessionsConfig | None = None  # `true` is {ttl_days: 30}; `false` is None
    link: list[Link] = Field(default_factory=list)
    trigger: str | None = None  # shorthand for `triggers: [{queue: NAME}]`
    triggers: list[TriggerConfig] = Field(default_factory=list)
    role: Literal["shared", "own"] = "own"
    # Bedrock model id(s) / inference profile id(s) the agent may invoke; None: the Strands
    # SDK's default model (synth.agent.DEFAULT_MODEL_ID)
    model: str | list[str] | None = None
    permissions: list[dict[str, Any]] = Field(default_factory=list)
    allow_wildcards: bool = False
    wildcards_reason: str | None = None
    reserved_concurrency: int | None = Field(None, ge=0)
    # instances kept initialised on the `live` alias (billed all month; docs/cost.md); not on emulators
    provisioned_concurrency: int | None = Field(None, ge=1)
    tracing: bool = False
    alarms: bool | AlarmsConfig | None = None  # `alarms: {notify: [...]}` overrides the environment's
    requirements: str = "requirements.txt"
    rollout: RolloutConfig | None = None  # overrides the environment's and the defaults'
    # policy (docs/policy.md): a Bedrock guardrail on the model calls, the stated prompt/response
    # logging posture, and why the agent needs more memory than the cost rule's threshold
    guardrail: GuardrailConfig | None = None
    prompt_logging: PromptLogging | None = None
    memory_reason: str | None = None
    usage: AgentUsage | None = None  # cost assumptions (docs/cost.md); deploys nothing

    @field_validator("auth", mode="before")
    @classmethod
    def _auth(cls, v: object) -> object:
        return AUTH_ALIASES.get(v, v) if isinstance(v, str) else v

    @model_validator(mode="after")
    def _provisioned_within_reserved(self) -> AgentConfig:
        p, r = self.provisioned_concurrency, self.reserved_concurrency
        if p is not None and r is not None and p > r:
            raise ValueError(
                f"provisioned_concurrency ({p}) exceeds reserved_concurrency ({r}): Lambda refuses it"
                f"{FIX_MARK}lower provisioned_concurrency or raise reserved_concurrency"
            )
        return self

    @model_validator(mode="after")
    def _stages_need_http(self) -> AgentConfig:
        if self.stages is not None and self.expose != "http":
            raise ValueError(
                f"`stages:` are stages of the HTTP API{FIX_MARK}set `expose: http`, or remove `stages:`"
            )
        return self

    @field_validator("sessions", mode="before")
    @classmethod
    def _sessions(cls, v: object) -> object:
        if v is True:
            return {}
        if v is False:
            return None
        return v

    @field_validator("model")
    @classmethod
    def _model(cls, v: str | list[str] | None) -> str | list[str] | None:
        ids = [v] if isinstance(v, str) else v or []
        if isinstance(v, list) and not v:
            raise ValueError("model: name at least one model id, or remove the key for the default model")
        for model_id in ids:
            if not MODEL_ID_RE.match(model_id):
                raise ValueError(
                    f"model {model_id!r} is not a Bedrock model id (no wildcards): "
                    "e.g. us.anthropic.claude-sonnet-4-20250514-v1:0"
                )
        return v

    @property
    def models(self) -> list[str]:
        """The declared model ids (empty: the default model)."""
        return [self.model] if isinstance(self.model, str) else list(self.model or [])

    @field_validator("entry")
    @classmethod
    def _entry(cls, v: str) -> str:
        if ":" not in v or not v.split(":", 1)[0].endswith(".py") or not v.split(":", 1)[1].isidentifier():
            raise ValueError("entry must look like 'agent.py:agent' (a .py file, a colon, a Python name)")
        return v

    @field_validator("environment")
    @classmethod
    def _env(cls, v: dict[str, str]) -> dict[str, str]:
        for key in v:
            if not ENV_VAR_RE.match(key):
                raise ValueError(f"environment variable name {key!r} is not valid (letters, digits, _)")
            if key.startswith("AWS_") or key.startswith("STRANDS_LINK_"):
                raise ValueError(f"environment variable {key!r} is reserved")
            if key == "STRANDS_MODEL_ID":
                raise ValueError("environment variable 'STRANDS_MODEL_ID' is reserved: set `model:` instead")
        return v


class ResourceConfig(Strict):
    type: Literal["table", "bucket", "queue", "topic", "secret", "parameter"]
    # table
    key: str | None = None
    key_type: Literal["S", "N", "B"] = "S"
    sort_key: str | None = None
    sort_key_type: Literal["S", "N", "B"] = "S"
    # bucket and table: destroy refuses to delete one holding data (tables also get DynamoDB
    # deletion protection on AWS)
    retain: bool = True
    versioning: bool = True
    # queue
    dlq: bool = True
    visibility_timeout: int | None = Field(None, ge=0, le=43200)
    # secret / parameter: where the value comes from at deploy time (never the value itself)
    from_env: str | None = None
    from_file: str | None = None
    secure: bool = True
    usage: ResourceUsage | None = None  # cost assumptions (docs/cost.md); deploys nothing

    @model_validator(mode="after")
    def _check(self) -> ResourceConfig:
        if self.type == "table" and not self.key:
            raise ValueError("a table needs a partition key: add `key: id`")
        if self.type != "table" and self.key:
            raise ValueError(f"`key` applies to tables, not to a {self.type}")
        if self.type in ("secret", "parameter"):
            if bool(self.from_env) == bool(self.from_file):
                raise ValueError(
                    f"a {self.type} needs exactly one of `from_env: VAR` or `from_file: path`; "
                    "its value is never written in strands.yaml"
                )
        elif self.from_env or self.from_file:
            raise ValueError(f"`from_env`/`from_file` apply to secrets and parameters, not to a {self.type}")
        return self


# A validator's ValueError may end with FIX_MARK + how to fix it: the loader shows that as the fix.
FIX_MARK = " -- fix: "

BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")


class StateConfig(Strict):
    """Where an environment's state lives (docs/state.md). ``local`` (the default) keeps it in
    ``.strands/state/``; ``s3`` keeps it in a bucket made by ``state bootstrap``."""

    backend: Literal["local", "s3"] = "local"
    bucket: str | None = None
    key: str | None = None  # default <project>/<env>.json
    region: str | None = None  # default: the environment's region
    kms_key: str | None = None  # SSE-KMS (and the data key of `encrypt: client`)
    encrypt: Literal["client"] | None = None
    lock: Literal["s3", "dynamodb"] = "s3"
    lock_table: str | None = None
    history_days: int = Field(90, ge=1, le=36500)  # bootstrap: how long previous versions are kept

    @field_validator("bucket")
    @classmethod
    def _bucket(cls, v: str | None) -> str | None:
        if v is not None and (not BUCKET_RE.match(v) or ".." in v):
            raise ValueError(
                f"{v!r} is not a valid S3 bucket name{FIX_MARK}use 3-63 characters: lowercase "
                "letters, digits, dots and hyphens, starting and ending with a letter or digit"
            )
        return v

    @field_validator("key")
    @classmethod
    def _key(cls, v: str | None) -> str | None:
        if v is not None and (not v.strip() or v.startswith("/") or len(v) > 900):
            raise ValueError(
                f"`key` is not a valid object key{FIX_MARK}use e.g. acme/prod.json (not empty, no leading /)"
            )
        return v

    @model_validator(mode="after")
    def _check(self) -> StateConfig:
        if self.backend == "s3" and not self.bucket:
            raise ValueError(
                f"`backend: s3` needs `bucket:`{FIX_MARK}add `bucket: <globally unique name>` (then "
                "create it with `strands-deploy state bootstrap --env <env>`)"
            )
        if self.lock == "dynamodb" and not self.lock_table:
            raise ValueError(
                f"`lock: dynamodb` needs `lock_table:`{FIX_MARK}add `lock_table: <name>` (a table whose "
                "hash key is LockID; `state bootstrap` creates it)"
            )
        if self.lock_table and self.lock != "dynamodb":
            raise ValueError(
                f"`lock_table` is only used with `lock: dynamodb`{FIX_MARK}add `lock: dynamodb` or remove `lock_table`"
            )
        return self


class EnvironmentConfig(Strict):
    region: str | None = None
    account: str | None = None
    profile: str | None = None
    endpoint: str | None = None
    protect: bool = False
    model_script: str | None = None
    tags: dict[str, str] = Field(default_factory=dict)
    state: StateConfig = Field(default_factory=lambda: StateConfig())  # type: ignore[call-arg]
    alarms: AlarmsConfig | None = None  # where this environment's alarms notify, by default
    budget: BudgetConfig | None = None  # an AWS Budgets budget; plans over it are refused
    rollout: RolloutConfig | None = None  # this environment's rollouts (over `defaults.rollout`)
    # per-environment overrides of agent and resource settings (merged over the top-level ones;
    # mappings such as `environment` merge key by key): `agents: {support: {memory: 4096}}`
    agents: dict[str, dict[str, Any]] = Field(default_factory=dict)
    resources: dict[str, dict[str, Any]] = Field(default_factory=dict)
    # policy (docs/policy.md): exceptions, limits, approvals of saved plans, AWS-side guardrails
    suppress: list[Suppression] = Field(default_factory=list)
    governance: Governance | None = None
    require_approval: bool = False
    security: SecurityServices | None = None

    @field_validator("account", mode="before")
    @classmethod
    def _account(cls, v: object) -> str | None:
        if v is None:
            return None
        text = str(v)
        if isinstance(v, bool) or not re.fullmatch(r"\d{12}", text):
            raise ValueError('account must be a 12-digit AWS account id, quoted: account: "123456789012"')
        return text


class ProjectConfig(Strict):
    project: str
    region: str = "us-east-1"
    defaults: Defaults = Field(default_factory=lambda: Defaults())  # type: ignore[call-arg]
    tags: dict[str, str] = Field(default_factory=dict)
    agents: dict[str, AgentConfig] = Field(default_factory=dict)
    resources: dict[str, ResourceConfig] = Field(default_factory=dict)
    environments: dict[str, EnvironmentConfig] = Field(default_factory=dict)
    suppress: list[Suppression] = Field(default_factory=list)  # for every environment (docs/policy.md)
    # command-line aliases (`ship: "deploy --env prod --yes"`); read by the CLI before click parses,
    # a name of a built-in command is ignored there (cli/argv.py)
    aliases: dict[str, str] = Field(default_factory=dict)

    @field_validator("project")
    @classmethod
    def _project(cls, v: str) -> str:
        if not NAME_RE.match(v) or len(v) > 24:
            raise ValueError(
                "project must be 1-24 characters: lowercase letters, digits and '-', starting with a letter"
            )
        return v


class AgentFileConfig(AgentConfig):
    """strands.agent.yaml in a discovered agent folder: an agent without `path` (it is the folder)."""

    name: str | None = None
    path: str = "."
