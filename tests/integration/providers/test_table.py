from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import pytest

from strands_deploy.errors import StrandsDeployError
from strands_deploy.providers.base import CONTENTS_LIMIT, Props, ProviderContext
from strands_deploy.providers.registry import get_provider
from tests.integration.providers.helpers import TAGS

ADDR = "resource.tickets.table"
NAME = "demo-test-tickets"


def props(**overrides: Any) -> Props:
    p: Props = {
        "name": NAME,
        "hash_key": "id",
        "hash_key_type": "S",
        "range_key": "created",
        "range_key_type": "N",
        "pitr": True,
        "tags": dict(TAGS),
    }
    p.update(overrides)
    return p


def test_table_lifecycle(ctx: ProviderContext, raw: Callable[[str], Any]) -> None:
    provider = get_provider("aws.dynamodb.table")
    ddb = raw("dynamodb")

    created = provider.create(ctx, ADDR, props())
    assert created.physical_id == NAME
    assert created.outputs["arn"] == f"arn:aws:dynamodb:us-east-1:123456789012:table/{NAME}"
    table = ddb.describe_table(TableName=NAME)["Table"]
    assert table["TableStatus"] == "ACTIVE"
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert table["SSEDescription"]["Status"] == "ENABLED"
    assert table["KeySchema"] == [
        {"AttributeName": "id", "KeyType": "HASH"},
        {"AttributeName": "created", "KeyType": "RANGE"},
    ]
    backups = ddb.describe_continuous_backups(TableName=NAME)["ContinuousBackupsDescription"]
    assert backups["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED"

    live = provider.read(ctx, ADDR, NAME, props())
    assert live is not None and provider.drift(props(), live) == {}

    new = props(pitr=False, tags={**TAGS, "team": "core"})
    provider.update(ctx, ADDR, NAME, props(), new, created.outputs)
    live = provider.read(ctx, ADDR, NAME, new)
    assert live is not None
    assert live["observed"]["pitr"] is False
    assert live["observed"]["tags"]["team"] == "core"
    assert provider.drift(new, live) == {}

    provider.delete(ctx, ADDR, NAME, new, created.outputs)
    assert provider.read(ctx, ADDR, NAME, new) is None
    provider.delete(ctx, ADDR, NAME, new, created.outputs)


def test_table_key_change_is_a_replacement() -> None:
    provider = get_provider("aws.dynamodb.table")
    assert {"hash_key", "hash_key_type", "range_key", "range_key_type"} <= provider.replace_on
    assert "pitr" not in provider.replace_on


def test_table_deleted_behind_our_back(ctx: ProviderContext, raw: Callable[[str], Any]) -> None:
    provider = get_provider("aws.dynamodb.table")
    created = provider.create(ctx, ADDR, props(range_key=None, range_key_type=None))
    raw("dynamodb").delete_table(TableName=NAME)
    assert provider.read(ctx, ADDR, created.physical_id, props()) is None


def test_table_find_finishes_an_interrupted_create(ctx: ProviderContext, raw: Callable[[str], Any]) -> None:
    provider = get_provider("aws.dynamodb.table")
    assert provider.find(ctx, ADDR, props()) is None
    raw("dynamodb").create_table(
        TableName=NAME,
        KeySchema=[
            {"AttributeName": "id", "KeyType": "HASH"},
            {"AttributeName": "created", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "id", "AttributeType": "S"},
            {"AttributeName": "created", "AttributeType": "N"},
        ],
        BillingMode="PAY_PER_REQUEST",
        Tags=[{"Key": k, "Value": v} for k, v in TAGS.items()],
    )
    found = provider.find(ctx, ADDR, props())
    assert found is not None and found.outputs["observed"]["pitr"] is True


def put_items(raw: Callable[[str], Any], count: int) -> None:
    ddb = raw("dynamodb")
    for i in range(count):
        ddb.put_item(TableName=NAME, Item={"id": {"S": f"t-{i}"}, "created": {"N": str(i)}})


def test_deletion_protection_is_set_updated_and_drift_when_switched_off(
    ctx: ProviderContext, raw: Callable[[str], Any]
) -> None:
    provider = get_provider("aws.dynamodb.table")
    ddb = raw("dynamodb")
    protected = props(deletion_protection=True)
    created = provider.create(ctx, ADDR, protected)
    assert ddb.describe_table(TableName=NAME)["Table"]["DeletionProtectionEnabled"] is True
    live = provider.read(ctx, ADDR, NAME, protected)
    assert live is not None and live["observed"]["deletion_protection"] is True
    assert provider.drift(protected, live) == {}

    ddb.update_table(TableName=NAME, DeletionProtectionEnabled=False)  # by hand
    live = provider.read(ctx, ADDR, NAME, protected)
    assert live is not None
    assert provider.drift(protected, live) == {"deletion_protection": (False, True)}
    # the update planned from that drift switches it back on
    provider.update(ctx, ADDR, NAME, {**protected, "deletion_protection": False}, protected, created.outputs)
    assert ddb.describe_table(TableName=NAME)["Table"]["DeletionProtectionEnabled"] is True
    # and off when the properties say so
    provider.update(ctx, ADDR, NAME, protected, props(), created.outputs)
    assert ddb.describe_table(TableName=NAME)["Table"]["DeletionProtectionEnabled"] is False


def test_retained_table_with_items_is_not_deleted(ctx: ProviderContext, raw: Callable[[str], Any]) -> None:
    provider = get_provider("aws.dynamodb.table")
    kept = props(deletion_protection=True)  # retain defaults to true
    created = provider.create(ctx, ADDR, kept)
    put_items(raw, 3)
    assert provider.contents(ctx, ADDR, NAME, kept) == 3
    with pytest.raises(StrandsDeployError) as info:
        provider.delete(ctx, ADDR, NAME, kept, created.outputs)
    assert info.value.where == ADDR
    assert NAME in info.value.what and "3 items" in info.value.what
    assert (
        info.value.fix is not None and "--delete-data" in info.value.fix and "retain: false" in info.value.fix
    )
    table = raw("dynamodb").describe_table(TableName=NAME)["Table"]
    assert table["ItemCount"] == 3 and table["DeletionProtectionEnabled"] is True  # untouched

    # once empty, the retained (and protected) table can go
    for i in range(3):
        raw("dynamodb").delete_item(TableName=NAME, Key={"id": {"S": f"t-{i}"}, "created": {"N": str(i)}})
    assert provider.contents(ctx, ADDR, NAME, kept) == 0
    provider.delete(ctx, ADDR, NAME, kept, created.outputs)
    assert provider.read(ctx, ADDR, NAME, kept) is None
    assert provider.contents(ctx, ADDR, NAME, kept) is None  # gone


def test_delete_data_deletes_a_protected_table_with_items(
    ctx: ProviderContext, raw: Callable[[str], Any]
) -> None:
    provider = get_provider("aws.dynamodb.table")
    kept = props(deletion_protection=True)
    created = provider.create(ctx, ADDR, kept)
    put_items(raw, 2)
    provider.delete(dataclasses.replace(ctx, delete_data=True), ADDR, NAME, kept, created.outputs)
    assert provider.read(ctx, ADDR, NAME, kept) is None


def test_unretained_table_is_deleted_with_its_items(ctx: ProviderContext, raw: Callable[[str], Any]) -> None:
    provider = get_provider("aws.dynamodb.table")
    loose = props(retain=False)
    created = provider.create(ctx, ADDR, loose)
    put_items(raw, 2)
    assert provider.contents(ctx, ADDR, NAME, loose) is None  # its data goes with it by design
    provider.delete(ctx, ADDR, NAME, loose, created.outputs)
    assert provider.read(ctx, ADDR, NAME, loose) is None


def test_contents_counts_up_to_the_limit(ctx: ProviderContext, raw: Callable[[str], Any]) -> None:
    provider = get_provider("aws.dynamodb.table")
    created = provider.create(ctx, ADDR, props())
    ddb = raw("dynamodb")
    items = [{"id": {"S": f"t-{i}"}, "created": {"N": str(i)}} for i in range(CONTENTS_LIMIT + 5)]
    for start in range(0, len(items), 25):
        ddb.batch_write_item(
            RequestItems={NAME: [{"PutRequest": {"Item": item}} for item in items[start : start + 25]]}
        )
    assert provider.contents(ctx, ADDR, NAME, props()) == CONTENTS_LIMIT
    with pytest.raises(StrandsDeployError) as info:
        provider.delete(ctx, ADDR, NAME, props(), created.outputs)
    assert f"at least {CONTENTS_LIMIT} items" in info.value.what
