"""Dependency layers and the artifacts bucket, decided over the whole project.

Agents whose resolved requirements are identical (same hash, which covers every requirements
file read, the target platform, runtime and architecture) share one layer,
``shared.deps-<first 10 hex of the hash>``; an agent alone with its requirements keeps its own,
``agent.<name>.deps`` (so a one-agent deployment keeps the layer it has). The grouping looks at
every agent of the project, not only those being synthesised, so deploying one agent never
renames another's layer; it is computed once per synthesis and kept on the context.

On AWS (not in emulated environments) each environment has one bucket for zips too large to send
in a request (``shared.artifacts``): layers always name it (their size is known only once built),
a function only when its code may be that large.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from strands_deploy.errors import StrandsDeployError
from strands_deploy.packaging.hashing import iter_code_files
from strands_deploy.packaging.limits import DIRECT_UPLOAD_LIMIT, check_layer_count
from strands_deploy.packaging.requirements import Requirements, resolve_requirements
from strands_deploy.providers.bucket import BucketProps
from strands_deploy.providers.lambda_layer import LayerProps
from strands_deploy.synth.context import SynthContext
from strands_deploy.synth.graph import Ref, Resource
from strands_deploy.synth.naming import physical_name
from strands_deploy.synth.props import build

ARTIFACTS = "shared.artifacts"
ARTIFACTS_TTL_DAYS = 7  # Lambda keeps its own copy: an uploaded zip is needed only while deploying
SHARED_LAYER_PREFIX = "shared.deps-"
_PLAN_ATTR = "_strands_layer_plan"
_ZIP_ENTRY_OVERHEAD = 200  # bytes a zip adds per file (headers), beyond the file itself


@dataclass
class _AgentLayer:
    requirements: Requirements
    hash: str
    runtime: str
    architecture: str


@dataclass
class _LayerPlan:
    """Each agent's layer inputs (or the error reading its requirements), and who shares what."""

    agents: dict[str, _AgentLayer | StrandsDeployError] = field(default_factory=dict)
    groups: dict[str, list[str]] = field(default_factory=dict)  # hash → agent names, sorted


def layers_for(ctx: SynthContext, agent: str) -> list[Any]:
    """The layer ARNs (as references) of ``agent``'s function: its dependency layer, shared with
    the agents whose requirements are identical, added to the graph the first time it is asked
    for. Empty when the agent's requirements list nothing. A StrandsDeployError when its
    requirements cannot be read (a missing include, a cycle, an invalid pyproject.toml)."""
    entry = _plan(ctx).agents.get(agent)
    if entry is None:
        return []
    if isinstance(entry, StrandsDeployError):
        raise entry
    group = _plan(ctx).groups[entry.hash]
    if len(group) > 1:
        address = f"{SHARED_LAYER_PREFIX}{entry.hash[:10]}"
        owner: str | None = None
        name = physical_name(ctx.project.name, ctx.env, f"deps-{entry.hash[:10]}", "layer")
        # the first agent's files: their content is what the hash covers, whoever reads them
        source = _plan(ctx).agents[group[0]]
        assert not isinstance(source, StrandsDeployError)
    else:
        address = f"agent.{agent}.deps"
        owner = agent
        name = physical_name(ctx.project.name, ctx.env, f"{agent}-deps", "layer")
        source = entry
    if address not in ctx.graph:
        props = build(
            LayerProps,
            name=name,
            requirements_file=_relative(ctx, source.requirements),
            requirements_hash=entry.hash,
            runtime=entry.runtime,
            architecture=entry.architecture,
            **_artifacts(ctx),
        )
        ctx.graph.add(Resource(address, "aws.lambda.layer", props, agent=owner))
    layers: list[Any] = [Ref(address, "arn")]
    check_layer_count(len(layers), ctx.project.agent_marks.get(agent) or f"agent.{agent}")
    return layers


def artifacts_bucket(ctx: SynthContext) -> str | None:
    """The address of the environment's bucket for large zips, added to the graph once; None in
    emulated environments (the local cloud, an ``endpoint:``), which take any zip directly.

    Private like every bucket (public access blocked, encrypted, TLS only), unversioned, objects
    expiring after :data:`ARTIFACTS_TTL_DAYS` days, and not retained: destroy empties and deletes
    it."""
    if ctx.emulated:
        return None
    if ARTIFACTS not in ctx.graph:
        props = build(
            BucketProps,
            name=physical_name(ctx.project.name, ctx.env, f"artifacts-{ctx.account}", "bucket"),
            versioning=False,
            retain=False,
            expire_days=ARTIFACTS_TTL_DAYS,
            tags=ctx.tags(),
        )
        ctx.graph.add(Resource(ARTIFACTS, "aws.s3.bucket", props))
    return ARTIFACTS


def code_artifacts(ctx: SynthContext, folder: Path) -> dict[str, Any]:
    """Properties for the function of the agent in ``folder``: ``{"artifacts_bucket": <ref>}``
    when its code zip may be too large to send in the request (on AWS), else nothing, so that a
    small agent's function does not depend on the bucket."""
    if ctx.emulated:
        return {}
    total = 0
    for _, path in iter_code_files(folder):
        try:
            total += path.stat().st_size + _ZIP_ENTRY_OVERHEAD
        except OSError:
            continue
        if total >= DIRECT_UPLOAD_LIMIT:
            bucket = artifacts_bucket(ctx)
            return {"artifacts_bucket": Ref(bucket, "name")} if bucket else {}
    return {}


def _artifacts(ctx: SynthContext) -> dict[str, Any]:
    bucket = artifacts_bucket(ctx)
    return {"artifacts_bucket": Ref(bucket, "name")} if bucket else {}


def _relative(ctx: SynthContext, reqs: Requirements) -> str:
    assert reqs.source is not None  # an agent with requirements has a file they come from
    try:
        return reqs.source.relative_to(ctx.project.root).as_posix()
    except ValueError:
        return reqs.source.resolve().relative_to(ctx.project.root.resolve()).as_posix()


def _plan(ctx: SynthContext) -> _LayerPlan:
    plan: _LayerPlan | None = getattr(ctx, _PLAN_ATTR, None)
    if plan is None:
        plan = _make_plan(ctx)
        setattr(ctx, _PLAN_ATTR, plan)
    return plan


def _make_plan(ctx: SynthContext) -> _LayerPlan:
    plan = _LayerPlan()
    defaults = ctx.project.config.defaults
    for name, agent in sorted(ctx.project.agents.items()):
        runtime = agent.runtime or defaults.runtime
        architecture = agent.architecture or defaults.architecture
        try:
            reqs = resolve_requirements(ctx.project.root / agent.path, agent.requirements)
        except StrandsDeployError as e:
            plan.agents[name] = StrandsDeployError(f"agent {name!r}: {e.what}", e.where, e.fix)
            continue
        if not reqs.requirements:
            continue  # nothing to install: no layer
        digest = reqs.hash(ctx.target, runtime, architecture)
        plan.agents[name] = _AgentLayer(reqs, digest, runtime, architecture)
        plan.groups.setdefault(digest, []).append(name)
    return plan
