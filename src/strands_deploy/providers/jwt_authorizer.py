"""aws.apigw.jwt_authorizer: a JWT authorizer of the shared HTTP API, for routes with ``auth: jwt``.

API Gateway reads the bearer token from the ``Authorization`` header, checks its signature with the
issuer's published keys (``<issuer>/.well-known/openid-configuration``), its ``iss`` against
``issuer``, its ``aud`` (or ``client_id``) against ``audience`` and its ``exp``/``nbf``, and passes
the claims to the function. A route uses it through ``authorization: JWT`` + ``authorizer_id``.

Physical id: the authorizer id, which API Gateway assigns (``random_id``): the engine calls ``find``
before ``create``, and ``find`` recognises ours by (api_id, name) - authorizers carry no tags.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

from strands_deploy.aws.errors import call, call_or_none, ignore_not_found
from strands_deploy.providers._common import paginate, require
from strands_deploy.providers.base import Created, Outputs, Props, PropsModel, Provider, ProviderContext

IDENTITY_SOURCE = ["$request.header.Authorization"]


class JwtAuthorizerProps(PropsModel):
    api_id: str
    name: str
    issuer: str  # "https://cognito-idp.<region>.amazonaws.com/<pool id>", "https://<tenant>.auth0.com/"
    audience: list[str]  # accepted ``aud`` / ``client_id`` values (at least one)


def _jwt_configuration(p: JwtAuthorizerProps) -> dict[str, Any]:
    return {"Issuer": p.issuer, "Audience": list(p.audience)}


class JwtAuthorizerProvider(Provider):
    type_name: ClassVar[str] = "aws.apigw.jwt_authorizer"
    props_model: ClassVar[type[PropsModel]] = JwtAuthorizerProps
    random_id: ClassVar[bool] = True
    replace_on: ClassVar[frozenset[str]] = frozenset({"api_id"})
    # ``name`` changes in place (UpdateAuthorizer), so only the id is stable.
    stable_outputs: ClassVar[frozenset[str]] = frozenset({"authorizer_id"})

    def create(self, ctx: ProviderContext, address: str, props: Props) -> Created:
        p = JwtAuthorizerProps.parse(props, address)
        resp = call(
            address,
            ctx.client("apigatewayv2"),
            "create_authorizer",
            ApiId=p.api_id,
            Name=p.name,
            AuthorizerType="JWT",
            IdentitySource=IDENTITY_SOURCE,
            JwtConfiguration=_jwt_configuration(p),
        )
        authorizer_id = str(resp["AuthorizerId"])
        return Created(
            authorizer_id,
            require(self.read(ctx, address, authorizer_id, props), address, f"authorizer {authorizer_id}"),
        )

    def read(self, ctx: ProviderContext, address: str, physical_id: str, props: Props) -> Outputs | None:
        p = JwtAuthorizerProps.parse_recorded(props)
        if not p.api_id:
            return None  # a record that never knew its API: nothing to look up
        resp = call_or_none(
            address, ctx.client("apigatewayv2"), "get_authorizer", ApiId=p.api_id, AuthorizerId=physical_id
        )
        if resp is None:  # the authorizer, or its whole API, is gone
            return None
        jwt = resp.get("JwtConfiguration") or {}
        observed: dict[str, Any] = {
            "api_id": p.api_id,
            "name": resp.get("Name"),
            "issuer": jwt.get("Issuer"),
            "audience": list(jwt.get("Audience") or []),
            "authorizer_type": resp.get("AuthorizerType"),
            "identity_source": list(resp.get("IdentitySource") or []),
        }
        return {"authorizer_id": resp["AuthorizerId"], "name": resp.get("Name"), "observed": observed}

    def update(
        self,
        ctx: ProviderContext,
        address: str,
        physical_id: str,
        old: Props,
        new: Props,
        outputs: Outputs,
    ) -> Outputs:
        before, after = JwtAuthorizerProps.parse_recorded(old), JwtAuthorizerProps.parse(new, address)
        changes: dict[str, Any] = {}
        if before.name != after.name:
            changes["Name"] = after.name
        if before.issuer != after.issuer or _audience(before.audience) != _audience(after.audience):
            changes["JwtConfiguration"] = _jwt_configuration(after)
        if changes:
            call(
                address,
                ctx.client("apigatewayv2"),
                "update_authorizer",
                ApiId=after.api_id,
                AuthorizerId=physical_id,
                **changes,
            )
        return require(self.read(ctx, address, physical_id, new), address, f"authorizer {physical_id}")

    def delete(
        self, ctx: ProviderContext, address: str, physical_id: str, props: Props, outputs: Outputs
    ) -> None:
        p = JwtAuthorizerProps.parse_recorded(props)
        if not p.api_id:
            return
        ignore_not_found(
            address, ctx.client("apigatewayv2"), "delete_authorizer", ApiId=p.api_id, AuthorizerId=physical_id
        )

    def find(self, ctx: ProviderContext, address: str, props: Props) -> Created | None:
        # Authorizers carry no tags: an authorizer name within an API is this resource's identity.
        p = JwtAuthorizerProps.parse(props, address)
        for item in self._candidates(ctx, address, p.api_id):
            if item.get("Name") == p.name and item.get("AuthorizerType") == "JWT":
                authorizer_id = str(item["AuthorizerId"])
                outputs = self.read(ctx, address, authorizer_id, props)
                if outputs is not None:
                    return Created(authorizer_id, outputs)
        return None

    def _candidates(self, ctx: ProviderContext, address: str, api_id: str) -> Iterator[dict[str, Any]]:
        """The API's authorizers (GetAuthorizers), lazily, page by page.

        moto (the embedded local cloud) has no GetAuthorizers (it answers 500): there, the
        authorizers the API's routes use are looked up one by one (GetRoutes, GetAuthorizer), so an
        authorizer that no route uses yet is not found locally and a retried create makes another.
        """
        api = ctx.client("apigatewayv2")
        if not ctx.aws.settings.local:
            for page in paginate(address, api, "get_authorizers", missing_ok=True, ApiId=api_id):
                yield from page.get("Items", [])
            return
        seen: set[str] = set()
        for page in paginate(address, api, "get_routes", missing_ok=True, ApiId=api_id):
            for route in page.get("Items", []):
                authorizer_id = str(route.get("AuthorizerId") or "")
                if authorizer_id and authorizer_id not in seen:
                    seen.add(authorizer_id)
                    item = call_or_none(
                        address, api, "get_authorizer", ApiId=api_id, AuthorizerId=authorizer_id
                    )
                    if item is not None:
                        yield item

    def drift(self, props: Props, live: Outputs) -> dict[str, tuple[Any, Any]]:
        out = super().drift(props, live)
        observed = live.get("observed", {})
        # The audience is a set: AWS may return it in another order.
        if "audience" in out and _audience(observed.get("audience")) == _audience(props.get("audience")):
            del out["audience"]
        return out


def _audience(values: Any) -> list[str]:
    return sorted(str(v) for v in values or [])
