from __future__ import annotations

from collections.abc import Callable
from typing import Any

from strands_deploy.providers.base import Props, ProviderContext
from strands_deploy.providers.registry import get_provider
from tests.integration.providers.helpers import TAGS

ADDR = "resource.alerts.topic"
NAME = "demo-test-alerts"
ARN = f"arn:aws:sns:us-east-1:123456789012:{NAME}"


def props(**overrides: Any) -> Props:
    p: Props = {"name": NAME, "tags": dict(TAGS)}
    p.update(overrides)
    return p


def test_topic_lifecycle(ctx: ProviderContext, raw: Callable[[str], Any]) -> None:
    provider = get_provider("aws.sns.topic")
    sns = raw("sns")

    created = provider.create(ctx, ADDR, props())
    assert created.physical_id == ARN
    assert created.outputs["arn"] == ARN and created.outputs["name"] == NAME
    assert sns.get_topic_attributes(TopicArn=ARN)["Attributes"]["KmsMasterKeyId"] == "alias/aws/sns"
    tags = {t["Key"]: t["Value"] for t in sns.list_tags_for_resource(ResourceArn=ARN)["Tags"]}
    assert tags["strands:project"] == "demo"

    live = provider.read(ctx, ADDR, ARN, props())
    assert live is not None and provider.drift(props(), live) == {}

    new = props(tags={"strands:project": "demo", "strands:environment": "test", "team": "core"})
    provider.update(ctx, ADDR, ARN, props(), new, created.outputs)
    live = provider.read(ctx, ADDR, ARN, new)
    assert live is not None
    assert live["observed"]["tags"] == {
        "strands:project": "demo",
        "strands:environment": "test",
        "team": "core",
    }

    provider.delete(ctx, ADDR, ARN, new, created.outputs)
    assert provider.read(ctx, ADDR, ARN, new) is None
    provider.delete(ctx, ADDR, ARN, new, created.outputs)


def test_topic_deleted_behind_our_back(ctx: ProviderContext, raw: Callable[[str], Any]) -> None:
    provider = get_provider("aws.sns.topic")
    created = provider.create(ctx, ADDR, props())
    raw("sns").delete_topic(TopicArn=ARN)
    assert provider.read(ctx, ADDR, created.physical_id, props()) is None


def test_topic_find(ctx: ProviderContext, raw: Callable[[str], Any]) -> None:
    provider = get_provider("aws.sns.topic")
    assert provider.find(ctx, ADDR, props()) is None
    raw("sns").create_topic(Name=NAME)  # untagged: not ours
    assert provider.find(ctx, ADDR, props()) is None
    raw("sns").tag_resource(ResourceArn=ARN, Tags=[{"Key": k, "Value": v} for k, v in TAGS.items()])
    found = provider.find(ctx, ADDR, props())
    assert found is not None and found.physical_id == ARN
