"""DynamoLockSlot against a real moto server: a Terraform-compatible lock table."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from strands_deploy.aws.lock_table import DynamoLockSlot
from strands_deploy.aws.session import AwsContext
from strands_deploy.state.remote import PreconditionFailed, StoreError

TABLE = "acme-locks"
LOCK_ID = "acme-state/envs/dev/state.json"


@pytest.fixture
def ddb(aws: AwsContext) -> Any:
    client = aws.client("dynamodb")
    client.create_table(
        TableName=TABLE,
        AttributeDefinitions=[{"AttributeName": "LockID", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "LockID", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return client


@pytest.fixture
def slot(ddb: Any) -> DynamoLockSlot:
    return DynamoLockSlot(ddb, TABLE, LOCK_ID)


def test_location(slot: DynamoLockSlot) -> None:
    assert slot.location == f"dynamodb table {TABLE} item {LOCK_ID}"


def test_create_read_item_layout(ddb: Any, slot: DynamoLockSlot) -> None:
    assert slot.read() is None
    token = slot.create(b'{"who": "alice"}')
    record = slot.read()
    assert record is not None
    assert record.body == b'{"who": "alice"}' and record.token == token
    assert record.age is not None and 0 <= record.age < 60
    item = ddb.get_item(TableName=TABLE, Key={"LockID": {"S": LOCK_ID}})["Item"]
    assert item["Info"] == {"S": '{"who": "alice"}'}
    assert item["Token"] == {"S": token} and len(token) == 32
    assert abs(float(item["Heartbeat"]["N"]) - time.time()) < 60


def test_create_when_held_fails(slot: DynamoLockSlot) -> None:
    token = slot.create(b"a")
    with pytest.raises(PreconditionFailed):
        slot.create(b"b")
    record = slot.read()
    assert record is not None and record.body == b"a" and record.token == token


def test_create_has_exactly_one_winner(slot: DynamoLockSlot) -> None:
    barrier = threading.Barrier(10)
    winners: list[str] = []
    losers: list[int] = []

    def race(i: int) -> None:
        barrier.wait()
        try:
            slot.create(f"{i}".encode())
            winners.append(f"{i}")
        except PreconditionFailed:
            losers.append(i)

    threads = [threading.Thread(target=race, args=(i,)) for i in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(winners) == 1 and len(losers) == 9
    record = slot.read()
    assert record is not None and record.body == winners[0].encode()


def test_replace_needs_the_current_token(slot: DynamoLockSlot) -> None:
    token = slot.create(b"a")
    new_token = slot.replace(b"a2", token)
    assert new_token != token
    record = slot.read()
    assert record is not None and record.body == b"a2" and record.token == new_token
    with pytest.raises(PreconditionFailed):
        slot.replace(b"stale", token)
    record = slot.read()
    assert record is not None and record.body == b"a2"


def test_replace_of_a_released_lock_fails(slot: DynamoLockSlot) -> None:
    token = slot.create(b"a")
    slot.delete(token)
    with pytest.raises(PreconditionFailed):
        slot.replace(b"a", token)
    assert slot.read() is None


def test_delete_needs_the_current_token(slot: DynamoLockSlot) -> None:
    token = slot.create(b"a")
    with pytest.raises(PreconditionFailed):
        slot.delete("not-the-token")
    assert slot.read() is not None
    slot.delete(token)
    assert slot.read() is None
    slot.delete(token)  # nothing to release: not an error


def test_slots_are_independent(ddb: Any) -> None:
    one = DynamoLockSlot(ddb, TABLE, "acme-state/envs/dev/state.json")
    two = DynamoLockSlot(ddb, TABLE, "acme-state/envs/prod/state.json")
    one.create(b"1")
    two.create(b"2")
    assert one.read() is not None and two.read() is not None


def test_missing_table_names_the_bootstrap_command(aws: AwsContext) -> None:
    slot = DynamoLockSlot(
        aws.client("dynamodb"),
        "acme-missing",
        LOCK_ID,
        bootstrap_hint="strands-deploy state bootstrap --env dev --lock-table",
    )
    for call in (lambda: slot.read(), lambda: slot.create(b"x"), lambda: slot.delete("t")):
        with pytest.raises(StoreError) as info:
            call()
        assert "acme-missing does not exist" in info.value.what
        assert info.value.where == "dynamodb table acme-missing"
        assert info.value.fix == "create it with `strands-deploy state bootstrap --env dev --lock-table`"


def test_default_hint_mentions_lock_table(aws: AwsContext) -> None:
    slot = DynamoLockSlot(aws.client("dynamodb"), "acme-missing", LOCK_ID)
    with pytest.raises(StoreError) as info:
        slot.read()
    assert info.value.fix is not None and "--lock-table" in info.value.fix
