"""References in agents' `environment` values, resolved for one environment.

``${env}``, ``${region}``, ``${account}``, ``${project}``, ``${resource.NAME.ATTR}`` and
``${agent.NAME.ATTR}`` (grammar and validation: :func:`strands_deploy.config.loader.parse_references`).
What follows from the configuration (names, and the ARNs built from them, as links do) becomes
plain text; what exists only after apply (a queue's URL, a secret's ARN, an agent's endpoint URL)
becomes a :class:`Ref` to the resource's output, or a :class:`Join` of text and refs, so the
function depends on that resource and a plan shows the value as ``(known after apply)``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from strands_deploy.config.loader import (
    AGENT_ATTRIBUTES,
    RESOURCE_ATTRIBUTES,
    Reference,
    ReferenceSyntaxError,
    parse_references,
)
from strands_deploy.errors import StrandsDeployError
from strands_deploy.synth.context import SynthContext
from strands_deploy.synth.graph import UNKNOWN, Join, Ref, resolve
from strands_deploy.synth.links import LINKS, known_outputs, partition, resource_address
from strands_deploy.synth.naming import physical_name

# the alias every agent's traffic goes through (synth/agent.py publishes it as "live")
ALIAS = "live"


def resolve_environment(ctx: SynthContext, agent_name: str, env: dict[str, str]) -> dict[str, Any]:
    """``env`` (an agent's `environment`) with each value's references resolved: a string when
    everything in it is known now, else a Ref or a Join of text and Refs."""
    return {key: resolve_value(ctx, agent_name, key, value) for key, value in env.items()}


def resolve_deployed(
    ctx: SynthContext, agent_name: str, env: dict[str, str], outputs: Mapping[str, Mapping[str, Any]]
) -> dict[str, str]:
    """``env`` resolved completely from what is deployed (``outputs``: the state's outputs by
    address), for running an agent outside Lambda (``dev``). A variable whose reference is not
    deployed yet is left out. ``ctx`` needs no graph: ``SynthContext(project, env, target,
    account, secret_value=..., fingerprint_key=b"")``."""

    def lookup(ref: Ref) -> Any:
        value = (outputs.get(ref.address) or {}).get(ref.attr)
        return UNKNOWN if value is None else value

    out: dict[str, str] = {}
    for key, value in resolve_environment(ctx, agent_name, env).items():
        final = resolve(value, lookup)
        if final is not UNKNOWN:
            out[key] = str(final)
    return out


def resolve_value(ctx: SynthContext, agent_name: str, key: str, value: str) -> Any:
    where = ctx.project.agent_marks.get(agent_name) or f"agent.{agent_name}"
    try:
        parts = parse_references(value)
    except ReferenceSyntaxError as e:  # validation reports it first; kept for direct callers
        raise StrandsDeployError(
            f"agent {agent_name!r}: environment variable {key}: {e.what}", where, e.fix
        ) from None
    resolved: list[Any] = []
    for part in parts:
        item = part if isinstance(part, str) else reference_value(ctx, agent_name, key, part)
        if isinstance(item, str) and resolved and isinstance(resolved[-1], str):
            resolved[-1] += item
        elif item != "":
            resolved.append(item)
    if not resolved:
        return ""
    if len(resolved) == 1:
        return resolved[0]
    return Join(tuple(resolved))


def reference_value(ctx: SynthContext, agent_name: str, key: str, ref: Reference) -> Any:
    """The value of one reference in environment ``ctx.env``: a string, or a Ref."""
    if ref.kind == "env":
        return ctx.env
    if ref.kind == "region":
        return ctx.region
    if ref.kind == "account":
        return ctx.account
    if ref.kind == "project":
        return ctx.project.name
    if ref.kind == "resource":
        return _resource_value(ctx, agent_name, key, ref)
    if ref.kind == "agent":
        return _agent_value(ctx, agent_name, key, ref)
    raise _invalid(ctx, agent_name, key, ref, "is not a reference")


def _resource_value(ctx: SynthContext, agent_name: str, key: str, ref: Reference) -> Any:
    res = ctx.project.config.resources.get(ref.name)
    if res is None or res.type not in LINKS:
        raise _invalid(ctx, agent_name, key, ref, f"refers to unknown resource {ref.name!r}")
    if ref.attr not in RESOURCE_ATTRIBUTES[res.type]:
        raise _invalid(ctx, agent_name, key, ref, f"names no attribute of a {res.type}")
    address = resource_address(ref.name, res.type)
    known: dict[str, str] = {}
    synthesized = ctx.graph.resources.get(address)
    if synthesized is not None and isinstance(synthesized.props.get("name"), str):
        name = synthesized.props["name"]
        known = {"name": name, **known_outputs(res.type, name, ctx.region, ctx.account)}
    return known[ref.attr] if ref.attr in known else Ref(address, ref.attr)


def _agent_value(ctx: SynthContext, agent_name: str, key: str, ref: Reference) -> Any:
    target = ctx.project.agents.get(ref.name)
    if target is None:
        raise _invalid(ctx, agent_name, key, ref, f"refers to unknown agent {ref.name!r}")
    if ref.attr not in AGENT_ATTRIBUTES:
        raise _invalid(ctx, agent_name, key, ref, "names no attribute of an agent")
    fn_name = physical_name(ctx.project.config.project, ctx.env, ref.name, "function")
    function_arn = f"arn:{partition(ctx.region)}:lambda:{ctx.region}:{ctx.account}:function:{fn_name}"
    if ref.attr == "function_name":
        return fn_name
    if ref.attr == "function_arn":
        return function_arn
    if ref.attr == "alias_arn":
        return f"{function_arn}:{ALIAS}"
    # url: the endpoint's output, known once it exists (the function waits for it)
    if ref.name == agent_name:
        raise _invalid(ctx, agent_name, key, ref, "is the agent's own URL (a cycle)")
    if target.expose == "url":
        return Ref(f"agent.{ref.name}.url", "url")
    if target.expose == "http":
        return Ref(f"agent.{ref.name}.route", "url")
    raise _invalid(ctx, agent_name, key, ref, f"needs an endpoint: agent {ref.name!r} has expose: none")


def _invalid(ctx: SynthContext, agent_name: str, key: str, ref: Reference, why: str) -> StrandsDeployError:
    return StrandsDeployError(
        f"agent {agent_name!r}: environment variable {key}: {ref} {why}",
        ctx.project.agent_marks.get(agent_name) or f"agent.{agent_name}",
        "run `strands-deploy validate` for the details",
    )
