"""aws.lambda.permission against moto: a service principal's statement on the alias, scoped by
source, with the tool's Sid prefix; replaced in place, found by its Sid, deleted idempotently."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from strands_deploy.providers.base import ProviderContext
from strands_deploy.providers.lambda_function import OWN_SID_PREFIX
from strands_deploy.providers.lambda_permission import statement_id
from strands_deploy.providers.registry import get_provider
from tests.integration.providers.helpers import deploy_function_and_alias, policy_statements

ADDR = "agent.support.trigger-docs-permission"
BUCKET_ARN = "arn:aws:s3:::demo-test-docs-123456789012"


def test_permission_lifecycle(ctx: ProviderContext, raw: Callable[[str], Any], tmp_path: Path) -> None:
    provider = get_provider("aws.lambda.permission")
    function_name, alias_arn = deploy_function_and_alias(ctx, raw, tmp_path)
    props = {
        "function_name": alias_arn,
        "principal": "s3.amazonaws.com",
        "source_arn": BUCKET_ARN,
        "source_account": "123456789012",
    }
    created = provider.create(ctx, ADDR, props)
    sid = statement_id("s3.amazonaws.com", BUCKET_ARN)
    assert sid.startswith(OWN_SID_PREFIX + "s3-")  # the function's exclusive_access keeps it
    assert created.physical_id == f"{function_name}:live:{sid}"
    statements = policy_statements(raw, function_name, "live")
    assert [s["Sid"] for s in statements] == [sid]
    assert BUCKET_ARN in str(statements[0]["Condition"]) and "123456789012" in str(statements[0]["Condition"])

    live = provider.read(ctx, ADDR, created.physical_id, props)
    assert live is not None and provider.drift(props, live) == {}
    found = provider.find(ctx, ADDR, props)
    assert found is not None and found.physical_id == created.physical_id

    # creating again (a lost response) replaces the statement, never adds a second one
    provider.create(ctx, ADDR, props)
    assert len(policy_statements(raw, function_name, "live")) == 1

    # removed by hand: read says gone, update puts it back
    raw("lambda").remove_permission(FunctionName=function_name, Qualifier="live", StatementId=sid)
    assert provider.read(ctx, ADDR, created.physical_id, props) is None
    provider.update(ctx, ADDR, created.physical_id, props, props, created.outputs)
    assert [s["Sid"] for s in policy_statements(raw, function_name, "live")] == [sid]

    provider.delete(ctx, ADDR, created.physical_id, props, created.outputs)
    assert policy_statements(raw, function_name, "live") == []
    assert provider.find(ctx, ADDR, props) is None
    provider.delete(ctx, ADDR, created.physical_id, props, created.outputs)  # gone: no error


def test_sns_permission_is_the_subscriptions_statement(
    ctx: ProviderContext, raw: Callable[[str], Any], tmp_path: Path
) -> None:
    """A topic trigger: the permission is the statement; its subscription (grant: false) adds none."""
    function_name, alias_arn = deploy_function_and_alias(ctx, raw, tmp_path)
    topic_arn = str(raw("sns").create_topic(Name="demo-test-news")["TopicArn"])
    props = {"function_name": alias_arn, "principal": "sns.amazonaws.com", "source_arn": topic_arn}
    get_provider("aws.lambda.permission").create(ctx, ADDR, props)
    sub = {"topic_arn": topic_arn, "protocol": "lambda", "endpoint": alias_arn, "grant": False}
    get_provider("aws.sns.subscription").create(ctx, "agent.support.trigger-news", sub)
    assert len(policy_statements(raw, function_name, "live")) == 1
