"""aws.apigw.lambda_route: one route of the HTTP API to the agent's alias.

An AWS_PROXY integration (payload format 2.0) to ``function_arn``, a route ``route_key`` targeting
it, and a resource-policy statement on the function (alias) that lets API Gateway invoke it, scoped
by SourceArn to this API, method and path. Physical id: the route id.

``authorization`` is the route's AuthorizationType: ``NONE`` (anyone who can reach the URL),
``AWS_IAM`` (SigV4-signed requests whose caller IAM allows ``execute-api:Invoke``) or ``JWT``
(a bearer token checked by the ``aws.apigw.jwt_authorizer`` named by ``authorizer_id``). A route
whose authorization was changed by hand is drift, so ``plan`` shows it and ``deploy`` puts it back.

Note: API Gateway HTTP APIs end an integration after 30 seconds; longer agent runs need a URL.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar, Literal

from pydantic import model_validator

from strands_deploy.aws.arns import partition_for
from strands_deploy.aws.errors import call, call_or_none, ignore_not_found
from strands_deploy.errors import StrandsDeployError
from strands_deploy.providers._common import (
    arn_parts,
    function_name_of,
    paginate,
    require,
)
from strands_deploy.providers.base import (
    Created,
    Outputs,
    Props,
    PropsModel,
    Provider,
    ProviderContext,
    stable_hash,
)


class LambdaRouteProps(PropsModel):
    api_id: str
    route_key: str  # "POST /agents/support"
    function_arn: str  # what API Gateway invokes: the alias ARN
    function_name: str | None = None  # for the resource policy; default: from function_arn
    qualifier: str | None = None  # the alias the resource-policy statement goes on
    authorization: Literal["NONE", "AWS_IAM", "JWT"] = "NONE"
    authorizer_id: str | None = None  # the JWT authorizer's id: set exactly when authorization is JWT

    @model_validator(mode="after")
    def _authorizer_for_jwt(self) -> LambdaRouteProps:
        # An authorizer the route would not use, or a JWT route without one, is never dropped
        # silently: AWS would refuse the second, and the first means synthesis lost the auth setting.
        if self.authorization == "JWT" and not self.authorizer_id:
            raise ValueError("authorization JWT needs authorizer_id (an aws.apigw.jwt_authorizer)")
        if self.authorization != "JWT" and self.authorizer_id:
            raise ValueError(f"authorizer_id is only used with authorization JWT, not {self.authorization}")
        return self

    @property
    def target_function(self) -> str:
        return function_name_of(self.function_name or self.function_arn)


def _method_path(route_key: str) -> tuple[str, str]:
    if route_key == "$default":
        return "*", "/*"
    method, _, path = route_key.partition(" ")
    return method.upper(), path or "/"


def _auth_kwargs(p: LambdaRouteProps, *, clear: bool = False) -> dict[str, Any]:
    """CreateRoute/UpdateRoute arguments for the route's authorization. ``clear``: the route had an
    authorizer, so a route leaving JWT sends an empty AuthorizerId to detach it."""
    kwargs: dict[str, Any] = {"AuthorizationType": p.authorization}
    if p.authorization == "JWT" and p.authorizer_id:
        kwargs["AuthorizerId"] = p.authorizer_id
    elif clear:
        kwargs["AuthorizerId"] = ""
    return kwargs


def statement_id(api_id: str, route_key: str) -> str:
    return f"strands-apigw-{api_id}-{stable_hash(route_key, 10)}"


def source_arn(ctx: ProviderContext, api_id: str, route_key: str, function_arn: str) -> str:
    """execute-api ARN allowed to invoke: this API, any stage, the route's method and path."""
    try:
        partition, region, account = arn_parts(function_arn)
    except ValueError:
        region = ctx.aws.region
        partition, account = partition_for(region), ctx.aws.account_id()
    method, path = _method_path(route_key)
    method = "*" if method == "ANY" else method
    # Path parameters ({id}, {proxy+}) match any value.
    path = re.sub(r"\{[^}]+\}", "*", path)
    return f"arn:{partition}:execute-api:{region}:{account}:{api_id}/*/{method}{path}"


class LambdaRouteProvider(Provider):
    type_name: ClassVar[str] = "aws.apigw.lambda_route"
    props_model: ClassVar[type[PropsModel]] = LambdaRouteProps
    replace_on: ClassVar[frozenset[str]] = frozenset({"api_id"})
    stable_outputs: ClassVar[frozenset[str]] = frozenset({"route_id", "integration_id"})

    def create(self, ctx: ProviderContext, address: str, props: Props) -> Created:
        p = LambdaRouteProps.parse(props, address)
        api = ctx.client("apigatewayv2")
        api_id = p.api_id
        integration = call(
            address,
            api,
            "create_integration",
            ApiId=api_id,
            IntegrationType="AWS_PROXY",
            IntegrationUri=p.function_arn,
            PayloadFormatVersion="2.0",
        )
        integration_id = str(integration["IntegrationId"])
        try:
            route = call(
                address,
                api,
                "create_route",
                ApiId=api_id,
                RouteKey=p.route_key,
                Target=f"integrations/{integration_id}",
                **_auth_kwargs(p),
            )
        except StrandsDeployError:
            ignore_not_found(address, api, "delete_integration", ApiId=api_id, IntegrationId=integration_id)
            raise
        route_id = str(route["RouteId"])
        self._grant(ctx, address, p)
        return Created(
            route_id, require(self.read(ctx, address, route_id, props), address, f"route {route_id}")
        )

    def _grant(self, ctx: ProviderContext, address: str, p: LambdaRouteProps) -> None:
        lam = ctx.client("lambda")
        self._revoke(ctx, address, p)  # replace, so a retried create never conflicts
        kwargs: dict[str, Any] = {
            "FunctionName": p.target_function,
            "StatementId": statement_id(p.api_id, p.route_key),
            "Action": "lambda:InvokeFunction",
            "Principal": "apigateway.amazonaws.com",
            "SourceArn": source_arn(ctx, p.api_id, p.route_key, p.function_arn),
        }
        if p.qualifier:
            kwargs["Qualifier"] = p.qualifier
        call(address, lam, "add_permission", **kwargs)

    def _revoke(self, ctx: ProviderContext, address: str, p: LambdaRouteProps) -> None:
        if not (p.function_name or p.function_arn) or not p.api_id:
            return  # a recorded route whose target was never known: no statement of ours to remove
        kwargs: dict[str, Any] = {
            "FunctionName": p.target_function,
            "StatementId": statement_id(p.api_id, p.route_key),
        }
        if p.qualifier:
            kwargs["Qualifier"] = p.qualifier
        ignore_not_found(address, ctx.client("lambda"), "remove_permission", **kwargs)

    def read(self, ctx: ProviderContext, address: str, physical_id: str, props: Props) -> Outputs | None:
        p = LambdaRouteProps.parse_recorded(props)
        api = ctx.client("apigatewayv2")
        api_id = p.api_id
        route = call_or_none(address, api, "get_route", ApiId=api_id, RouteId=physical_id)
        if route is None:
            return None
        target = str(route.get("Target") or "")
        integration_id = target.removeprefix("integrations/") if target.startswith("integrations/") else None
        observed: dict[str, Any] = {
            "route_key": route["RouteKey"],
            "api_id": api_id,
            "authorization": route.get("AuthorizationType") or "NONE",
            # AWS (and moto) report a detached authorizer as "" or not at all
            "authorizer_id": route.get("AuthorizerId") or None,
        }
        if integration_id:
            integration = call_or_none(
                address, api, "get_integration", ApiId=api_id, IntegrationId=integration_id
            )
            if integration is not None:
                observed["function_arn"] = integration.get("IntegrationUri")
                observed["payload_format_version"] = integration.get("PayloadFormatVersion")
        api_resp = call_or_none(address, api, "get_api", ApiId=api_id)
        endpoint = str((api_resp or {}).get("ApiEndpoint") or "")
        path = _method_path(str(route["RouteKey"]))[1]
        return {
            "route_id": route["RouteId"],
            "integration_id": integration_id,
            "url": endpoint + ("" if path == "/*" else path),
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
        before, after = LambdaRouteProps.parse_recorded(old), LambdaRouteProps.parse(new, address)
        api = ctx.client("apigatewayv2")
        api_id = after.api_id
        integration_id = outputs.get("integration_id")
        if not integration_id:
            live = require(self.read(ctx, address, physical_id, old), address, f"route {physical_id}")
            integration_id = live.get("integration_id")
        if before.function_arn != after.function_arn and integration_id:
            call(
                address,
                api,
                "update_integration",
                ApiId=api_id,
                IntegrationId=str(integration_id),
                IntegrationUri=after.function_arn,
                PayloadFormatVersion="2.0",
            )
        route_changes: dict[str, Any] = {}
        if before.route_key != after.route_key:
            route_changes["RouteKey"] = after.route_key
        if (before.authorization, before.authorizer_id) != (after.authorization, after.authorizer_id):
            # ``before`` may be None-valued (a record of another version): clear to be sure
            route_changes.update(_auth_kwargs(after, clear=before.authorizer_id != after.authorizer_id))
        if route_changes:
            call(address, api, "update_route", ApiId=api_id, RouteId=physical_id, **route_changes)
        permission_keys = ("function_arn", "function_name", "qualifier", "route_key")
        if any(getattr(before, k) != getattr(after, k) for k in permission_keys):
            self._revoke(ctx, address, before)
            self._grant(ctx, address, after)
        return require(self.read(ctx, address, physical_id, new), address, f"route {physical_id}")

    def delete(
        self, ctx: ProviderContext, address: str, physical_id: str, props: Props, outputs: Outputs
    ) -> None:
        p = LambdaRouteProps.parse_recorded(props)
        api = ctx.client("apigatewayv2")
        api_id = p.api_id
        integration_id = outputs.get("integration_id")
        if not integration_id:
            live = self.read(ctx, address, physical_id, props)
            integration_id = (live or {}).get("integration_id")
        ignore_not_found(address, api, "delete_route", ApiId=api_id, RouteId=physical_id)
        if integration_id:
            ignore_not_found(
                address, api, "delete_integration", ApiId=api_id, IntegrationId=str(integration_id)
            )
        self._revoke(ctx, address, p)

    def find(self, ctx: ProviderContext, address: str, props: Props) -> Created | None:
        # Routes carry no tags: a route key is unique within its API, so (api_id, route_key) is
        # this route's identity.
        p = LambdaRouteProps.parse(props, address)
        api = ctx.client("apigatewayv2")
        for page in paginate(address, api, "get_routes", missing_ok=True, ApiId=p.api_id):
            for route in page.get("Items", []):
                if route.get("RouteKey") == p.route_key:
                    route_id = str(route["RouteId"])
                    outputs = self.read(ctx, address, route_id, props)
                    if outputs is None:
                        continue
                    self._grant(ctx, address, p)  # the interrupted run may not have got this far
                    return Created(route_id, outputs)
        return None

    def drift(self, props: Props, live: Outputs) -> dict[str, tuple[Any, Any]]:
        # The route's authorization is compared even when the recorded properties predate it (their
        # default is NONE): a route opened or closed by hand is drift either way.
        out = super().drift(props, live)
        observed = live.get("observed", {})
        p = LambdaRouteProps.parse_recorded(props)
        for key in ("authorization", "authorizer_id"):
            want = getattr(p, key)
            if key in observed and key not in out and observed[key] != want:
                out[key] = (observed[key], want)
        return out
