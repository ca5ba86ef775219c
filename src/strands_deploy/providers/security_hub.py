"""aws.securityhub.hub: AWS Security Hub enabled in the region, with AWS's default standards.

Security Hub is on or off per account and region (one hub, ARN ``.../hub/default``). Enabling it
with ``default_standards`` subscribes the account to the standards AWS enables by default (AWS
Foundational Security Best Practices and CIS AWS Foundations), whose controls then report
findings on the deployed functions, roles, tables and buckets.

A hub that is already enabled when this resource is created belongs to someone else (a security
team, an organisation's administrator): it is *adopted* as it is (its standards and tags are not
touched) and ``enabled_by_us`` is recorded false, so destroy never disables it. Only a hub this
resource enabled is disabled on destroy. A hub found without a state record (``find``) is always
treated as someone else's: the safe side, since nothing proves we enabled it.
"""

from __future__ import annotations

from typing import Any, ClassVar

from strands_deploy.aws.errors import AwsCallError, call
from strands_deploy.providers._common import require, tag_changes
from strands_deploy.providers.base import Created, Outputs, Props, PropsModel, Provider, ProviderContext

NOT_ENABLED = ("InvalidAccessException", "ResourceNotFoundException")
ALREADY_ENABLED = ("ResourceConflictException",)


class HubProps(PropsModel):
    default_standards: bool = True  # subscribe to AWS's default standards when enabling
    tags: dict[str, str] = {}


def _sh(ctx: ProviderContext) -> Any:
    factory: Any = ctx.client  # no boto3-stubs overload for "securityhub" in aws.session.ClientFactory
    return factory("securityhub")


def _describe(ctx: ProviderContext, address: str) -> dict[str, Any] | None:
    try:
        resp: dict[str, Any] = call(address, _sh(ctx), "describe_hub")
    except AwsCallError as err:
        if err.code in NOT_ENABLED:
            return None
        raise
    return resp


class HubProvider(Provider):
    type_name: ClassVar[str] = "aws.securityhub.hub"
    props_model: ClassVar[type[PropsModel]] = HubProps
    stable_outputs: ClassVar[frozenset[str]] = frozenset({"arn"})

    def create(self, ctx: ProviderContext, address: str, props: Props) -> Created:
        p = HubProps.parse(props, address)
        hub = _describe(ctx, address)
        enabled_by_us = False
        if hub is None:
            try:
                call(
                    address,
                    _sh(ctx),
                    "enable_security_hub",
                    EnableDefaultStandards=p.default_standards,
                    Tags=dict(p.tags),
                )
                enabled_by_us = True
            except AwsCallError as err:
                if err.code not in ALREADY_ENABLED:  # enabled meanwhile by someone else: adopt it
                    raise
        else:
            ctx.progress(address, "Security Hub is already enabled in this account and region: adopting it")
        live = require(self.read(ctx, address, "", props), address, "Security Hub")
        return Created(str(live["arn"]), {**live, "enabled_by_us": enabled_by_us})

    def read(self, ctx: ProviderContext, address: str, physical_id: str, props: Props) -> Outputs | None:
        hub = _describe(ctx, address)
        if hub is None:
            return None
        return {"arn": str(hub["HubArn"]), "observed": {"subscribed_at": hub.get("SubscribedAt")}}

    def update(
        self,
        ctx: ProviderContext,
        address: str,
        physical_id: str,
        old: Props,
        new: Props,
        outputs: Outputs,
    ) -> Outputs:
        # ``default_standards`` acts only when the hub is enabled: a later change has no effect
        before, after = HubProps.parse_recorded(old), HubProps.parse(new, address)
        enabled_by_us = bool(outputs.get("enabled_by_us"))
        if enabled_by_us:
            to_set, to_remove = tag_changes(before.tags, after.tags)
            if to_set:
                call(address, _sh(ctx), "tag_resource", ResourceArn=physical_id, Tags=to_set)
            if to_remove:
                call(address, _sh(ctx), "untag_resource", ResourceArn=physical_id, TagKeys=to_remove)
        live = require(self.read(ctx, address, physical_id, new), address, "Security Hub")
        return {**live, "enabled_by_us": enabled_by_us}

    def delete(
        self, ctx: ProviderContext, address: str, physical_id: str, props: Props, outputs: Outputs
    ) -> None:
        if not outputs.get("enabled_by_us"):
            return  # adopted: someone else enabled it, and it stays enabled
        try:
            call(address, _sh(ctx), "disable_security_hub")
        except AwsCallError as err:
            if err.code not in NOT_ENABLED:
                raise

    def find(self, ctx: ProviderContext, address: str, props: Props) -> Created | None:
        live = self.read(ctx, address, "", props)
        if live is None:
            return None
        return Created(str(live["arn"]), {**live, "enabled_by_us": False})

    def drift(self, props: Props, live: Outputs) -> dict[str, tuple[Any, Any]]:
        return {}
