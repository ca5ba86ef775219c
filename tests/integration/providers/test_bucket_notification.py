"""aws.s3.notification against moto: the tool's Lambda entries in a bucket's one notification
document, next to notifications it did not make, which survive every put and the delete."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from strands_deploy.providers.base import ProviderContext
from strands_deploy.providers.registry import get_provider
from tests.integration.providers.helpers import deploy_function_and_alias

ADDR = "resource.docs.notification"
BUCKET = "demo-test-docs"


def entry(alias_arn: str, **overrides: Any) -> dict[str, Any]:
    base = {
        "id": "strands-support-docs",
        "function_arn": alias_arn,
        "events": ["s3:ObjectCreated:*"],
        "prefix": "in/",
        "suffix": ".txt",
    }
    return {**base, **overrides}


def test_notification_lifecycle_keeps_foreign_notifications(
    ctx: ProviderContext, raw: Callable[[str], Any], tmp_path: Path
) -> None:
    provider = get_provider("aws.s3.notification")
    s3 = raw("s3")
    _, alias_arn = deploy_function_and_alias(ctx, raw, tmp_path)
    s3.create_bucket(Bucket=BUCKET)
    queue_arn = raw("sqs").get_queue_attributes(
        QueueUrl=raw("sqs").create_queue(QueueName="demo-test-hand")["QueueUrl"], AttributeNames=["QueueArn"]
    )["Attributes"]["QueueArn"]
    hand_lambda = {"Id": "by-hand", "LambdaFunctionArn": alias_arn, "Events": ["s3:ObjectRemoved:*"]}
    s3.put_bucket_notification_configuration(
        Bucket=BUCKET,
        NotificationConfiguration={
            "QueueConfigurations": [{"Id": "q", "QueueArn": queue_arn, "Events": ["s3:ObjectCreated:*"]}],
            "LambdaFunctionConfigurations": [hand_lambda],
        },
    )
    props = {"bucket": BUCKET, "functions": [entry(alias_arn)]}
    created = provider.create(ctx, ADDR, props)
    assert created.physical_id == BUCKET
    doc = s3.get_bucket_notification_configuration(Bucket=BUCKET)
    ids = sorted(c["Id"] for c in doc["LambdaFunctionConfigurations"])
    assert ids == ["by-hand", "strands-support-docs"]
    assert [c["Id"] for c in doc["QueueConfigurations"]] == ["q"]
    live = provider.read(ctx, ADDR, BUCKET, props)
    assert live is not None and provider.drift(props, live) == {}
    assert live["observed"]["functions"][0]["prefix"] == "in/"

    # another agent's entry and a changed filter: our entries are replaced, the others kept
    new = {
        "bucket": BUCKET,
        "functions": [
            entry(alias_arn, suffix=".md"),
            entry(alias_arn, id="strands-other-docs", prefix="", suffix="", events=["s3:ObjectRemoved:*"]),
        ],
    }
    assert "functions" in provider.drift(new, live)
    out = provider.update(ctx, ADDR, BUCKET, props, new, created.outputs)
    assert provider.drift(new, out) == {}
    doc = s3.get_bucket_notification_configuration(Bucket=BUCKET)
    assert len(doc["LambdaFunctionConfigurations"]) == 3 and len(doc["QueueConfigurations"]) == 1

    found = provider.find(ctx, ADDR, new)
    assert found is not None and found.physical_id == BUCKET
    provider.delete(ctx, ADDR, BUCKET, new, out)
    doc = s3.get_bucket_notification_configuration(Bucket=BUCKET)
    assert [c["Id"] for c in doc["LambdaFunctionConfigurations"]] == ["by-hand"]
    assert [c["Id"] for c in doc["QueueConfigurations"]] == ["q"]
    assert provider.find(ctx, ADDR, new) is None

    s3.delete_bucket(Bucket=BUCKET)
    assert provider.read(ctx, ADDR, BUCKET, new) is None
    provider.delete(ctx, ADDR, BUCKET, new, out)  # bucket gone: no error
