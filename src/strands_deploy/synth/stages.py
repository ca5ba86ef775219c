"""HTTP API stages of an agent (`expose: http` + `stages:`): named stages clients call to pin a
version of the agent (``<api endpoint>/<stage>/agents/<name>``).

Stages belong to the shared HTTP API, so a stage named by several agents is one stage carrying
each agent's variable. The agent's route invokes ``<function ARN>:${stageVariables.alias_<agent>}``
(one integration for every stage, as API Gateway has it), and each stage sets that variable:

- ``live`` (the default): the stage follows the agent's rollouts. The route's own resource-policy
  statement (on ``live``, for any stage) lets API Gateway invoke it.
- a version number: a Lambda alias ``stage-<stage>`` pinned to that version (an alias, so that
  version-pruning never removes it), with a statement letting this API's stage invoke it.

The ``$default`` stage (the URL without a stage) sets the variable to ``live``.
"""

from __future__ import annotations

import re
from typing import Any

from strands_deploy.config.rollout_schema import RESERVED_PREFIX, STAGE_ALIAS, HttpStages
from strands_deploy.errors import StrandsDeployError
from strands_deploy.providers.http_stage import HttpStageProps
from strands_deploy.providers.lambda_alias import AliasProps
from strands_deploy.providers.lambda_permission import PermissionProps
from strands_deploy.synth.context import SynthContext
from strands_deploy.synth.graph import Join, Ref, Resource
from strands_deploy.synth.links import partition
from strands_deploy.synth.props import build

PIN_PREFIX = "stage-"


def variable(agent: str) -> str:
    """The stage variable naming what the agent's route invokes (`alias_support_bot`)."""
    return RESERVED_PREFIX + re.sub(r"[^A-Za-z0-9_]", "_", agent)


def route_target(agent: str, function: Resource) -> Join:
    """The integration URI of a staged agent's route: the function, qualified per stage."""
    return Join((Ref(function.address, "arn"), f":${{stageVariables.{variable(agent)}}}"))


def synth_stages(
    ctx: SynthContext,
    agent: str,
    stages: HttpStages,
    function: Resource,
    alias: Resource,
    api: str,
    route_key: str,
) -> None:
    """The agent's stages, pins and permissions; its variable on the ``$default`` stage."""
    name = variable(agent)
    api_props = ctx.graph.resources[api].props
    api_props["stage_variables"] = {**(api_props.get("stage_variables") or {}), name: "live"}
    for stage, variables in stages.variables().items():
        target = variables[STAGE_ALIAS]
        qualifier, needs = "live", set[str]()
        if target != "live":
            qualifier, needs = _pin(ctx, agent, stage, target, function, alias, api, route_key)
        extra = {k: v for k, v in variables.items() if k != STAGE_ALIAS}
        _stage(ctx, agent, stage, {**extra, name: qualifier}, api, needs)


def _stage(
    ctx: SynthContext, agent: str, stage: str, variables: dict[str, str], api: str, needs: set[str]
) -> None:
    """The API's stage (made by the first agent naming it), ``variables`` merged in; it goes live
    once what it invokes (``needs``: a pin and its permission) exists."""
    address = f"{api}.stage.{stage}"
    existing = ctx.graph.resources.get(address)
    if existing is None:
        api_props = ctx.graph.resources[api].props
        props = build(
            HttpStageProps,
            api_id=Ref(api, "api_id"),
            name=stage,
            variables=variables,
            throttle_burst=api_props.get("throttle_burst"),
            throttle_rate=api_props.get("throttle_rate"),
            tags=ctx.tags(),
        )
        ctx.graph.add(Resource(address, "aws.apigw.http_stage", props, depends_on=needs))
        return
    existing.depends_on.update(needs)
    merged: dict[str, Any] = existing.props["variables"]
    for key, value in variables.items():
        if merged.get(key, value) != value:
            raise StrandsDeployError(
                f"agents set stage variable {key!r} of stage {stage!r} to {merged[key]!r} and {value!r}",
                f"agents.{agent}.stages.{stage}",
                "a stage is shared by every agent of the HTTP API: give the variable one value",
            )
        merged[key] = value


def _pin(
    ctx: SynthContext,
    agent: str,
    stage: str,
    version: str,
    function: Resource,
    alias: Resource,
    api: str,
    route_key: str,
) -> tuple[str, set[str]]:
    """An alias pinned to ``version`` and the statement letting the stage invoke it: (the alias
    name, their addresses)."""
    alias_name = PIN_PREFIX + stage
    pin = ctx.graph.add(
        Resource(
            f"agent.{agent}.{alias_name}.alias",
            "aws.lambda.alias",
            build(AliasProps, function_name=Ref(function.address, "name"), name=alias_name, version=version),
            agent=agent,
            # the version exists once the function's first version was published by `live`
            depends_on={alias.address},
        )
    )
    method, _, path = route_key.partition(" ")
    source = Join(
        (
            f"arn:{partition(ctx.region)}:execute-api:{ctx.region}:{ctx.account}:",
            Ref(api, "api_id"),
            f"/{stage}/{method}{path}",
        )
    )
    props = build(
        PermissionProps,
        function_name=Ref(pin.address, "arn"),
        principal="apigateway.amazonaws.com",
        source_arn=source,
    )
    permission = ctx.graph.add(
        Resource(f"agent.{agent}.{alias_name}.permission", "aws.lambda.permission", props, agent=agent)
    )
    return alias_name, {pin.address, permission.address}
