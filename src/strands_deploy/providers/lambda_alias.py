"""aws.lambda.alias: the ``live`` alias, pointing at a version published from the function.

With ``traffic: hold`` (an agent deployed by a canary, linear or blue-green rollout), an update
publishes the new version and leaves the alias where it is: its ``candidate`` output names the new
version and :mod:`strands_deploy.rollout` moves the traffic (``set_routing``). Pruning never
deletes a version an alias routes to (primary or weighted) nor one in ``keep`` (rollback targets).

Create: publish_version then create_alias. Update (the function's ``revision`` changed):
publish_version then update_alias. Both retry while a function update is still in progress.
After moving the alias, old versions no alias points to are deleted, keeping the newest
``KEEP_VERSIONS`` for a quick manual rollback, so versions do not pile up in code storage (75 GB
per account and region).
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from strands_deploy.aws.errors import call, call_or_none, error_code, ignore_not_found
from strands_deploy.aws.waiters import retry_while, update_in_progress
from strands_deploy.errors import StrandsDeployError
from strands_deploy.providers._common import function_name_of, paginate_or_none
from strands_deploy.providers.base import Created, Outputs, Props, PropsModel, Provider, ProviderContext

KEEP_VERSIONS = 3


class AliasProps(PropsModel):
    function_name: str  # a name or (qualified) ARN
    name: str = "live"
    # the function's `revision` output: a change publishes a new version and moves the alias
    revision: str | None = None
    # "hold": an update publishes but does not move the alias (a rollout moves it); None: all
    traffic: Literal["all", "hold"] | None = None
    # a published version to point at instead of publishing one (an HTTP API stage's pin,
    # ``stage-<name>``): the alias never moves by itself, and pruning keeps what it points at
    version: str | None = None


def _split(alias_arn: str) -> tuple[str, str]:
    """(function name, alias name) of an alias ARN."""
    parts = alias_arn.split(":")
    return parts[6], parts[7]


class AliasProvider(Provider):
    type_name: ClassVar[str] = "aws.lambda.alias"
    props_model: ClassVar[type[PropsModel]] = AliasProps
    replace_on: ClassVar[frozenset[str]] = frozenset({"function_name", "name"})

    def _publish(self, ctx: ProviderContext, address: str, function_name: str) -> str:
        # No readiness poll here: the function's provider returns only once the function is Active
        # with a successful last update, and a 409 meanwhile (someone else's update) is retried.
        lam = ctx.client("lambda")
        ctx.progress(address, "publishing a version")
        resp = retry_while(
            ctx,
            address,
            "lambda:PublishVersion",
            lambda: call(address, lam, "publish_version", FunctionName=function_name),
            update_in_progress,
            timeout=300,
        )
        return str(resp["Version"])

    def create(self, ctx: ProviderContext, address: str, props: Props) -> Created:
        p = AliasProps.parse(props, address)
        lam = ctx.client("lambda")
        function_name = function_name_of(p.function_name)
        alias = p.name or "live"
        version = _pinned(ctx, address, function_name, p.version) or self._publish(
            ctx, address, function_name
        )
        resp = retry_while(
            ctx,
            address,
            "lambda:CreateAlias",
            lambda: call(
                address,
                lam,
                "create_alias",
                resource_name=alias,
                FunctionName=function_name,
                Name=alias,
                FunctionVersion=version,
            ),
            update_in_progress,
            timeout=300,
        )
        # outputs from the response: a read-back would spend the Lambda control-plane quota (15/s)
        return Created(str(resp["AliasArn"]), _outputs(resp, function_name))

    def read(self, ctx: ProviderContext, address: str, physical_id: str, props: Props) -> Outputs | None:
        function_name, alias = _split(physical_id)
        resp = call_or_none(
            address, ctx.client("lambda"), "get_alias", FunctionName=function_name, Name=alias
        )
        if resp is None:
            return None
        return _outputs(resp, function_name)

    def update(
        self,
        ctx: ProviderContext,
        address: str,
        physical_id: str,
        old: Props,
        new: Props,
        outputs: Outputs,
    ) -> Outputs:
        lam = ctx.client("lambda")
        function_name, alias = _split(physical_id)
        pinned = _pinned(ctx, address, function_name, AliasProps.parse(new, address).version)
        version = pinned or self._publish(ctx, address, function_name)
        if AliasProps.parse(new, address).traffic == "hold":
            current = call(address, lam, "get_alias", FunctionName=function_name, Name=alias)
            if str(current["FunctionVersion"]) != version:
                # the rollout moves the traffic; the alias keeps serving what it served
                return {**_outputs(current, function_name), "candidate": version}
        resp = retry_while(
            ctx,
            address,
            "lambda:UpdateAlias",
            lambda: call(
                address, lam, "update_alias", FunctionName=function_name, Name=alias, FunctionVersion=version
            ),
            update_in_progress,
            timeout=300,
        )
        if not pinned:
            self._prune(ctx, address, function_name)
        return _outputs(resp, function_name)

    def _prune(self, ctx: ProviderContext, address: str, function_name: str) -> None:
        """Pruning is housekeeping: it runs in the background (the alias already moved, so the
        deploy's own path does not wait for two listings), and the process waits for it before
        it exits. A failure is a note; the next deploy prunes again."""

        def run() -> None:
            try:
                prune_versions(ctx, address, function_name)
            except StrandsDeployError as err:
                ctx.progress(address, f"old versions not pruned: {err.what}")

        ctx.in_background(f"prune {function_name}", run)

    def delete(
        self, ctx: ProviderContext, address: str, physical_id: str, props: Props, outputs: Outputs
    ) -> None:
        function_name, alias = _split(physical_id)
        ignore_not_found(
            address, ctx.client("lambda"), "delete_alias", FunctionName=function_name, Name=alias
        )

    def find(self, ctx: ProviderContext, address: str, props: Props) -> Created | None:
        # Aliases carry no tags: found by (function, alias name), both deterministic.
        p = AliasProps.parse(props, address)
        function_name = function_name_of(p.function_name)
        alias = p.name or "live"
        resp = call_or_none(
            address, ctx.client("lambda"), "get_alias", FunctionName=function_name, Name=alias
        )
        if resp is None:
            return None
        arn = str(resp["AliasArn"])
        outputs = self.read(ctx, address, arn, props)
        return Created(arn, outputs) if outputs is not None else None

    def drift(self, props: Props, live: Outputs) -> dict[str, tuple[Any, Any]]:
        p = AliasProps.parse_recorded(props)
        want = {**props, "function_name": function_name_of(p.function_name or "")}
        want.pop("traffic", None)
        want.pop("version", None)
        out = super().drift(want, live)
        if p.version and live.get("version") != p.version:
            out["version"] = (live.get("version"), p.version)
        return out


def _pinned(ctx: ProviderContext, address: str, function_name: str, version: str | None) -> str | None:
    """``version`` once checked to exist (None when the alias publishes its own)."""
    if version is None:
        return None
    if not version_exists(ctx, address, function_name, version):
        raise StrandsDeployError(
            f"version {version} of {function_name} does not exist (pruned, or never published)",
            address,
            "pin a version listed by `strands-deploy versions AGENT`",
        )
    return version


def prune_versions(
    ctx: ProviderContext, address: str, function_name: str, keep_also: set[str] | frozenset[str] = frozenset()
) -> None:
    """Delete published versions that no alias uses (as primary or by weight), except the newest
    KEEP_VERSIONS and ``keep_also`` (versions a rollback needs).

    Skipped on a local emulator: storage costs nothing there, and moto numbers a new version
    ``len(versions) + 1``, so deleting old ones would make it reuse a version number.
    """
    if ctx.aws.settings.local:
        return
    lam = ctx.client("lambda")
    pages = paginate_or_none(address, lam, "list_versions_by_function", FunctionName=function_name)
    if pages is None:
        return
    versions = [
        int(v["Version"]) for page in pages for v in page.get("Versions", []) if v["Version"].isdigit()
    ]
    alias_pages = paginate_or_none(address, lam, "list_aliases", FunctionName=function_name) or []
    routed = [
        v
        for page in alias_pages
        for a in page.get("Aliases", [])
        for v in [
            a["FunctionVersion"],
            *((a.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {}),
        ]
    ]
    in_use = {int(v) for v in [*routed, *keep_also] if str(v).isdigit()}
    keep = set(sorted(set(versions))[-KEEP_VERSIONS:]) | in_use
    for number in sorted(set(versions) - keep):
        try:
            ignore_not_found(
                address, lam, "delete_function", FunctionName=function_name, Qualifier=str(number)
            )
        except StrandsDeployError as err:
            # A version still referenced elsewhere (an event source mapping...) is left alone:
            # pruning is housekeeping and must not fail a deploy.
            if error_code(err) != "ResourceConflictException":
                raise
            ctx.progress(address, f"kept version {number}: {err.what}")


def _outputs(resp: dict[str, Any], function_name: str) -> Outputs:
    """Outputs from a GetAlias, CreateAlias or UpdateAlias response (the same shape)."""
    return {
        "arn": resp["AliasArn"],
        "name": resp["Name"],
        "version": str(resp["FunctionVersion"]),
        "observed": {"name": resp["Name"], "function_name": function_name},
    }


def alias_state(ctx: ProviderContext, address: str, function_name: str, alias: str) -> dict[str, Any] | None:
    """The alias as Lambda has it: ``{"version", "weights": {version: weight}, "arn"}``; None if gone."""
    resp = call_or_none(address, ctx.client("lambda"), "get_alias", FunctionName=function_name, Name=alias)
    if resp is None:
        return None
    weights = (resp.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {}
    return {
        "version": str(resp["FunctionVersion"]),
        "weights": {str(k): float(v) for k, v in weights.items()},
        "arn": str(resp["AliasArn"]),
    }


def set_routing(
    ctx: ProviderContext,
    address: str,
    function_name: str,
    alias: str,
    primary: str,
    weights: dict[str, float] | None = None,
) -> None:
    """Point ``alias`` at ``primary`` with ``weights`` ({version: 0..1}) going to other versions
    (none: all traffic to ``primary``). One UpdateAlias: the switch is atomic and instant."""
    extra = {v: round(w, 4) for v, w in (weights or {}).items() if v != primary and w > 0}
    call(
        address,
        ctx.client("lambda"),
        "update_alias",
        FunctionName=function_name,
        Name=alias,
        FunctionVersion=primary,
        RoutingConfig={"AdditionalVersionWeights": extra},
    )


def ensure_alias(ctx: ProviderContext, address: str, function_name: str, alias: str, version: str) -> str:
    """Create ``alias`` on ``version``, or move it there; its ARN (blue-green's ``…-green``)."""
    lam = ctx.client("lambda")
    current = call_or_none(address, lam, "get_alias", FunctionName=function_name, Name=alias)
    if current is None:
        resp = call(
            address, lam, "create_alias", FunctionName=function_name, Name=alias, FunctionVersion=version
        )
    else:
        resp = call(
            address,
            lam,
            "update_alias",
            FunctionName=function_name,
            Name=alias,
            FunctionVersion=version,
            RoutingConfig={"AdditionalVersionWeights": {}},
        )
    return str(resp["AliasArn"])


def delete_alias(ctx: ProviderContext, address: str, function_name: str, alias: str) -> None:
    ignore_not_found(address, ctx.client("lambda"), "delete_alias", FunctionName=function_name, Name=alias)


def version_exists(ctx: ProviderContext, address: str, function_name: str, version: str) -> bool:
    resp = call_or_none(
        address,
        ctx.client("lambda"),
        "get_function_configuration",
        FunctionName=function_name,
        Qualifier=version,
    )
    return resp is not None
