"""aws.dynamodb.table: an on-demand table with server-side encryption and optional PITR.

The key schema cannot change in place (replacement). ``pitr`` toggles point-in-time recovery via
UpdateContinuousBackups; ``deletion_protection`` is DynamoDB's DeletionProtectionEnabled (set at
create, UpdateTable when it changes, drift when switched off by hand); tags are kept in sync.
``stream`` switches the table's stream on (NEW_AND_OLD_IMAGES: what a table trigger's agent sees)
or off; its ARN is the ``stream_arn`` output, present only while the stream is on. It changes only
when the stream is switched on anew, which is when its event source mapping is created anyway.

Delete, as for buckets: with ``retain: true`` (the default) a table that holds items is refused
with their count, unless ``ctx.delete_data`` (``destroy --delete-data``); an empty one, or any
``retain: false`` table, is deleted. Deletion protection is lifted just before the delete, once
the data may go; protection switched on by hand (not in the properties) is lifted only with
``delete_data``.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from strands_deploy.aws.errors import call, call_or_none, ignore_not_found
from strands_deploy.aws.waiters import wait_table_active
from strands_deploy.errors import StrandsDeployError
from strands_deploy.providers._common import owned, paginate, require, tag_changes, tag_dict, tag_list
from strands_deploy.providers.base import (
    CONTENTS_LIMIT,
    Created,
    Outputs,
    Props,
    PropsModel,
    Provider,
    ProviderContext,
    contents_text,
)

KeyType = Literal["S", "N", "B"]


class TableProps(PropsModel):
    name: str
    hash_key: str
    hash_key_type: KeyType = "S"
    range_key: str | None = None
    range_key_type: KeyType | None = None
    pitr: bool = False
    retain: bool = True  # refuse to delete a table that holds items (destroy --delete-data overrides)
    deletion_protection: bool = False  # DynamoDB DeletionProtectionEnabled
    stream: bool = False  # a NEW_AND_OLD_IMAGES stream (an agent triggers on the table)
    tags: dict[str, str] = {}


STREAM_VIEW = "NEW_AND_OLD_IMAGES"


def _stream_spec(enabled: bool) -> dict[str, Any]:
    return {"StreamEnabled": True, "StreamViewType": STREAM_VIEW} if enabled else {"StreamEnabled": False}


def _keys(p: TableProps) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    schema = [{"AttributeName": p.hash_key, "KeyType": "HASH"}]
    attrs = [{"AttributeName": p.hash_key, "AttributeType": p.hash_key_type}]
    if p.range_key:
        schema.append({"AttributeName": p.range_key, "KeyType": "RANGE"})
        attrs.append({"AttributeName": p.range_key, "AttributeType": p.range_key_type or "S"})
    return schema, attrs


class TableProvider(Provider):
    type_name: ClassVar[str] = "aws.dynamodb.table"
    props_model: ClassVar[type[PropsModel]] = TableProps
    expected_seconds: ClassVar[float] = 8.0
    replace_on: ClassVar[frozenset[str]] = frozenset(
        {"name", "hash_key", "hash_key_type", "range_key", "range_key_type"}
    )
    stable_outputs: ClassVar[frozenset[str]] = frozenset({"arn", "name", "stream_arn"})

    def create(self, ctx: ProviderContext, address: str, props: Props) -> Created:
        p = TableProps.parse(props, address)
        ddb = ctx.client("dynamodb")
        name = p.name
        schema, attrs = _keys(p)
        kwargs: dict[str, Any] = {
            "TableName": name,
            "KeySchema": schema,
            "AttributeDefinitions": attrs,
            "BillingMode": "PAY_PER_REQUEST",
            "SSESpecification": {"Enabled": True},
        }
        if p.deletion_protection:
            kwargs["DeletionProtectionEnabled"] = True
        if p.stream:
            kwargs["StreamSpecification"] = _stream_spec(True)
        if p.tags:  # in the create call itself: an interrupted create leaves a table `find` adopts
            kwargs["Tags"] = tag_list(p.tags)
        call(address, ddb, "create_table", resource_name=name, **kwargs)
        wait_table_active(ctx, address, name)
        if p.pitr:
            self._set_pitr(ctx, address, name, True)
        return Created(name, require(self.read(ctx, address, name, props), address, f"table {name}"))

    def _set_pitr(self, ctx: ProviderContext, address: str, name: str, enabled: bool) -> None:
        call(
            address,
            ctx.client("dynamodb"),
            "update_continuous_backups",
            TableName=name,
            PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": enabled},
        )

    def check_many(
        self, ctx: ProviderContext, items: list[tuple[str, str, Props]]
    ) -> dict[str, Outputs | None] | None:
        """Deploy's cheap check: ListTables (100 names a page, at most 4 pages) says which tables
        still exist; a table not listed by then is described on its own."""
        wanted = {pid: address for address, pid, _ in items}
        found: dict[str, Outputs | None] = {}
        pages = paginate(
            items[0][0], ctx.client("dynamodb"), "list_tables", PaginationConfig={"PageSize": 100}
        )
        for n, page in enumerate(pages, start=1):
            found.update({wanted[t]: {"observed": {}} for t in page.get("TableNames", []) if t in wanted})
            if len(found) == len(wanted) or n >= 4:
                break
        for address, pid, props in items:
            if address not in found:
                found[address] = None if self.read(ctx, address, pid, props) is None else {"observed": {}}
        return found

    def read(self, ctx: ProviderContext, address: str, physical_id: str, props: Props) -> Outputs | None:
        ddb = ctx.client("dynamodb")
        resp = call_or_none(address, ddb, "describe_table", TableName=physical_id)
        if resp is None:
            return None
        table = resp["Table"]
        if table.get("TableStatus") == "DELETING":
            return None
        types = {a["AttributeName"]: a["AttributeType"] for a in table.get("AttributeDefinitions", [])}
        hash_key = next((k["AttributeName"] for k in table["KeySchema"] if k["KeyType"] == "HASH"), None)
        range_key = next((k["AttributeName"] for k in table["KeySchema"] if k["KeyType"] == "RANGE"), None)
        backups = call_or_none(address, ddb, "describe_continuous_backups", TableName=physical_id) or {}
        pitr = (
            backups.get("ContinuousBackupsDescription", {})
            .get("PointInTimeRecoveryDescription", {})
            .get("PointInTimeRecoveryStatus")
        )
        tags = call_or_none(address, ddb, "list_tags_of_resource", ResourceArn=table["TableArn"]) or {}
        billing = (table.get("BillingModeSummary") or {}).get("BillingMode", "PROVISIONED")
        spec = table.get("StreamSpecification") or {}
        stream = bool(spec.get("StreamEnabled")) and bool(table.get("LatestStreamArn"))
        outputs: Outputs = {
            "arn": table["TableArn"],
            "name": table["TableName"],
            "observed": {
                "name": table["TableName"],
                "hash_key": hash_key,
                "hash_key_type": types.get(hash_key or ""),
                "range_key": range_key,
                "range_key_type": types.get(range_key) if range_key else None,
                "pitr": pitr == "ENABLED",
                "deletion_protection": bool(table.get("DeletionProtectionEnabled", False)),
                "billing_mode": billing,
                "sse": (table.get("SSEDescription") or {}).get("Status") in ("ENABLED", "ENABLING"),
                "stream": stream,
                "tags": tag_dict(tags.get("Tags")),
            },
        }
        if stream:  # absent while off: a reference to it waits for the stream to exist
            outputs["stream_arn"] = table["LatestStreamArn"]
        return outputs

    def update(
        self,
        ctx: ProviderContext,
        address: str,
        physical_id: str,
        old: Props,
        new: Props,
        outputs: Outputs,
    ) -> Outputs:
        before, after = TableProps.parse_recorded(old), TableProps.parse(new, address)
        ddb = ctx.client("dynamodb")
        if before.deletion_protection != after.deletion_protection:
            self._set_protection(ctx, address, physical_id, after.deletion_protection)
        if before.pitr != after.pitr:
            self._set_pitr(ctx, address, physical_id, after.pitr)
        if bool(before.stream) != after.stream:
            spec = _stream_spec(after.stream)
            call(address, ddb, "update_table", TableName=physical_id, StreamSpecification=spec)
            wait_table_active(ctx, address, physical_id)
        to_set, to_remove = tag_changes(before.tags, after.tags)
        arn = str(outputs.get("arn") or "")
        if (to_set or to_remove) and not arn:
            arn = str(require(self.read(ctx, address, physical_id, new), address, physical_id)["arn"])
        if to_set:
            call(address, ddb, "tag_resource", ResourceArn=arn, Tags=tag_list(to_set))
        if to_remove:
            call(address, ddb, "untag_resource", ResourceArn=arn, TagKeys=to_remove)
        return require(self.read(ctx, address, physical_id, new), address, f"table {physical_id}")

    def _set_protection(self, ctx: ProviderContext, address: str, name: str, enabled: bool) -> None:
        call(
            address, ctx.client("dynamodb"), "update_table", TableName=name, DeletionProtectionEnabled=enabled
        )
        wait_table_active(ctx, address, name)  # the next call on the table needs it ACTIVE

    def contents(self, ctx: ProviderContext, address: str, physical_id: str, props: Props) -> int | None:
        if not TableProps.parse_recorded(props).retain:
            return None
        return self._count(ctx, address, physical_id)

    def _count(self, ctx: ProviderContext, address: str, name: str) -> int | None:
        """Items in the table, counted up to CONTENTS_LIMIT; None when it is gone.

        A bounded Scan (Select=COUNT), not DescribeTable's ItemCount, which AWS refreshes only
        about every six hours: a table filled an hour ago would look empty."""
        ddb = ctx.client("dynamodb")
        count = 0
        kwargs: dict[str, Any] = {"TableName": name, "Select": "COUNT"}
        while count < CONTENTS_LIMIT:
            page = call_or_none(address, ddb, "scan", Limit=CONTENTS_LIMIT - count, **kwargs)
            if page is None:
                return None
            count += int(page.get("Count", 0))
            if not page.get("LastEvaluatedKey"):
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        return min(count, CONTENTS_LIMIT)

    def delete(
        self, ctx: ProviderContext, address: str, physical_id: str, props: Props, outputs: Outputs
    ) -> None:
        p = TableProps.parse_recorded(props)
        ddb = ctx.client("dynamodb")
        name = physical_id
        resp = call_or_none(address, ddb, "describe_table", TableName=name)
        if resp is None or resp["Table"].get("TableStatus") == "DELETING":
            return
        if p.retain and not ctx.delete_data:
            count = self._count(ctx, address, name)
            if count is None:
                return
            if count:
                raise StrandsDeployError(
                    f"table {name} holds {contents_text(count, 'item')} and is marked `retain: true`, "
                    "so it was not deleted",
                    where=address,
                    fix=(
                        "to delete it with its data run `strands-deploy destroy --delete-data`, or set "
                        "`retain: false` on the resource in strands.yaml (and deploy) first, or empty it"
                    ),
                )
        if resp["Table"].get("DeletionProtectionEnabled"):
            # The properties asked for the protection (or destroy --delete-data was given): the
            # data may go now, so it is lifted. Protection switched on by hand is the user's own.
            if not (p.deletion_protection or ctx.delete_data):
                raise StrandsDeployError(
                    f"table {name} has deletion protection switched on outside strands.yaml, "
                    "so it was not deleted",
                    where=address,
                    fix=(
                        f"switch it off (`aws dynamodb update-table --table-name {name} "
                        "--no-deletion-protection-enabled`) or run `strands-deploy destroy --delete-data`"
                    ),
                )
            ctx.progress(address, "switching off deletion protection")
            self._set_protection(ctx, address, name, False)
        ignore_not_found(address, ddb, "delete_table", TableName=name)

    def find(self, ctx: ProviderContext, address: str, props: Props) -> Created | None:
        p = TableProps.parse(props, address)
        name = p.name
        outputs = self.read(ctx, address, name, props)
        if outputs is None or not owned(ctx, p.tags, outputs["observed"]["tags"]):
            return None
        wait_table_active(ctx, address, name)
        if p.pitr and not outputs["observed"]["pitr"]:  # create stopped half-way
            self._set_pitr(ctx, address, name, True)
            outputs = require(self.read(ctx, address, name, props), address, f"table {name}")
        return Created(name, outputs)

    def drift(self, props: Props, live: Outputs) -> dict[str, tuple[Any, Any]]:
        p = TableProps.parse_recorded(props)
        want = {**props, "pitr": p.pitr, "deletion_protection": p.deletion_protection}
        # a stream switched on by hand (another consumer's) is not drift; one we need that is off is
        want.pop("stream", None)
        if p.stream:
            want["stream"] = True
        if not p.range_key:
            want["range_key"], want["range_key_type"] = None, None
        return super().drift(want, live)
