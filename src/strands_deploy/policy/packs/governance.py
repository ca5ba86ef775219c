"""The `governance` pack: an environment's `governance:` limits. Every rule here is an error,
so a plan outside the limits is refused (with what and where), and is silent without limits."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterator

from strands_deploy.policy.model import AgentSubject, Context, ProjectSubject, ResourceSubject, Violation
from strands_deploy.policy.registry import rule
from strands_deploy.synth.models import DEFAULT_MODEL_ID

PACK = "governance"


@rule(
    "GOV-001",
    "error",
    "Required tags missing or with a value not allowed",
    pack=PACK,
    rationale="Tags are how cost, ownership and data classification are found across an account.",
    fix="Add the tags under `tags:` (project) or `environments.<env>.tags:` with an allowed value.",
    mappings={"nist": ["CM-8"], "soc2": ["CC2.1"]},
)
def required_tags(res: ResourceSubject, ctx: Context) -> Iterator[Violation]:
    gov = ctx.env.governance
    if gov is None or not gov.required_tags or "tags" not in res.props:
        return
    tags = res.props.get("tags") or {}
    for name, allowed in sorted(gov.required_tags.items()):
        if name not in tags:
            yield Violation(f"tag {name!r} is missing", f"tags: {sorted(tags)}")
        elif allowed and tags[name] not in allowed:
            yield Violation(f"tag {name}={tags[name]!r} is not one of {allowed}", f"{name}={tags[name]}")


def _physical_name(res: ResourceSubject) -> str | None:
    for key in ("name", "function_name", "policy_name"):
        value = res.props.get(key)
        if isinstance(value, str) and "${" not in value:
            return value
    return None


@rule(
    "GOV-002",
    "error",
    "Name does not follow the naming pattern",
    pack=PACK,
    rationale="Naming conventions let people and automation (SCPs, cost reports) recognise resources.",
    fix="Rename the project, environment or resource so the physical name matches the pattern.",
    mappings={"nist": ["CM-2"]},
)
def naming(res: ResourceSubject, ctx: Context) -> Violation | None:
    gov = ctx.env.governance
    pattern = gov.naming.get(res.type) if gov is not None else None
    name = _physical_name(res)
    if pattern is None or name is None or re.fullmatch(pattern, name):
        return None
    return Violation(f"name {name!r} does not match {pattern!r}", f"name: {name}")


@rule(
    "GOV-003",
    "error",
    "Region not allowed",
    pack=PACK,
    subject="project",
    rationale="Data residency: where data is processed and stored is often fixed by contract or law.",
    fix="Set the environment's `region:` to an allowed region.",
    mappings={"nist": ["SA-9(5)"], "soc2": ["C1.1"]},
)
def allowed_regions(_: ProjectSubject, ctx: Context) -> Violation | None:
    gov = ctx.env.governance
    if gov is None or gov.allowed_regions is None or ctx.region in gov.allowed_regions:
        return None
    return Violation(f"region {ctx.region} is not one of {gov.allowed_regions}", f"region: {ctx.region}")


@rule(
    "GOV-004",
    "error",
    "Model not allowed",
    pack=PACK,
    subject="agent",
    rationale="Which models may process the organisation's data is a vendor and risk decision.",
    fix="Set the agent's `model:` to allowed models (`governance.allowed_models`).",
    mappings={"nist": ["CM-7", "SA-9"], "soc2": ["CC9.2"]},
)
def allowed_models(agent: AgentSubject, ctx: Context) -> Iterator[Violation]:
    gov = ctx.env.governance
    if gov is None or gov.allowed_models is None:
        return
    for model in agent.config.models or [DEFAULT_MODEL_ID]:
        if not any(fnmatch.fnmatchcase(model, pattern) for pattern in gov.allowed_models):
            yield Violation(f"model {model} is not allowed", f"model: {model}")


@rule(
    "GOV-005",
    "error",
    "Memory, timeout or concurrency over the limit",
    pack=PACK,
    types=("aws.lambda.function",),
    rationale="Limits bound what one function can cost and how much of the account's capacity it takes.",
    fix="Lower the agent's `memory:`, `timeout:` or `reserved_concurrency:` to the limit.",
    mappings={"nist": ["CM-2", "SC-5"]},
)
def limits(res: ResourceSubject, ctx: Context) -> Iterator[Violation]:
    gov = ctx.env.governance
    if gov is None:
        return
    for key, limit in (
        ("memory", gov.max.memory),
        ("timeout", gov.max.timeout),
        ("reserved_concurrency", gov.max.concurrency),
    ):
        value = res.props.get(key)
        if limit is not None and isinstance(value, int) and value > limit:
            yield Violation(f"{key} {value} is over the limit of {limit}", f"{key}: {value}")


@rule(
    "GOV-006",
    "error",
    "Too many agents",
    pack=PACK,
    subject="project",
    rationale="A cap on agents per environment keeps sprawl (and its cost and attack surface) reviewed.",
    fix="Remove agents or raise `governance.max_agents` after review.",
    mappings={"nist": ["CM-2"]},
)
def max_agents(_: ProjectSubject, ctx: Context) -> Violation | None:
    gov = ctx.env.governance
    count = len(ctx.project.agents)
    if gov is None or gov.max_agents is None or count <= gov.max_agents:
        return None
    return Violation(f"{count} agents, over the limit of {gov.max_agents}", f"agents: {count}")
