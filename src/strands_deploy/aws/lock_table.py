"""A :class:`~strands_deploy.state.remote.LockSlot` on a Terraform-compatible DynamoDB lock table.

The table has one hash key, ``LockID`` (a string), as Terraform's S3 backend expects, so a team can
point both tools at the same table. One item is one lock::

    {LockID: <lock id>, Info: <the lock record, JSON>, Token: <uuid4 hex>, Heartbeat: <epoch seconds>}

Every write gets a fresh ``Token``; ``replace`` and ``delete`` are conditional on the token the
caller holds, ``create`` on the item not existing, so DynamoDB decides every race. A condition that
does not hold is :class:`PreconditionFailed`; any other failure a :class:`StoreError`.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from strands_deploy.aws.errors import error_code
from strands_deploy.aws.object_store import store_error
from strands_deploy.state.remote import LockRecord, PreconditionFailed, StoreError

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

T = TypeVar("T")

DEFAULT_LOCK_TABLE_HINT = "strands-deploy state bootstrap --env ENV --lock-table"

_CONDITION_FAILED = "ConditionalCheckFailedException"
_TABLE_MISSING = frozenset({"ResourceNotFoundException", "TableNotFoundException"})


class DynamoLockSlot:
    """One lock item in a DynamoDB lock table (implements ``state.remote.LockSlot``)."""

    def __init__(
        self,
        client: DynamoDBClient,
        table: str,
        lock_id: str,
        *,
        bootstrap_hint: str = DEFAULT_LOCK_TABLE_HINT,
    ) -> None:
        self._client = client
        self.table = table
        self.lock_id = lock_id
        self.bootstrap_hint = bootstrap_hint

    @property
    def location(self) -> str:
        return f"dynamodb table {self.table} item {self.lock_id}"

    def _call(self, action: str, fn: Callable[[], T]) -> T:
        """``fn()``; a failed condition is PreconditionFailed, any other failure a StoreError."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return fn()
        except (ClientError, BotoCoreError) as err:
            code = error_code(err)
            if code == _CONDITION_FAILED:
                raise PreconditionFailed(f"{self.location}: the lock record changed") from None
            if code in _TABLE_MISSING:
                raise StoreError(
                    f"the lock table {self.table} does not exist",
                    f"dynamodb table {self.table}",
                    f"create it with `{self.bootstrap_hint}`",
                ) from err
            raise store_error(err, self.location, action, service="DynamoDB") from err

    def _item(self, body: bytes, token: str) -> dict[str, Any]:
        return {
            "LockID": {"S": self.lock_id},
            "Info": {"S": body.decode("utf-8")},
            "Token": {"S": token},
            "Heartbeat": {"N": repr(time.time())},
        }

    def create(self, body: bytes) -> str:
        token = uuid.uuid4().hex
        self._call(
            "dynamodb:PutItem",
            lambda: self._client.put_item(
                TableName=self.table,
                Item=self._item(body, token),
                ConditionExpression="attribute_not_exists(LockID)",
            ),
        )
        return token

    def read(self) -> LockRecord | None:
        response = self._call(
            "dynamodb:GetItem",
            lambda: self._client.get_item(
                TableName=self.table, Key={"LockID": {"S": self.lock_id}}, ConsistentRead=True
            ),
        )
        item = response.get("Item")
        if not item:
            return None
        age: float | None = None
        heartbeat = item.get("Heartbeat", {}).get("N")
        if heartbeat is not None:
            try:
                # Clocks of two machines: never report a negative age.
                age = max(0.0, time.time() - float(heartbeat))
            except ValueError:
                age = None
        return LockRecord(
            body=item.get("Info", {}).get("S", "").encode("utf-8"),
            token=item.get("Token", {}).get("S", ""),
            age=age,
        )

    def replace(self, body: bytes, token: str) -> str:
        new_token = uuid.uuid4().hex
        self._call(
            "dynamodb:PutItem",
            lambda: self._client.put_item(
                TableName=self.table,
                Item=self._item(body, new_token),
                ConditionExpression="#t = :t",
                ExpressionAttributeNames={"#t": "Token"},
                ExpressionAttributeValues={":t": {"S": token}},
            ),
        )
        return new_token

    def delete(self, token: str) -> None:
        self._call(
            "dynamodb:DeleteItem",
            lambda: self._client.delete_item(
                TableName=self.table,
                Key={"LockID": {"S": self.lock_id}},
                ConditionExpression="attribute_not_exists(LockID) OR #t = :t",
                ExpressionAttributeNames={"#t": "Token"},
                ExpressionAttributeValues={":t": {"S": token}},
            ),
        )
