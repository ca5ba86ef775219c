"""aws.lambda.url: a function URL on the alias (qualifier), with auth type and CORS.

For ``auth: NONE`` the function's resource policy must let anyone invoke it through the URL: a
``lambda:InvokeFunctionUrl`` statement with FunctionUrlAuthType NONE and, as AWS requires for URLs
created since October 2025, a ``lambda:InvokeFunction`` statement limited to calls made via the URL.
Physical id: ``function:qualifier``.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from strands_deploy.aws.errors import AwsCallError, call, call_or_none, ignore_not_found
from strands_deploy.providers._common import function_name_of, require
from strands_deploy.providers.base import Created, Outputs, Props, PropsModel, Provider, ProviderContext


class FunctionUrlProps(PropsModel):
    function_name: str  # a name or (qualified) ARN
    qualifier: str = "live"
    auth: Literal["NONE", "AWS_IAM"] = "AWS_IAM"
    # strands.yaml CORS (snake_case keys) or API-shaped CORS; None: no CORS
    cors: dict[str, Any] | None = None


URL_SID = "strands-url-public"
INVOKE_SID = "strands-url-public-invoke"

_CORS_KEYS = {
    "allow_origins": "AllowOrigins",
    "allow_methods": "AllowMethods",
    "allow_headers": "AllowHeaders",
    "expose_headers": "ExposeHeaders",
    "allow_credentials": "AllowCredentials",
    "max_age": "MaxAge",
}


def cors_param(cors: dict[str, Any] | None) -> dict[str, Any]:
    """strands.yaml CORS (snake_case) or API-shaped CORS → the Lambda URL ``Cors`` parameter."""
    out: dict[str, Any] = {}
    for key, value in (cors or {}).items():
        if value is None:
            continue
        out[_CORS_KEYS.get(key, key)] = value
    return out


def _split(physical_id: str) -> tuple[str, str]:
    function_name, _, qualifier = physical_id.partition(":")
    return function_name, qualifier


class FunctionUrlProvider(Provider):
    type_name: ClassVar[str] = "aws.lambda.url"
    props_model: ClassVar[type[PropsModel]] = FunctionUrlProps
    replace_on: ClassVar[frozenset[str]] = frozenset({"function_name", "qualifier"})
    stable_outputs: ClassVar[frozenset[str]] = frozenset({"url", "function_arn"})

    def create(self, ctx: ProviderContext, address: str, props: Props) -> Created:
        p = FunctionUrlProps.parse(props, address)
        function_name = function_name_of(p.function_name)
        qualifier = p.qualifier or "live"
        auth = p.auth
        kwargs: dict[str, Any] = {"FunctionName": function_name, "Qualifier": qualifier, "AuthType": auth}
        cors = cors_param(p.cors)
        if cors:
            kwargs["Cors"] = cors
        lam = ctx.client("lambda")
        if auth != "NONE":
            resp = call(address, lam, "create_function_url_config", resource_name=function_name, **kwargs)
        else:
            # the two statements change one resource policy (one after the other); the URL itself
            # is another object: created meanwhile (a public grant without a URL opens nothing)
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(max_workers=1) as pool:
                made = pool.submit(
                    call, address, lam, "create_function_url_config", resource_name=function_name, **kwargs
                )
                self._allow_public(ctx, address, function_name, qualifier)
                resp = made.result()
        # outputs from the response: a read-back would spend the Lambda control-plane quota (15/s)
        return Created(f"{function_name}:{qualifier}", _outputs(resp, function_name, qualifier))

    def _allow_public(self, ctx: ProviderContext, address: str, function_name: str, qualifier: str) -> None:
        self._grant(
            ctx,
            address,
            function_name,
            qualifier,
            URL_SID,
            Action="lambda:InvokeFunctionUrl",
            Principal="*",
            FunctionUrlAuthType="NONE",
        )
        self._grant(
            ctx,
            address,
            function_name,
            qualifier,
            INVOKE_SID,
            Action="lambda:InvokeFunction",
            Principal="*",
            InvokedViaFunctionUrl=True,
        )

    def _grant(
        self, ctx: ProviderContext, address: str, function_name: str, qualifier: str, sid: str, **kwargs: Any
    ) -> None:
        """Add the statement; only if one with this id already exists, replace it. (Removing first
        every time would cost two Lambda control-plane calls per URL, against a 15/s quota.)"""
        lam = ctx.client("lambda")
        target = {"FunctionName": function_name, "Qualifier": qualifier, "StatementId": sid}
        try:
            call(address, lam, "add_permission", **target, **kwargs)
        except AwsCallError as e:
            if e.code != "ResourceConflictException":
                raise
            ignore_not_found(address, lam, "remove_permission", **target)
            call(address, lam, "add_permission", **target, **kwargs)

    def _revoke_public(self, ctx: ProviderContext, address: str, function_name: str, qualifier: str) -> None:
        lam = ctx.client("lambda")
        for sid in (URL_SID, INVOKE_SID):
            ignore_not_found(
                address,
                lam,
                "remove_permission",
                FunctionName=function_name,
                Qualifier=qualifier,
                StatementId=sid,
            )

    def read(self, ctx: ProviderContext, address: str, physical_id: str, props: Props) -> Outputs | None:
        function_name, qualifier = _split(physical_id)
        resp = call_or_none(
            address,
            ctx.client("lambda"),
            "get_function_url_config",
            FunctionName=function_name,
            Qualifier=qualifier,
        )
        if resp is None:
            return None
        return _outputs(resp, function_name, qualifier)

    def update(
        self,
        ctx: ProviderContext,
        address: str,
        physical_id: str,
        old: Props,
        new: Props,
        outputs: Outputs,
    ) -> Outputs:
        before, after = FunctionUrlProps.parse_recorded(old), FunctionUrlProps.parse(new, address)
        function_name, qualifier = _split(physical_id)
        old_auth, new_auth = before.auth, after.auth
        if old_auth != new_auth or before.cors != after.cors:
            call(
                address,
                ctx.client("lambda"),
                "update_function_url_config",
                FunctionName=function_name,
                Qualifier=qualifier,
                AuthType=new_auth,
                # An empty Cors clears it.
                Cors=cors_param(after.cors),
            )
        if new_auth == "NONE" and old_auth != "NONE":
            self._allow_public(ctx, address, function_name, qualifier)
        elif old_auth == "NONE" and new_auth != "NONE":
            self._revoke_public(ctx, address, function_name, qualifier)
        return require(self.read(ctx, address, physical_id, new), address, physical_id)

    def delete(
        self, ctx: ProviderContext, address: str, physical_id: str, props: Props, outputs: Outputs
    ) -> None:
        function_name, qualifier = _split(physical_id)
        ignore_not_found(
            address,
            ctx.client("lambda"),
            "delete_function_url_config",
            FunctionName=function_name,
            Qualifier=qualifier,
        )
        self._revoke_public(ctx, address, function_name, qualifier)

    def find(self, ctx: ProviderContext, address: str, props: Props) -> Created | None:
        # URLs carry no tags: found by (function, qualifier), both deterministic.
        p = FunctionUrlProps.parse(props, address)
        physical_id = f"{function_name_of(p.function_name)}:{p.qualifier or 'live'}"
        outputs = self.read(ctx, address, physical_id, props)
        if outputs is None:
            return None
        # An interrupted create may have made the URL but not the permission: make sure of it.
        if p.auth == "NONE":
            self._allow_public(ctx, address, *_split(physical_id))
        return Created(physical_id, outputs)

    def drift(self, props: Props, live: Outputs) -> dict[str, tuple[Any, Any]]:
        p = FunctionUrlProps.parse_recorded(props)
        want: dict[str, Any] = {"auth": p.auth}
        observed = live.get("observed", {})
        want_cors = cors_param(p.cors) or None
        live_cors = observed.get("cors")
        out = super().drift(want, live)
        if _norm_cors(want_cors) != _norm_cors(live_cors):
            out["cors"] = (live_cors, want_cors)
        return out


def _norm_cors(cors: dict[str, Any] | None) -> dict[str, Any]:
    """CORS as a comparable value: lists sorted and lower-cased where AWS normalises them."""
    out: dict[str, Any] = {}
    for key, value in (cors or {}).items():
        if value is None or value is False or value == [] or value == "":
            continue
        if isinstance(value, list):
            value = sorted(str(v).lower() for v in value)
        out[key] = value
    return out


def _outputs(resp: dict[str, Any], function_name: str, qualifier: str) -> Outputs:
    """Outputs from a Get/Create/UpdateFunctionUrlConfig response (the same fields)."""
    return {
        "url": resp["FunctionUrl"],
        "function_arn": resp["FunctionArn"],
        "observed": {
            "auth": resp.get("AuthType"),
            "cors": resp.get("Cors") or None,
            "qualifier": qualifier,
            "function_name": function_name,
        },
    }
