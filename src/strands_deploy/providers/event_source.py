"""aws.lambda.event_source: a queue → function (alias) event source mapping. Physical id: its UUID.

Creation retries while the execution role's new SQS permissions are still propagating, and waits
until the mapping has left the Creating/Updating states.
"""

from __future__ import annotations

from typing import Any, ClassVar

from strands_deploy.aws.errors import call, call_or_none, error_code
from strands_deploy.aws.waiters import poll, retry_while, role_not_ready, update_in_progress
from strands_deploy.providers._common import require
from strands_deploy.providers.base import Created, Outputs, Props, Provider, ProviderContext

TRANSITIONAL = frozenset({"Creating", "Updating", "Enabling", "Disabling"})


def _retryable(err: BaseException) -> bool:
    return role_not_ready(err) or update_in_progress(err)


class EventSourceProvider(Provider):
    type_name: ClassVar[str] = "aws.lambda.event_source"
    replace_on: ClassVar[frozenset[str]] = frozenset({"source_arn"})
    stable_outputs: ClassVar[frozenset[str]] = frozenset({"uuid"})

    def create(self, ctx: ProviderContext, address: str, props: Props) -> Created:
        lam = ctx.client("lambda")
        kwargs: dict[str, Any] = {
            "EventSourceArn": str(props["source_arn"]),
            "FunctionName": str(props["function_name"]),
            "Enabled": True,
        }
        if props.get("batch_size") is not None:
            kwargs["BatchSize"] = int(props["batch_size"])
        resp = retry_while(
            ctx,
            address,
            "lambda:CreateEventSourceMapping",
            lambda: call(address, lam, "create_event_source_mapping", **kwargs),
            _retryable,
            note="waiting for the execution role's permissions on the source to propagate",
        )
        uuid = str(resp["UUID"])
        self._wait(ctx, address, uuid)
        return Created(uuid, require(self.read(ctx, address, uuid, props), address, f"mapping {uuid}"))

    def _wait(self, ctx: ProviderContext, address: str, uuid: str) -> None:
        lam = ctx.client("lambda")

        def check() -> dict[str, Any] | None:
            resp: dict[str, Any] = call(address, lam, "get_event_source_mapping", UUID=uuid)
            return None if resp.get("State") in TRANSITIONAL else resp

        poll(
            ctx,
            address,
            check,
            timeout=300,
            what=f"event source mapping {uuid} did not settle",
            fix=f"check `aws lambda get-event-source-mapping --uuid {uuid}` and deploy again",
            note="waiting for the event source mapping",
        )

    def read(self, ctx: ProviderContext, address: str, physical_id: str, props: Props) -> Outputs | None:
        resp = call_or_none(address, ctx.client("lambda"), "get_event_source_mapping", UUID=physical_id)
        if resp is None or resp.get("State") == "Deleting":
            return None
        return {
            "uuid": resp["UUID"],
            "state": resp.get("State"),
            "observed": {
                "function_name": resp.get("FunctionArn"),
                "source_arn": resp.get("EventSourceArn"),
                "batch_size": resp.get("BatchSize"),
            },
        }

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
        kwargs: dict[str, Any] = {}
        if old.get("batch_size") != new.get("batch_size") and new.get("batch_size") is not None:
            kwargs["BatchSize"] = int(new["batch_size"])
        if old.get("function_name") != new.get("function_name"):
            kwargs["FunctionName"] = str(new["function_name"])
        if kwargs:
            self._wait(ctx, address, physical_id)
            retry_while(
                ctx,
                address,
                "lambda:UpdateEventSourceMapping",
                lambda: call(address, lam, "update_event_source_mapping", UUID=physical_id, **kwargs),
                _retryable,
            )
            self._wait(ctx, address, physical_id)
        return require(self.read(ctx, address, physical_id, new), address, f"mapping {physical_id}")

    def delete(
        self, ctx: ProviderContext, address: str, physical_id: str, props: Props, outputs: Outputs
    ) -> None:
        lam = ctx.client("lambda")
        # A mapping still being created or updated cannot be deleted yet (ResourceInUseException).
        retry_while(
            ctx,
            address,
            "lambda:DeleteEventSourceMapping",
            lambda: call_or_none(address, lam, "delete_event_source_mapping", UUID=physical_id),
            lambda err: update_in_progress(err) or error_code(err) == "ResourceInUseException",
            timeout=120,
        )

    def find(self, ctx: ProviderContext, address: str, props: Props) -> Created | None:
        lam = ctx.client("lambda")
        marker: str | None = None
        while True:
            kwargs: dict[str, Any] = {
                "EventSourceArn": str(props["source_arn"]),
                "FunctionName": str(props["function_name"]),
            }
            if marker:
                kwargs["Marker"] = marker
            page = call_or_none(address, lam, "list_event_source_mappings", **kwargs)
            if page is None:
                return None
            for mapping in page.get("EventSourceMappings", []):
                uuid = str(mapping["UUID"])
                outputs = self.read(ctx, address, uuid, props)
                if outputs is not None:
                    return Created(uuid, outputs)
            marker = page.get("NextMarker")
            if not marker:
                return None

    def drift(self, props: Props, live: Outputs) -> dict[str, tuple[Any, Any]]:
        # function_name is an alias ARN in props and AWS echoes it back; compare the rest plainly.
        return super().drift({k: v for k, v in props.items() if k != "function_name"}, live)
