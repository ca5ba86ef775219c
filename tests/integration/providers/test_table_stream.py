"""aws.dynamodb.table's stream (for table triggers) and a stream → alias event source mapping."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from strands_deploy.providers.base import ProviderContext
from strands_deploy.providers.registry import get_provider
from tests.integration.providers.helpers import TAGS, deploy_function_and_alias


def table_props(**overrides: Any) -> dict[str, Any]:
    return {"name": "demo-test-tickets", "hash_key": "id", "retain": False, "tags": TAGS, **overrides}


def test_stream_switched_on_and_off(ctx: ProviderContext, raw: Callable[[str], Any]) -> None:
    provider = get_provider("aws.dynamodb.table")
    plain = table_props()
    created = provider.create(ctx, "resource.tickets.table", plain)
    assert "stream_arn" not in created.outputs and created.outputs["observed"]["stream"] is False
    streamed = table_props(stream=True)
    assert provider.drift(streamed, created.outputs) == {"stream": (False, True)}
    out = provider.update(
        ctx, "resource.tickets.table", "demo-test-tickets", plain, streamed, created.outputs
    )
    assert ":table/demo-test-tickets/stream/" in out["stream_arn"]
    spec = raw("dynamodb").describe_table(TableName="demo-test-tickets")["Table"]["StreamSpecification"]
    assert spec == {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
    assert provider.drift(streamed, out) == {}
    off = provider.update(ctx, "resource.tickets.table", "demo-test-tickets", streamed, plain, out)
    assert "stream_arn" not in off


def test_created_with_a_stream_and_mapped_to_an_alias(
    ctx: ProviderContext, raw: Callable[[str], Any], tmp_path: Path
) -> None:
    table = get_provider("aws.dynamodb.table").create(ctx, "resource.tickets.table", table_props(stream=True))
    stream_arn = table.outputs["stream_arn"]
    _, alias_arn = deploy_function_and_alias(ctx, raw, tmp_path)
    provider = get_provider("aws.lambda.event_source")
    props = {
        "function_name": alias_arn,
        "source_arn": stream_arn,
        "batch_size": 1,
        "starting_position": "LATEST",
    }
    created = provider.create(ctx, "agent.support.trigger-tickets", props)
    mapping = raw("lambda").get_event_source_mapping(UUID=created.physical_id)
    assert mapping["EventSourceArn"] == stream_arn and mapping["StartingPosition"] == "LATEST"
    assert provider.drift(props, created.outputs) == {}
    found = provider.find(ctx, "agent.support.trigger-tickets", props)
    assert found is not None and found.physical_id == created.physical_id
    provider.delete(ctx, "agent.support.trigger-tickets", created.physical_id, props, created.outputs)
