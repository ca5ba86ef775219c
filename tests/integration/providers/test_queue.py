from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from strands_deploy.providers.base import Props, ProviderContext
from strands_deploy.providers.registry import get_provider
from tests.integration.providers.helpers import TAGS

ADDR = "resource.jobs.queue"
NAME = "demo-test-jobs"
ARN = f"arn:aws:sqs:us-east-1:123456789012:{NAME}"


def props(**overrides: Any) -> Props:
    p: Props = {
        "name": NAME,
        "dlq": True,
        "max_receive_count": 5,
        "visibility_timeout": 900,
        "tags": dict(TAGS),
    }
    p.update(overrides)
    return p


def test_queue_lifecycle(ctx: ProviderContext, raw: Callable[[str], Any]) -> None:
    provider = get_provider("aws.sqs.queue")
    sqs = raw("sqs")

    created = provider.create(ctx, ADDR, props())
    url = created.physical_id
    assert url == sqs.get_queue_url(QueueName=NAME)["QueueUrl"]
    out = created.outputs
    assert out["arn"] == ARN and out["url"] == url and out["name"] == NAME
    assert out["dlq_arn"] == f"{ARN}-dlq"
    assert out["dlq_url"] == sqs.get_queue_url(QueueName=f"{NAME}-dlq")["QueueUrl"]
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attrs["SqsManagedSseEnabled"] == "true"
    assert attrs["VisibilityTimeout"] == "900"
    assert json.loads(attrs["RedrivePolicy"]) == {"deadLetterTargetArn": f"{ARN}-dlq", "maxReceiveCount": 5}
    dlq_attrs = sqs.get_queue_attributes(QueueUrl=out["dlq_url"], AttributeNames=["All"])["Attributes"]
    assert dlq_attrs["SqsManagedSseEnabled"] == "true"
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"]["strands:project"] == "demo"

    live = provider.read(ctx, ADDR, url, props())
    assert live is not None and provider.drift(props(), live) == {}

    new = props(visibility_timeout=120, max_receive_count=3, tags={**TAGS, "team": "core"})
    out = provider.update(ctx, ADDR, url, props(), new, out)
    live = provider.read(ctx, ADDR, url, new)
    assert live is not None
    assert live["observed"]["visibility_timeout"] == 120
    assert live["observed"]["max_receive_count"] == 3
    assert live["observed"]["tags"]["team"] == "core"
    assert sqs.list_queue_tags(QueueUrl=out["dlq_url"])["Tags"]["team"] == "core"

    # turning the DLQ off removes the redrive policy and the DLQ itself
    no_dlq = {**new, "dlq": False}
    out = provider.update(ctx, ADDR, url, new, no_dlq, out)
    assert out["dlq_arn"] is None and out["observed"]["dlq"] is False
    assert f"{NAME}-dlq" not in str(sqs.list_queues().get("QueueUrls", []))

    provider.delete(ctx, ADDR, url, no_dlq, out)
    assert provider.read(ctx, ADDR, url, no_dlq) is None
    provider.delete(ctx, ADDR, url, no_dlq, out)


def test_queue_delete_removes_its_dlq(ctx: ProviderContext, raw: Callable[[str], Any]) -> None:
    provider = get_provider("aws.sqs.queue")
    created = provider.create(ctx, ADDR, props())
    provider.delete(ctx, ADDR, created.physical_id, props(), created.outputs)
    assert raw("sqs").list_queues().get("QueueUrls", []) == []


def test_queue_deleted_behind_our_back(ctx: ProviderContext, raw: Callable[[str], Any]) -> None:
    provider = get_provider("aws.sqs.queue")
    created = provider.create(ctx, ADDR, props(dlq=False))
    assert created.outputs["dlq_arn"] is None
    raw("sqs").delete_queue(QueueUrl=created.physical_id)
    assert provider.read(ctx, ADDR, created.physical_id, props()) is None
    assert provider.find(ctx, ADDR, props()) is None


def test_queue_find(ctx: ProviderContext) -> None:
    provider = get_provider("aws.sqs.queue")
    created = provider.create(ctx, ADDR, props())
    found = provider.find(ctx, ADDR, props())
    assert found is not None and found.physical_id == created.physical_id
    assert found.outputs["dlq_arn"] == f"{ARN}-dlq"
