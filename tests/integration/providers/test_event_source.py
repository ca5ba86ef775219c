from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from strands_deploy.providers.base import Props, ProviderContext
from strands_deploy.providers.registry import get_provider
from tests.integration.providers.helpers import deploy_function_and_alias

ADDR = "agent.worker.trigger-jobs"


def make_queue(raw: Callable[[str], Any]) -> str:
    sqs = raw("sqs")
    url = sqs.create_queue(QueueName="demo-test-jobs", Attributes={"VisibilityTimeout": "900"})["QueueUrl"]
    return str(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"])


def test_event_source_lifecycle(ctx: ProviderContext, raw: Callable[[str], Any], tmp_path: Path) -> None:
    _, alias_arn = deploy_function_and_alias(ctx, raw, tmp_path)
    queue_arn = make_queue(raw)
    provider = get_provider("aws.lambda.event_source")
    lam = raw("lambda")
    props: Props = {"function_name": alias_arn, "source_arn": queue_arn, "batch_size": 1}

    created = provider.create(ctx, ADDR, props)
    uuid = created.physical_id
    assert created.outputs["uuid"] == uuid
    mapping = lam.get_event_source_mapping(UUID=uuid)
    assert mapping["EventSourceArn"] == queue_arn
    # AWS echoes the alias ARN; moto resolves it to the version the alias points at
    assert mapping["FunctionArn"].rsplit(":", 1)[0] == alias_arn.rsplit(":", 1)[0]
    assert mapping["BatchSize"] == 1

    live = provider.read(ctx, ADDR, uuid, props)
    assert live is not None and provider.drift(props, live) == {}

    new = {**props, "batch_size": 5}
    provider.update(ctx, ADDR, uuid, props, new, created.outputs)
    live = provider.read(ctx, ADDR, uuid, new)
    assert live is not None and live["observed"]["batch_size"] == 5
    assert lam.get_event_source_mapping(UUID=uuid)["BatchSize"] == 5

    provider.delete(ctx, ADDR, uuid, new, created.outputs)
    assert provider.read(ctx, ADDR, uuid, new) is None
    provider.delete(ctx, ADDR, uuid, new, created.outputs)


def test_event_source_deleted_behind_our_back(
    ctx: ProviderContext, raw: Callable[[str], Any], tmp_path: Path
) -> None:
    _, alias_arn = deploy_function_and_alias(ctx, raw, tmp_path)
    props: Props = {"function_name": alias_arn, "source_arn": make_queue(raw), "batch_size": 1}
    provider = get_provider("aws.lambda.event_source")
    created = provider.create(ctx, ADDR, props)
    raw("lambda").delete_event_source_mapping(UUID=created.physical_id)
    assert provider.read(ctx, ADDR, created.physical_id, props) is None
    assert provider.find(ctx, ADDR, props) is None


def test_event_source_find(ctx: ProviderContext, raw: Callable[[str], Any], tmp_path: Path) -> None:
    _, alias_arn = deploy_function_and_alias(ctx, raw, tmp_path)
    props: Props = {"function_name": alias_arn, "source_arn": make_queue(raw), "batch_size": 1}
    provider = get_provider("aws.lambda.event_source")
    assert provider.find(ctx, ADDR, props) is None
    created = provider.create(ctx, ADDR, props)
    found = provider.find(ctx, ADDR, props)
    assert found is not None and found.physical_id == created.physical_id
