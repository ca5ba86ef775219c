"""aws.sns.subscription against moto: email and lambda endpoints, idempotent subscribe, find."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from strands_deploy.providers.base import ProviderContext
from strands_deploy.providers.registry import get_provider
from tests.integration.providers.helpers import deploy_function_and_alias, policy_statements

ADDR = "shared.alarm-email-0"


def topic(raw: Callable[[str], Any]) -> str:
    return str(raw("sns").create_topic(Name="demo-test-alarms")["TopicArn"])


def test_email_subscription_lifecycle(ctx: ProviderContext, raw: Callable[[str], Any]) -> None:
    provider = get_provider("aws.sns.subscription")
    arn = topic(raw)
    props = {"topic_arn": arn, "protocol": "email", "endpoint": "ops@example.com"}
    created = provider.create(ctx, ADDR, props)
    assert created.physical_id.startswith(arn + ":")
    live = provider.read(ctx, ADDR, created.physical_id, props)
    assert live is not None and provider.drift(props, live) == {}
    # a lost response: subscribing again finds the same subscription, never a second one
    found = provider.find(ctx, ADDR, props)
    assert found is not None and found.physical_id == created.physical_id
    assert len(raw("sns").list_subscriptions_by_topic(TopicArn=arn)["Subscriptions"]) == 1
    provider.delete(ctx, ADDR, created.physical_id, props, created.outputs)
    assert provider.read(ctx, ADDR, created.physical_id, props) is None
    provider.delete(ctx, ADDR, created.physical_id, props, created.outputs)  # gone: no error


def test_lambda_subscription_lets_the_topic_invoke(
    ctx: ProviderContext, raw: Callable[[str], Any], tmp_path: Path
) -> None:
    function_name, alias_arn = deploy_function_and_alias(ctx, raw, tmp_path)
    arn = topic(raw)
    props = {"topic_arn": arn, "protocol": "lambda", "endpoint": alias_arn}
    created = get_provider("aws.sns.subscription").create(ctx, ADDR, props)
    assert created.physical_id.startswith(arn + ":")
    statements = policy_statements(raw, function_name, alias_arn.split(":")[-1])
    sns = [s for s in statements if s.get("Principal", {}).get("Service") == "sns.amazonaws.com"]
    assert len(sns) == 1 and arn in str(sns[0].get("Condition"))
