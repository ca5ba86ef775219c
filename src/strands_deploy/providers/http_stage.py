"""aws.apigw.http_stage: a named stage of the shared HTTP API (``<endpoint>/<name>/...``), deployed
automatically, carrying stage variables.

Stage variables are how a stage pins what it invokes: a route of an agent with `stages:` has the
integration URI ``<function ARN>:${stageVariables.alias_<agent>}``, and each stage sets
``alias_<agent>`` to ``live`` or to the alias pinning a version (``stage-<name>``). Stage names
are unique within an API, so ``(api_id, name)`` is the stage's identity: physical id
``<api_id>/<name>``. moto (the embedded local cloud) has no UpdateStage: there an update
recreates the stage (the same way :mod:`.http_api` updates its ``$default`` stage), and so does
an update that removes a variable (UpdateStage is a partial update).
"""

from __future__ import annotations

from typing import Any, ClassVar

from strands_deploy.aws.errors import call, call_or_none, ignore_not_found
from strands_deploy.providers._common import require
from strands_deploy.providers.base import Created, Outputs, Props, PropsModel, Provider, ProviderContext
from strands_deploy.providers.http_api import route_settings


class HttpStageProps(PropsModel):
    api_id: str
    name: str
    variables: dict[str, str] = {}
    throttle_burst: int | None = None  # None: the account's default
    throttle_rate: float | None = None
    tags: dict[str, str] = {}


def _split(physical_id: str) -> tuple[str, str]:
    api_id, _, name = physical_id.partition("/")
    return api_id, name


class HttpStageProvider(Provider):
    type_name: ClassVar[str] = "aws.apigw.http_stage"
    props_model: ClassVar[type[PropsModel]] = HttpStageProps
    replace_on: ClassVar[frozenset[str]] = frozenset({"api_id", "name"})
    stable_outputs: ClassVar[frozenset[str]] = frozenset({"url", "name"})

    def _create(self, ctx: ProviderContext, address: str, p: HttpStageProps) -> None:
        kwargs: dict[str, Any] = {"ApiId": p.api_id, "StageName": p.name, "AutoDeploy": True}
        if p.variables:
            kwargs["StageVariables"] = dict(p.variables)
        if route_settings(p):
            kwargs["DefaultRouteSettings"] = route_settings(p)
        if p.tags:
            kwargs["Tags"] = dict(p.tags)
        call(address, ctx.client("apigatewayv2"), "create_stage", **kwargs)

    def create(self, ctx: ProviderContext, address: str, props: Props) -> Created:
        p = HttpStageProps.parse(props, address)
        self._create(ctx, address, p)
        physical_id = f"{p.api_id}/{p.name}"
        return Created(
            physical_id, require(self.read(ctx, address, physical_id, props), address, physical_id)
        )

    def read(self, ctx: ProviderContext, address: str, physical_id: str, props: Props) -> Outputs | None:
        api_id, name = _split(physical_id)
        apigw = ctx.client("apigatewayv2")
        stage = call_or_none(address, apigw, "get_stage", ApiId=api_id, StageName=name)
        if stage is None:
            return None
        api = call_or_none(address, apigw, "get_api", ApiId=api_id) or {}
        settings = stage.get("DefaultRouteSettings") or {}
        return {
            "name": stage["StageName"],
            "url": f"{api.get('ApiEndpoint', '')}/{name}",
            "observed": {
                "name": stage["StageName"],
                "variables": dict(stage.get("StageVariables") or {}),
                "throttle_burst": settings.get("ThrottlingBurstLimit"),
                "throttle_rate": settings.get("ThrottlingRateLimit"),
                "auto_deploy": stage.get("AutoDeploy"),
            },
        }

    def update(
        self,
        ctx: ProviderContext,
        address: str,
        physical_id: str,
        old: Props,
        new: Props,
        outputs: Outputs,
    ) -> Outputs:
        before, after = HttpStageProps.parse_recorded(old), HttpStageProps.parse(new, address)
        apigw = ctx.client("apigatewayv2")
        # A removed variable or setting is not something UpdateStage can be trusted to clear (it
        # is a partial update), and moto has no UpdateStage: those cases recreate the stage.
        removed = set(before.variables) - set(after.variables) or set(route_settings(before)) - set(
            route_settings(after)
        )
        if ctx.aws.settings.local or removed:
            ignore_not_found(address, apigw, "delete_stage", ApiId=after.api_id, StageName=after.name)
            self._create(ctx, address, after)
        else:
            call(
                address,
                apigw,
                "update_stage",
                ApiId=after.api_id,
                StageName=after.name,
                AutoDeploy=True,
                StageVariables=dict(after.variables),
                DefaultRouteSettings=route_settings(after),
            )
        return require(self.read(ctx, address, physical_id, new), address, physical_id)

    def delete(
        self, ctx: ProviderContext, address: str, physical_id: str, props: Props, outputs: Outputs
    ) -> None:
        api_id, name = _split(physical_id)
        ignore_not_found(address, ctx.client("apigatewayv2"), "delete_stage", ApiId=api_id, StageName=name)

    def find(self, ctx: ProviderContext, address: str, props: Props) -> Created | None:
        p = HttpStageProps.parse(props, address)
        physical_id = f"{p.api_id}/{p.name}"
        outputs = self.read(ctx, address, physical_id, props)
        return Created(physical_id, outputs) if outputs is not None else None

    def drift(self, props: Props, live: Outputs) -> dict[str, tuple[Any, Any]]:
        p = HttpStageProps.parse_recorded(props)
        return super().drift({"variables": p.variables, **_drift_settings(p)}, live)


def _drift_settings(p: HttpStageProps) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if p.throttle_burst is not None:
        out["throttle_burst"] = p.throttle_burst
    if p.throttle_rate is not None:
        out["throttle_rate"] = p.throttle_rate
    return out
