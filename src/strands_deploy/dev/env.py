"""The environment variables an agent's dev worker runs with.

The same contract as the deployed function (STRANDS_ENTRY, STRANDS_AGENT_NAME, STRANDS_LINK_*,
STRANDS_SESSIONS_*, the agent's ``environment``), pointed at the environment's deployed resources
when they exist, and at its AWS account/endpoint (for ``local``: the local cloud, whose emulated
Bedrock answers the agent's model calls).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from strands_deploy.aws.session import AwsSettings
    from strands_deploy.config.schema import AgentConfig

# What a developer's shell may carry that must not leak into an agent pointed elsewhere.
AWS_IDENTITY_VARS = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_ENDPOINT_URL",
)
LOCAL_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


def record_field(record: Any, name: str) -> dict[str, Any]:
    """``record.outputs`` / ``record["outputs"]`` (state records may be objects or dicts)."""
    value = record.get(name) if isinstance(record, Mapping) else getattr(record, name, None)
    return dict(value) if isinstance(value, Mapping) else {}


def link_env(
    agent: AgentConfig, resource_types: Mapping[str, str], resources: Mapping[str, Any]
) -> dict[str, str]:
    """STRANDS_LINK_* for each linked resource that is deployed, named as synthesis names them."""
    from strands_deploy.synth.links import LINKS, resource_address
    from strands_deploy.synth.naming import env_var_name

    out: dict[str, str] = {}
    for link in agent.link:
        rtype = resource_types.get(link)
        if rtype not in LINKS:
            continue
        outputs = record_field(resources.get(resource_address(link, rtype)), "outputs")
        for var, attr in LINKS[rtype].env:
            value = outputs.get(attr)
            if isinstance(value, str | int | float) and not isinstance(value, bool):
                out[env_var_name(link, var)] = str(value)
    return out


def deployed_function_env(name: str, resources: Mapping[str, Any]) -> dict[str, str]:
    """The STRANDS_LINK_* / STRANDS_SESSIONS_* variables the deployed function was given."""
    record = resources.get(f"agent.{name}.function")
    if record is None:
        return {}
    env = record_field(record, "inputs").get("environment") or {}
    return {
        str(k): str(v)
        for k, v in env.items()
        if str(k).startswith(("STRANDS_LINK_", "STRANDS_SESSIONS_")) and isinstance(v, str | int | float)
    }


def aws_env(settings: AwsSettings) -> dict[str, str]:
    out = {"AWS_REGION": settings.region, "AWS_DEFAULT_REGION": settings.region}
    if settings.local:
        out.update(LOCAL_CREDENTIALS)
    elif settings.profile:
        out["AWS_PROFILE"] = settings.profile
    if settings.endpoint_url:
        out["AWS_ENDPOINT_URL"] = settings.endpoint_url
    return out


def worker_env(
    *,
    project_root: Path,
    name: str,
    agent: AgentConfig,
    base: Mapping[str, str],
    aws: AwsSettings | None = None,
    resources: Mapping[str, Any] | None = None,
    resource_types: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """``resources``: the state's address -> record; ``resource_types``: resource name -> type."""
    env = {k: v for k, v in base.items() if not k.startswith(("STRANDS_LINK_", "STRANDS_SESSIONS_"))}
    for k in ("STRANDS_ENTRY", "STRANDS_AGENT_NAME", "LAMBDA_TASK_ROOT", "AWS_LAMBDA_FUNCTION_NAME"):
        env.pop(k, None)
    if aws is not None:
        if aws.local or aws.profile:
            for k in AWS_IDENTITY_VARS:
                env.pop(k, None)
        env.update(aws_env(aws))
    resources = resources or {}
    deployed = deployed_function_env(name, resources)
    for key, value in agent.environment.items():
        if (
            "${" in value or "$$" in value
        ):  # `${...}` references (and `$$`) were resolved at deploy: use those values
            if key in deployed:
                env[key] = deployed[key]
            continue  # not deployed yet: left out rather than passed as literal `${...}` text
        env[key] = value
    env.update(link_env(agent, resource_types or {}, resources))
    env.update({k: v for k, v in deployed.items() if k.startswith("STRANDS_LINK_")})
    if agent.sessions:
        if deployed.get("STRANDS_SESSIONS_BUCKET"):
            env["STRANDS_SESSIONS_BUCKET"] = deployed["STRANDS_SESSIONS_BUCKET"]
            env["STRANDS_SESSIONS_PREFIX"] = deployed.get("STRANDS_SESSIONS_PREFIX", "")
        else:  # not deployed: conversation memory in a local folder
            env["STRANDS_SESSIONS_DIR"] = str(project_root / ".strands" / "dev" / "sessions" / name)
    env["STRANDS_ENTRY"] = agent.entry
    env["STRANDS_AGENT_NAME"] = name
    env["PYTHONUNBUFFERED"] = "1"
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env
