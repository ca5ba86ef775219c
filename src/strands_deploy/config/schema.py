"""The strands.yaml contract, as pydantic models. Extend it; never break it.

Unknown keys are errors (``extra="forbid"``) so typos are caught; the loader turns pydantic's
errors into file:line:column messages with suggestions.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

NAME_RE = re.compile(r"^[a-z][a-z0-9-]{0,38}[a-z0-9]$|^[a-z]$")
ENV_VAR_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
RUNTIMES = ("python3.10", "python3.11", "python3.12", "python3.13")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Defaults(Strict):
    runtime: Literal["python3.10", "python3.11", "python3.12", "python3.13"] = "python3.12"
    memory: int = Field(1024, ge=128, le=10240)
    timeout: int = Field(120, ge=1, le=900)
    architecture: Literal["arm64", "x86_64"] = "arm64"
    log_retention: int = Field(30, ge=1)
    alarms: bool = True


class Cors(Strict):
    allow_origins: list[str] = Field(default_factory=lambda: ["*"])
    allow_methods: list[str] = Field(default_factory=lambda: ["POST"])
    allow_headers: list[str] = Field(default_factory=lambda: ["content-type", "authorization"])
    max_age: int = 300


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
    auth: Literal["NONE", "AWS_IAM"] = "NONE"
    cors: Cors | None = None
    sessions: bool = False
    link: list[str] = Field(default_factory=list)
    trigger: str | None = None
    role: Literal["shared", "own"] = "shared"
    permissions: list[dict[str, Any]] = Field(default_factory=list)
    allow_wildcards: bool = False
    reserved_concurrency: int | None = Field(None, ge=0)
    tracing: bool = False
    alarms: bool | None = None
    requirements: str = "requirements.txt"

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
        return v


class ResourceConfig(Strict):
    type: Literal["table", "bucket", "queue", "topic", "secret", "parameter"]
    # table
    key: str | None = None
    key_type: Literal["S", "N", "B"] = "S"
    sort_key: str | None = None
    sort_key_type: Literal["S", "N", "B"] = "S"
    # bucket
    retain: bool = True
    versioning: bool = True
    # queue
    dlq: bool = True
    visibility_timeout: int | None = Field(None, ge=0, le=43200)
    # secret / parameter: where the value comes from at deploy time (never the value itself)
    from_env: str | None = None
    from_file: str | None = None
    secure: bool = True

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


class EnvironmentConfig(Strict):
    region: str | None = None
    account: str | None = None
    profile: str | None = None
    endpoint: str | None = None
    protect: bool = False
    model_script: str | None = None
    tags: dict[str, str] = Field(default_factory=dict)
    state: dict[str, Any] | None = None  # backend settings; {"backend": "local"} for now

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
