from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from strands_deploy.errors import StrandsDeployError
from strands_deploy.providers.base import Props, ProviderContext
from strands_deploy.providers.registry import get_provider
from tests.integration.providers.helpers import TAGS

ADDR = "agent.support.logs"
NAME = "/aws/lambda/demo-test-support"


def props(**overrides: Any) -> Props:
    p: Props = {"name": NAME, "retention_days": 14, "tags": dict(TAGS)}
    p.update(overrides)
    return p


def test_log_group_lifecycle(ctx: ProviderContext, raw: Callable[[str], Any]) -> None:
    provider = get_provider("aws.logs.log_group")
    logs = raw("logs")

    created = provider.create(ctx, ADDR, props())
    assert created.physical_id == NAME
    assert created.outputs["arn"] == f"arn:aws:logs:us-east-1:123456789012:log-group:{NAME}"
    group = logs.describe_log_groups(logGroupNamePrefix=NAME)["logGroups"][0]
    assert group["retentionInDays"] == 14
    assert (
        logs.list_tags_for_resource(resourceArn=created.outputs["arn"])["tags"]["strands:project"] == "demo"
    )

    live = provider.read(ctx, ADDR, NAME, props())
    assert live is not None and provider.drift(props(), live) == {}

    new = props(retention_days=90, tags={**TAGS, "team": "core"})
    provider.update(ctx, ADDR, NAME, props(), new, created.outputs)
    live = provider.read(ctx, ADDR, NAME, new)
    assert live is not None
    assert live["observed"]["retention_days"] == 90
    assert live["observed"]["tags"]["team"] == "core"

    provider.delete(ctx, ADDR, NAME, new, created.outputs)
    assert provider.read(ctx, ADDR, NAME, new) is None
    provider.delete(ctx, ADDR, NAME, new, created.outputs)


def test_log_group_default_retention(ctx: ProviderContext) -> None:
    provider = get_provider("aws.logs.log_group")
    created = provider.create(ctx, ADDR, {"name": NAME, "tags": dict(TAGS)})
    assert created.outputs["observed"]["retention_days"] == 30


def test_log_group_deleted_behind_our_back(ctx: ProviderContext, raw: Callable[[str], Any]) -> None:
    provider = get_provider("aws.logs.log_group")
    created = provider.create(ctx, ADDR, props())
    raw("logs").delete_log_group(logGroupName=NAME)
    assert provider.read(ctx, ADDR, created.physical_id, props()) is None


def test_log_group_created_by_lambda_first_is_adopted(
    ctx: ProviderContext, raw: Callable[[str], Any]
) -> None:
    # Lambda creates /aws/lambda/<name> itself (untagged, no retention) when a function logs.
    raw("logs").create_log_group(logGroupName=NAME)
    provider = get_provider("aws.logs.log_group")
    created = provider.create(ctx, ADDR, props())
    assert created.outputs["observed"]["retention_days"] == 14
    assert created.outputs["observed"]["tags"]["strands:environment"] == "test"


def test_log_group_of_another_project_is_not_taken(ctx: ProviderContext, raw: Callable[[str], Any]) -> None:
    raw("logs").create_log_group(logGroupName=NAME, tags={"strands:project": "other"})
    provider = get_provider("aws.logs.log_group")
    assert provider.find(ctx, ADDR, props()) is None
    with pytest.raises(StrandsDeployError) as info:
        provider.create(ctx, ADDR, props())
    assert "logs:CreateLogGroup" in info.value.what and info.value.where == ADDR


def test_log_group_find_finishes_an_interrupted_create(
    ctx: ProviderContext, raw: Callable[[str], Any]
) -> None:
    raw("logs").create_log_group(logGroupName=NAME, tags=dict(TAGS))
    found = get_provider("aws.logs.log_group").find(ctx, ADDR, props())
    assert found is not None and found.physical_id == NAME
    assert found.outputs["observed"]["retention_days"] == 14
