"""aws.logs.log_group: a CloudWatch Logs group with a retention period and tags.

Lambda creates ``/aws/lambda/<function>`` by itself the first time a function logs; if that
happened before this resource was created, ``create`` adopts the untagged group instead of failing.
"""

from __future__ import annotations

from typing import Any, ClassVar

from strands_deploy.aws.arns import partition_for
from strands_deploy.aws.errors import call, call_or_none, ignore_not_found, is_already_exists
from strands_deploy.errors import StrandsDeployError
from strands_deploy.providers._common import owned, require, tag_changes
from strands_deploy.providers.base import Created, Outputs, Props, PropsModel, Provider, ProviderContext

DEFAULT_RETENTION = 30


class LogGroupProps(PropsModel):
    name: str
    retention_days: int = DEFAULT_RETENTION
    tags: dict[str, str] = {}


class LogGroupProvider(Provider):
    type_name: ClassVar[str] = "aws.logs.log_group"
    props_model: ClassVar[type[PropsModel]] = LogGroupProps
    replace_on: ClassVar[frozenset[str]] = frozenset({"name"})

    def create(self, ctx: ProviderContext, address: str, props: Props) -> Created:
        p = LogGroupProps.parse(props, address)
        logs = ctx.client("logs")
        name = p.name
        tags = p.tags
        kwargs: dict[str, Any] = {"logGroupName": name}
        if tags:  # in the create call itself: an interrupted create leaves a group `find` adopts
            kwargs["tags"] = tags
        try:
            call(address, logs, "create_log_group", resource_name=name, **kwargs)
        except StrandsDeployError as err:
            if not is_already_exists(err):
                raise
            live = self.read(ctx, address, name, props)
            live_tags = (live or {}).get("observed", {}).get("tags", {})
            # Auto-created by Lambda (no strands tags) or ours from an interrupted run: adopt.
            if live is None or ("strands:project" in live_tags and not owned(ctx, tags, live_tags)):
                raise
            if tags:
                self._tag(ctx, address, live["arn"], tags, [])
        call(address, logs, "put_retention_policy", logGroupName=name, retentionInDays=p.retention_days)
        # outputs from what was set: no read-back
        region = ctx.aws.region
        arn = f"arn:{partition_for(region)}:logs:{region}:{ctx.account_id()}:log-group:{name}"
        observed = {"name": name, "retention_days": p.retention_days, "tags": dict(tags or {})}
        return Created(name, {"arn": arn, "name": name, "observed": observed})

    def _describe(self, ctx: ProviderContext, address: str, name: str) -> dict[str, Any] | None:
        resp = call_or_none(address, ctx.client("logs"), "describe_log_groups", logGroupNamePrefix=name)
        for group in (resp or {}).get("logGroups", []):
            if group.get("logGroupName") == name:
                return dict(group)
        return None

    def read(self, ctx: ProviderContext, address: str, physical_id: str, props: Props) -> Outputs | None:
        group = self._describe(ctx, address, physical_id)
        if group is None:
            return None
        arn = str(group.get("logGroupArn") or group["arn"].removesuffix(":*"))
        tags_resp = call_or_none(address, ctx.client("logs"), "list_tags_for_resource", resourceArn=arn)
        return {
            "arn": arn,
            "name": physical_id,
            "observed": {
                "name": physical_id,
                "retention_days": group.get("retentionInDays"),
                "tags": dict((tags_resp or {}).get("tags", {})),
            },
        }

    def _tag(
        self, ctx: ProviderContext, address: str, arn: str, to_set: dict[str, str], to_remove: list[str]
    ) -> None:
        logs = ctx.client("logs")
        if to_set:
            call(address, logs, "tag_resource", resourceArn=arn, tags=to_set)
        if to_remove:
            call(address, logs, "untag_resource", resourceArn=arn, tagKeys=to_remove)

    def update(
        self,
        ctx: ProviderContext,
        address: str,
        physical_id: str,
        old: Props,
        new: Props,
        outputs: Outputs,
    ) -> Outputs:
        before, after = LogGroupProps.parse_recorded(old), LogGroupProps.parse(new, address)
        if before.retention_days != after.retention_days:
            call(
                address,
                ctx.client("logs"),
                "put_retention_policy",
                logGroupName=physical_id,
                retentionInDays=after.retention_days,
            )
        to_set, to_remove = tag_changes(before.tags, after.tags)
        if to_set or to_remove:
            self._tag(ctx, address, str(outputs["arn"]), to_set, to_remove)
        return require(self.read(ctx, address, physical_id, new), address, f"log group {physical_id}")

    def delete(
        self, ctx: ProviderContext, address: str, physical_id: str, props: Props, outputs: Outputs
    ) -> None:
        ignore_not_found(address, ctx.client("logs"), "delete_log_group", logGroupName=physical_id)

    def find(self, ctx: ProviderContext, address: str, props: Props) -> Created | None:
        p = LogGroupProps.parse(props, address)
        name = p.name
        outputs = self.read(ctx, address, name, props)
        if outputs is None or not owned(ctx, p.tags, outputs["observed"]["tags"]):
            return None
        if outputs["observed"]["retention_days"] != p.retention_days:  # create stopped half-way
            call(
                address,
                ctx.client("logs"),
                "put_retention_policy",
                logGroupName=name,
                retentionInDays=p.retention_days,
            )
            outputs = require(self.read(ctx, address, name, props), address, f"log group {name}")
        return Created(name, outputs)

    def drift(self, props: Props, live: Outputs) -> dict[str, tuple[Any, Any]]:
        p = LogGroupProps.parse_recorded(props)
        return super().drift({**props, "retention_days": p.retention_days}, live)
