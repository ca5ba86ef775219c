"""aws.apigw.http_api: the shared HTTP API with a ``$default`` stage (auto-deploy, throttling).

``find`` adopts an API with the same name *and* this environment's strands tags (API names are not
unique, so the name alone could match someone else's API).
"""

from __future__ import annotations

from typing import Any, ClassVar

from strands_deploy.aws.errors import call, call_or_none, ignore_not_found
from strands_deploy.providers._common import owned, partition_for, require, tag_changes, tags_of
from strands_deploy.providers.base import Created, Outputs, Props, Provider, ProviderContext

STAGE = "$default"


def _route_settings(props: Props) -> dict[str, Any]:
    settings: dict[str, Any] = {}
    if props.get("throttle_burst") is not None:
        settings["ThrottlingBurstLimit"] = int(props["throttle_burst"])
    if props.get("throttle_rate") is not None:
        settings["ThrottlingRateLimit"] = float(props["throttle_rate"])
    return settings


class HttpApiProvider(Provider):
    type_name: ClassVar[str] = "aws.apigw.http_api"
    stable_outputs: ClassVar[frozenset[str]] = frozenset({"api_id", "endpoint", "arn"})

    def create(self, ctx: ProviderContext, address: str, props: Props) -> Created:
        api = ctx.client("apigatewayv2")
        name = str(props["name"])
        resp = call(address, api, "create_api", Name=name, ProtocolType="HTTP", Tags=tags_of(props))
        api_id = str(resp["ApiId"])
        self._create_stage(ctx, address, api_id, props)
        return Created(api_id, require(self.read(ctx, address, api_id, props), address, f"HTTP API {api_id}"))

    def _create_stage(self, ctx: ProviderContext, address: str, api_id: str, props: Props) -> None:
        kwargs: dict[str, Any] = {"ApiId": api_id, "StageName": STAGE, "AutoDeploy": True}
        settings = _route_settings(props)
        if settings:
            kwargs["DefaultRouteSettings"] = settings
        tags = tags_of(props)
        if tags:
            kwargs["Tags"] = tags
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
        api = ctx.client("apigatewayv2")
        if old.get("name") != new.get("name"):
            call(address, api, "update_api", ApiId=physical_id, Name=str(new["name"]))
        if _route_settings(old) != _route_settings(new):
            if ctx.aws.settings.local:
                # moto (the embedded local cloud) has no UpdateStage: recreate the stage there.
                ignore_not_found(address, api, "delete_stage", ApiId=physical_id, StageName=STAGE)
                self._create_stage(ctx, address, physical_id, new)
            else:
                call(
                    address,
                    api,
                    "update_stage",
                    ApiId=physical_id,
                    StageName=STAGE,
                    AutoDeploy=True,
                    DefaultRouteSettings=_route_settings(new),
                )
        to_set, to_remove = tag_changes(tags_of(old), tags_of(new))
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
        api = ctx.client("apigatewayv2")
        name = str(props["name"])
        token: str | None = None
        while True:
            kwargs: dict[str, Any] = {"NextToken": token} if token else {}
            page = call(address, api, "get_apis", **kwargs)
            for item in page.get("Items", []):
                if item.get("Name") == name and owned(ctx, props, dict(item.get("Tags") or {})):
                    api_id = str(item["ApiId"])
                    outputs = self.read(ctx, address, api_id, props)
                    if outputs is None:
                        continue
                    if outputs["observed"]["stage"] is None:  # interrupted between the API and its stage
                        self._create_stage(ctx, address, api_id, props)
                        outputs = require(self.read(ctx, address, api_id, props), address, api_id)
                    return Created(api_id, outputs)
            token = page.get("NextToken")
            if not token:
                return None

    def drift(self, props: Props, live: Outputs) -> dict[str, tuple[Any, Any]]:
        out = super().drift(props, live)
        if live.get("observed", {}).get("stage") is None:
            out["stage"] = (None, STAGE)
        return out
