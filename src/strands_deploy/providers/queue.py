"""aws.sqs.queue: an SSE-encrypted queue with, when ``dlq``, its own dead-letter queue.

The dead-letter queue is named ``<name>-dlq`` (``<name>-dlq.fifo`` for FIFO queues), keeps messages
14 days, and receives a message after ``max_receive_count`` failed receives. Physical id: the
queue URL.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

from strands_deploy.aws.errors import call, call_or_none, ignore_not_found
from strands_deploy.providers._common import owned, require, tag_changes
from strands_deploy.providers.base import Created, Outputs, Props, PropsModel, Provider, ProviderContext

DLQ_RETENTION_SECONDS = 14 * 24 * 3600
DEFAULT_MAX_RECEIVE = 5


class QueueProps(PropsModel):
    name: str
    dlq: bool = False
    max_receive_count: int = DEFAULT_MAX_RECEIVE
    visibility_timeout: int | None = None  # None: SQS's default (30 s)
    tags: dict[str, str] = {}


def dlq_name(name: str) -> str:
    if name.endswith(".fifo"):
        return f"{name.removesuffix('.fifo')}-dlq.fifo"
    return f"{name}-dlq"


def _base_attributes(name: str) -> dict[str, str]:
    attrs = {"SqsManagedSseEnabled": "true"}
    if name.endswith(".fifo"):
        attrs["FifoQueue"] = "true"
    return attrs


class QueueProvider(Provider):
    type_name: ClassVar[str] = "aws.sqs.queue"
    props_model: ClassVar[type[PropsModel]] = QueueProps
    replace_on: ClassVar[frozenset[str]] = frozenset({"name"})
    stable_outputs: ClassVar[frozenset[str]] = frozenset({"arn", "url", "name"})

    def create(self, ctx: ProviderContext, address: str, props: Props) -> Created:
        p = QueueProps.parse(props, address)
        sqs = ctx.client("sqs")
        name = p.name
        attrs = _base_attributes(name)
        if p.visibility_timeout is not None:
            attrs["VisibilityTimeout"] = str(p.visibility_timeout)
        if p.dlq:
            dlq_arn = self._create_dlq(ctx, address, name, p.tags)
            attrs["RedrivePolicy"] = json.dumps(
                {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": p.max_receive_count}
            )
        kwargs: dict[str, Any] = {"QueueName": name, "Attributes": attrs}
        if p.tags:  # in the create call itself: an interrupted create leaves a queue `find` adopts
            kwargs["tags"] = p.tags
        url = str(call(address, sqs, "create_queue", resource_name=name, **kwargs)["QueueUrl"])
        return Created(url, require(self.read(ctx, address, url, props), address, f"queue {name}"))

    def _create_dlq(self, ctx: ProviderContext, address: str, name: str, tags: dict[str, str]) -> str:
        sqs = ctx.client("sqs")
        dname = dlq_name(name)
        attrs = {**_base_attributes(dname), "MessageRetentionPeriod": str(DLQ_RETENTION_SECONDS)}
        kwargs: dict[str, Any] = {"QueueName": dname, "Attributes": attrs}
        if tags:
            kwargs["tags"] = tags
        url = call(address, sqs, "create_queue", resource_name=dname, **kwargs)["QueueUrl"]
        arn = call(address, sqs, "get_queue_attributes", QueueUrl=url, AttributeNames=["QueueArn"])
        return str(arn["Attributes"]["QueueArn"])

    def _attributes(self, ctx: ProviderContext, address: str, url: str) -> dict[str, str] | None:
        resp = call_or_none(
            address, ctx.client("sqs"), "get_queue_attributes", QueueUrl=url, AttributeNames=["All"]
        )
        return None if resp is None else dict(resp.get("Attributes") or {})

    def read(self, ctx: ProviderContext, address: str, physical_id: str, props: Props) -> Outputs | None:
        sqs = ctx.client("sqs")
        attrs = self._attributes(ctx, address, physical_id)
        if attrs is None:
            return None
        arn = attrs["QueueArn"]
        name = arn.rsplit(":", 1)[-1]
        redrive = json.loads(attrs["RedrivePolicy"]) if attrs.get("RedrivePolicy") else None
        dlq_arn: str | None = redrive.get("deadLetterTargetArn") if redrive else None
        dlq_url: str | None = None
        if dlq_arn:
            resp = call_or_none(address, sqs, "get_queue_url", QueueName=dlq_arn.rsplit(":", 1)[-1])
            dlq_url = str(resp["QueueUrl"]) if resp else None
        tags = call_or_none(address, sqs, "list_queue_tags", QueueUrl=physical_id) or {}
        return {
            "arn": arn,
            "url": physical_id,
            "name": name,
            "dlq_arn": dlq_arn,
            "dlq_url": dlq_url,
            "observed": {
                "name": name,
                "dlq": redrive is not None,
                "max_receive_count": int(redrive["maxReceiveCount"]) if redrive else None,
                "visibility_timeout": int(attrs.get("VisibilityTimeout", "30")),
                "encrypted": attrs.get("SqsManagedSseEnabled") == "true" or bool(attrs.get("KmsMasterKeyId")),
                "tags": dict(tags.get("Tags") or {}),
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
        before, after = QueueProps.parse_recorded(old), QueueProps.parse(new, address)
        sqs = ctx.client("sqs")
        url = physical_id
        name = after.name
        tags = after.tags
        attrs: dict[str, str] = {}
        if before.visibility_timeout != after.visibility_timeout and after.visibility_timeout is not None:
            attrs["VisibilityTimeout"] = str(after.visibility_timeout)
        drop_dlq = before.dlq and not after.dlq
        if after.dlq and (not before.dlq or before.max_receive_count != after.max_receive_count):
            dlq_arn = outputs.get("dlq_arn") or self._create_dlq(ctx, address, name, tags)
            attrs["RedrivePolicy"] = json.dumps(
                {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": after.max_receive_count}
            )
        elif drop_dlq:
            attrs["RedrivePolicy"] = ""
        if attrs:
            call(address, sqs, "set_queue_attributes", QueueUrl=url, Attributes=attrs)
        if drop_dlq:
            self._delete_dlq(ctx, address, name)
        to_set, to_remove = tag_changes(before.tags, tags)
        queues = [url]
        if after.dlq:
            dlq = call_or_none(address, sqs, "get_queue_url", QueueName=dlq_name(name))
            if dlq:
                queues.append(str(dlq["QueueUrl"]))
        for queue_url in queues:
            if to_set:
                call(address, sqs, "tag_queue", QueueUrl=queue_url, Tags=to_set)
            if to_remove:
                call(address, sqs, "untag_queue", QueueUrl=queue_url, TagKeys=to_remove)
        return require(self.read(ctx, address, url, new), address, f"queue {name}")

    def _delete_dlq(self, ctx: ProviderContext, address: str, name: str) -> None:
        sqs = ctx.client("sqs")
        resp = call_or_none(address, sqs, "get_queue_url", QueueName=dlq_name(name))
        if resp is not None:
            ignore_not_found(address, sqs, "delete_queue", QueueUrl=resp["QueueUrl"])

    def delete(
        self, ctx: ProviderContext, address: str, physical_id: str, props: Props, outputs: Outputs
    ) -> None:
        p = QueueProps.parse_recorded(props)
        sqs = ctx.client("sqs")
        ignore_not_found(address, sqs, "delete_queue", QueueUrl=physical_id)
        if outputs.get("dlq_url"):
            ignore_not_found(address, sqs, "delete_queue", QueueUrl=str(outputs["dlq_url"]))
        elif p.dlq and p.name:
            self._delete_dlq(ctx, address, p.name)

    def find(self, ctx: ProviderContext, address: str, props: Props) -> Created | None:
        p = QueueProps.parse(props, address)
        resp = call_or_none(address, ctx.client("sqs"), "get_queue_url", QueueName=p.name)
        if resp is None:
            return None
        url = str(resp["QueueUrl"])
        outputs = self.read(ctx, address, url, props)
        if outputs is None or not owned(ctx, p.tags, outputs["observed"]["tags"]):
            return None
        return Created(url, outputs)

    def drift(self, props: Props, live: Outputs) -> dict[str, tuple[Any, Any]]:
        p = QueueProps.parse_recorded(props)
        want = {**props, "dlq": p.dlq}
        want["max_receive_count"] = p.max_receive_count if p.dlq else None
        return super().drift(want, live)
