"""aws.sqs.queue: an SSE-encrypted queue with, when ``dlq``, its own dead-letter queue.

The dead-letter queue is named ``<name>-dlq`` (``<name>-dlq.fifo`` for FIFO queues), keeps messages
14 days, and receives a message after ``max_receive_count`` failed receives. Physical id: the
queue URL.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

from strands_deploy.aws.errors import call, call_or_none, ignore_not_found
from strands_deploy.providers._common import owned, require, tag_changes, tags_of
from strands_deploy.providers.base import Created, Outputs, Props, Provider, ProviderContext

DLQ_RETENTION_SECONDS = 14 * 24 * 3600
DEFAULT_MAX_RECEIVE = 5


def dlq_name(name: str) -> str:
    if name.endswith(".fifo"):
        return f"{name.removesuffix('.fifo')}-dlq.fifo"
    return f"{name}-dlq"


def _base_attributes(name: str) -> dict[str, str]:
    attrs = {"SqsManagedSseEnabled": "true"}
    if name.endswith(".fifo"):
        attrs["FifoQueue"] = "true"
    return attrs


def _max_receive(props: Props) -> int:
    value = props.get("max_receive_count")
    return int(value) if value is not None else DEFAULT_MAX_RECEIVE


class QueueProvider(Provider):
    type_name: ClassVar[str] = "aws.sqs.queue"
    replace_on: ClassVar[frozenset[str]] = frozenset({"name"})
    stable_outputs: ClassVar[frozenset[str]] = frozenset({"arn", "url", "name"})

    def create(self, ctx: ProviderContext, address: str, props: Props) -> Created:
        sqs = ctx.client("sqs")
        name = str(props["name"])
        tags = tags_of(props)
        attrs = _base_attributes(name)
        if props.get("visibility_timeout") is not None:
            attrs["VisibilityTimeout"] = str(int(props["visibility_timeout"]))
        if props.get("dlq"):
            dlq_arn = self._create_dlq(ctx, address, name, tags)
            attrs["RedrivePolicy"] = json.dumps(
                {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": _max_receive(props)}
            )
        kwargs: dict[str, Any] = {"QueueName": name, "Attributes": attrs}
        if tags:
            kwargs["tags"] = tags
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
        sqs = ctx.client("sqs")
        url = physical_id
        name = str(new["name"])
        tags = tags_of(new)
        attrs: dict[str, str] = {}
        if (
            old.get("visibility_timeout") != new.get("visibility_timeout")
            and new.get("visibility_timeout") is not None
        ):
            attrs["VisibilityTimeout"] = str(int(new["visibility_timeout"]))
        drop_dlq = bool(old.get("dlq")) and not new.get("dlq")
        if new.get("dlq") and (not old.get("dlq") or _max_receive(old) != _max_receive(new)):
            dlq_arn = outputs.get("dlq_arn") or self._create_dlq(ctx, address, name, tags)
            attrs["RedrivePolicy"] = json.dumps(
                {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": _max_receive(new)}
            )
        elif drop_dlq:
            attrs["RedrivePolicy"] = ""
        if attrs:
            call(address, sqs, "set_queue_attributes", QueueUrl=url, Attributes=attrs)
        if drop_dlq:
            self._delete_dlq(ctx, address, name)
        to_set, to_remove = tag_changes(tags_of(old), tags)
        queues = [url]
        if new.get("dlq"):
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
        sqs = ctx.client("sqs")
        ignore_not_found(address, sqs, "delete_queue", QueueUrl=physical_id)
        if outputs.get("dlq_url"):
            ignore_not_found(address, sqs, "delete_queue", QueueUrl=str(outputs["dlq_url"]))
        elif props.get("dlq") and props.get("name"):
            self._delete_dlq(ctx, address, str(props["name"]))

    def find(self, ctx: ProviderContext, address: str, props: Props) -> Created | None:
        resp = call_or_none(address, ctx.client("sqs"), "get_queue_url", QueueName=str(props["name"]))
        if resp is None:
            return None
        url = str(resp["QueueUrl"])
        outputs = self.read(ctx, address, url, props)
        if outputs is None or not owned(ctx, props, outputs["observed"]["tags"]):
            return None
        return Created(url, outputs)

    def drift(self, props: Props, live: Outputs) -> dict[str, tuple[Any, Any]]:
        want = {**props, "dlq": bool(props.get("dlq"))}
        want["max_receive_count"] = _max_receive(props) if props.get("dlq") else None
        return super().drift(want, live)
