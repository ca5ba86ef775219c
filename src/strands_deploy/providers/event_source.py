"""aws.lambda.event_source: a queue or DynamoDB stream → function (alias) event source mapping.
Physical id: its UUID.

A stream source needs a starting position (``starting_position``: LATEST for a table trigger,
so only changes made after the deploy reach the agent); a queue takes none.

Creation retries while the execution role's new SQS permissions are still propagating, and waits
until the mapping has left the Creating/Updating states. The UUID is random (``random_id``): the
engine calls ``find`` (by function and source ARN) before ``create``, so a create whose response
was lost is not repeated.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from strands_deploy.aws.errors import call, call_or_none, error_code
from strands_deploy.aws.waiters import poll, retry_while, role_not_ready, update_in_progress
from strands_deploy.providers._common import paginate, require
from strands_deploy.providers.base import Created, Outputs, Props, PropsModel, Provider, ProviderContext


class EventSourceProps(PropsModel):
    function_name: str  # the alias ARN (or function name) that receives the batches
    source_arn: str  # the queue's ARN, or the table's stream ARN
    batch_size: int | None = None  # None: the service default
    starting_position: Literal["LATEST", "TRIM_HORIZON"] | None = None  # streams only


TRANSITIONAL = frozenset({"Creating", "Updating", "Enabling", "Disabling"})


def _retryable(err: BaseException) -> bool:
    return role_not_ready(err) or update_in_progress(err)


class EventSourceProvider(Provider):
    type_name: ClassVar[str] = "aws.lambda.event_source"
    props_model: ClassVar[type[PropsModel]] = EventSourceProps
    random_id: ClassVar[bool] = True
    replace_on: ClassVar[frozenset[str]] = frozenset({"source_arn", "starting_position"})
    stable_outputs: ClassVar[frozenset[str]] = frozenset({"uuid"})

    def create(self, ctx: ProviderContext, address: str, props: Props) -> Created:
        p = EventSourceProps.parse(props, address)
        lam = ctx.client("lambda")
        kwargs: dict[str, Any] = {
            "EventSourceArn": p.source_arn,
            "FunctionName": p.function_name,
            "Enabled": True,
        }
        if p.batch_size is not None:
            kwargs["BatchSize"] = p.batch_size
        if p.starting_position is not None:
            kwargs["StartingPosition"] = p.starting_position
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
        before, after = EventSourceProps.parse_recorded(old), EventSourceProps.parse(new, address)
        lam = ctx.client("lambda")
        kwargs: dict[str, Any] = {}
        if before.batch_size != after.batch_size and after.batch_size is not None:
            kwargs["BatchSize"] = after.batch_size
        if before.function_name != after.function_name:
            kwargs["FunctionName"] = after.function_name
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
        # Mappings carry no strands tags here: (function, source ARN) is the mapping's identity (AWS
        # refuses a second mapping of one queue to one function).
        p = EventSourceProps.parse(props, address)
        pages = paginate(
            address,
            ctx.client("lambda"),
            "list_event_source_mappings",
            missing_ok=True,
            EventSourceArn=p.source_arn,
            FunctionName=p.function_name,
        )
        for page in pages:
            for mapping in page.get("EventSourceMappings", []):
                uuid = str(mapping["UUID"])
                outputs = self.read(ctx, address, uuid, props)
                if outputs is not None:
                    return Created(uuid, outputs)
        return None

    def drift(self, props: Props, live: Outputs) -> dict[str, tuple[Any, Any]]:
        # function_name is an alias ARN in props and AWS echoes it back; compare the rest plainly.
        return super().drift({k: v for k, v in props.items() if k != "function_name"}, live)
