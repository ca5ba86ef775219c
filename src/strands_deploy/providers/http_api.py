"""aws.apigw.http_api: the shared HTTP API with a ``$default`` stage (auto-deploy, throttling).

``find`` adopts an API with the same name *and* this environment's strands tags (API names are not
unique, so the name alone could match someone else's API). The id is random (``random_id``): the
engine calls ``find`` before ``create``, so a create whose response was lost is not repeated.
The tags go in CreateApi itself, so an API whose stage was never created is still recognisably ours.
"""

from __future__ import annotations

from typing import Any, ClassVar

from strands_deploy.aws.arns import partition_for
from strands_deploy.aws.errors import call, call_or_none, ignore_not_found
from strands_deploy.providers._common import owned, paginate, require, tag_changes
from strands_deploy.providers.base import Created, Outputs, Props, PropsModel, Provider, ProviderContext

STAGE = "$default"


class HttpApiProps(PropsModel):
    name: str
    throttle_burst: int | None = None  # None: API Gateway's account default
    throttle_rate: float | None = None
    tags: dict[str, str] = {}
    # the `$default` stage's variables: `alias_<agent>: live` for each agent with `stages:`
    # (their routes invoke `${stageVariables.alias_<agent>}`, see providers/http_stage.py)
    stage_variables: dict[str, str] = {}


def route_settings(p: HttpApiProps | Any) -> dict[str, Any]:
    """A stage's DefaultRouteSettings from ``throttle_burst``/``throttle_rate`` (of an API's
    `$default` stage or of a named stage, ``http_stage.py``)."""
    settings: dict[str, Any] = {}
    if p.throttle_burst is not None:
        settings["ThrottlingBurstLimit"] = p.throttle_burst
    if p.throttle_rate is not None:
        settings["ThrottlingRateLimit"] = p.throttle_rate
    return settings


class HttpApiProvider(Provider):
    type_name: ClassVar[str] = "aws.apigw.http_api"
    props_model: ClassVar[type[PropsModel]] = HttpApiProps
    random_id: ClassVar[bool] = True
    stable_outputs: ClassVar[frozenset[str]] = frozenset({"api_id", "endpoint", "arn"})

    def create(self, ctx: ProviderContext, address: str, props: Props) -> Created:
        p = HttpApiProps.parse(props, address)
        api = ctx.client("apigatewayv2")
        resp = call(address, api, "create_api", Name=p.name, ProtocolType="HTTP", Tags=p.tags)
        api_id = str(resp["ApiId"])
        self._create_stage(ctx, address, api_id, p)
        return Created(api_id, require(self.read(ctx, address, api_id, props), address, f"HTTP API {api_id}"))

    def _create_stage(self, ctx: ProviderContext, address: str, api_id: str, p: HttpApiProps) -> None:
        kwargs: dict[str, Any] = {"ApiId": api_id, "StageName": STAGE, "AutoDeploy": True}
        settings = route_settings(p)
        if settings:
            kwargs["DefaultRouteSettings"] = settings
        if p.stage_variables:
            kwargs["StageVariables"] = dict(p.stage_variables)
        if p.tags:
            kwargs["Tags"] = p.tags
        call(address, ctx.client("apigatewayv2"), "create_stage", **kwargs)

    def _arn(self, ctx: ProviderContext, api_id: str) -> str:
        region = ctx.aws.region
        return f"arn:{partition_for(region)}:apigateway:{region}::/apis/{api_id}"

    def read(self, ctx: ProviderContext, address: str, physical_id: str, props: Props) -> Outputs | None:
        api = ctx.client("apigatewayv2")
        resp = call_or_none(address, api, "get_api", ApiId=physical_id)
        if resp is None:
            return None
        stage = call_or_none(address, api, "get_stage", ApiId=physical_id, StageName=STAGE)
        observed: dict[str, Any] = {
            "name": resp["Name"],
            "tags": dict(resp.get("Tags") or {}),
            "stage": STAGE if stage is not None else None,
        }
        if stage is not None:
            settings = stage.get("DefaultRouteSettings") or {}
            observed["throttle_burst"] = settings.get("ThrottlingBurstLimit")
            observed["throttle_rate"] = settings.get("ThrottlingRateLimit")
            observed["auto_deploy"] = stage.get("AutoDeploy")
            observed["stage_variables"] = dict(stage.get("StageVariables") or {})
        return {
            "api_id": resp["ApiId"],
            "endpoint": resp["ApiEndpoint"],
            "name": resp["Name"],
            "arn": self._arn(ctx, physical_id),
            "observed": observed,
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
        before, after = HttpApiProps.parse_recorded(old), HttpApiProps.parse(new, address)
        api = ctx.client("apigatewayv2")
        if before.name != after.name:
            call(address, api, "update_api", ApiId=physical_id, Name=after.name)
        stage_changed = before.stage_variables != after.stage_variables
        if route_settings(before) != route_settings(after) or stage_changed:
            if ctx.aws.settings.local:
                # moto (the embedded local cloud) has no UpdateStage: recreate the stage there.
                ignore_not_found(address, api, "delete_stage", ApiId=physical_id, StageName=STAGE)
                self._create_stage(ctx, address, physical_id, after)
            else:
                kwargs: dict[str, Any] = {"ApiId": physical_id, "StageName": STAGE, "AutoDeploy": True}
                kwargs["DefaultRouteSettings"] = route_settings(after)
                if after.stage_variables:  # one left by an agent that dropped `stages:` is harmless
                    kwargs["StageVariables"] = dict(after.stage_variables)
                call(address, api, "update_stage", **kwargs)
        to_set, to_remove = tag_changes(before.tags, after.tags)
        arn = self._arn(ctx, physical_id)
        if to_set:
            call(address, api, "tag_resource", ResourceArn=arn, Tags=to_set)
        if to_remove:
            call(address, api, "untag_resource", ResourceArn=arn, TagKeys=to_remove)
        return require(self.read(ctx, address, physical_id, new), address, f"HTTP API {physical_id}")

    def delete(
        self, ctx: ProviderContext, address: str, physical_id: str, props: Props, outputs: Outputs
    ) -> None:
        ignore_not_found(address, ctx.client("apigatewayv2"), "delete_api", ApiId=physical_id)

    def find(self, ctx: ProviderContext, address: str, props: Props) -> Created | None:
        p = HttpApiProps.parse(props, address)
        for page in paginate(address, ctx.client("apigatewayv2"), "get_apis"):
            for item in page.get("Items", []):
                if item.get("Name") == p.name and owned(ctx, p.tags, dict(item.get("Tags") or {})):
                    api_id = str(item["ApiId"])
                    outputs = self.read(ctx, address, api_id, props)
                    if outputs is None:
                        continue
                    if outputs["observed"]["stage"] is None:  # interrupted between the API and its stage
                        self._create_stage(ctx, address, api_id, p)
                        outputs = require(self.read(ctx, address, api_id, props), address, api_id)
                    return Created(api_id, outputs)
        return None

    def drift(self, props: Props, live: Outputs) -> dict[str, tuple[Any, Any]]:
        want = {k: v for k, v in props.items() if k != "stage_variables"}
        out = super().drift(want, live)
        if live.get("observed", {}).get("stage") is None:
            out["stage"] = (None, STAGE)
        wanted = dict(props.get("stage_variables") or {})
        seen = live.get("observed", {}).get("stage_variables")
        if wanted and seen is not None and any(seen.get(k) != v for k, v in wanted.items()):
            out["stage_variables"] = (seen, wanted)
        return out
