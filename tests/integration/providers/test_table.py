from __future__ import annotations

from collections.abc import Callable
from typing import Any

from strands_deploy.providers.base import Props, ProviderContext
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
