"""What the engine relies on to adopt rather than duplicate: ``find`` without any state record for
the types whose ids AWS assigns, live tags from ``read``, and a bucket whose create was interrupted
after CreateBucket."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from strands_deploy.errors import StrandsDeployError
from strands_deploy.providers.base import Props, ProviderContext
from strands_deploy.providers.registry import get_provider, known_types
from tests.integration.providers.helpers import TAGS, deploy_function_and_alias


def test_random_id_types_are_exactly_those_aws_names() -> None:
    random = {t for t in known_types() if get_provider(t).random_id}
    assert random == {"aws.apigw.http_api", "aws.lambda.event_source", "aws.apigw.jwt_authorizer"}


def test_http_api_created_by_a_lost_response_is_found_without_a_record(
    ctx: ProviderContext, raw: Callable[[str], Any]
) -> None:
    """CreateApi acted, its answer never arrived: the next `find` (before any create) returns it."""
    props: Props = {"name": "demo-test-api", "throttle_burst": 50, "throttle_rate": 100, "tags": dict(TAGS)}
    provider = get_provider("aws.apigw.http_api")
    lost = raw("apigatewayv2").create_api(Name="demo-test-api", ProtocolType="HTTP", Tags=dict(TAGS))["ApiId"]
    found = provider.find(ctx, "shared.http-api", props)
    assert found is not None and found.physical_id == lost
    assert found.outputs["observed"]["stage"] == "$default"  # finished: the stage was missing
    assert provider.find(ctx, "shared.http-api", props) is not None  # and stable


def test_event_source_created_by_a_lost_response_is_found_without_a_record(
    ctx: ProviderContext, raw: Callable[[str], Any], tmp_path: Path
) -> None:
    _, alias_arn = deploy_function_and_alias(ctx, raw, tmp_path)
    sqs = raw("sqs")
    url = sqs.create_queue(QueueName="demo-test-jobs", Attributes={"VisibilityTimeout": "900"})["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    props: Props = {"function_name": alias_arn, "source_arn": queue_arn, "batch_size": 1}
    provider = get_provider("aws.lambda.event_source")
    assert provider.find(ctx, "agent.worker.trigger-jobs", props) is None
    lost = raw("lambda").create_event_source_mapping(EventSourceArn=queue_arn, FunctionName=alias_arn)["UUID"]
    found = provider.find(ctx, "agent.worker.trigger-jobs", props)
    assert found is not None and found.physical_id == lost


def test_route_is_found_by_api_and_route_key_without_a_record(
    ctx: ProviderContext, raw: Callable[[str], Any], tmp_path: Path
) -> None:
    name, alias_arn = deploy_function_and_alias(ctx, raw, tmp_path)
    api = get_provider("aws.apigw.http_api").create(
        ctx, "shared.http-api", {"name": "demo-test-api", "tags": dict(TAGS)}
    )
    apigw = raw("apigatewayv2")
    integration = apigw.create_integration(
        ApiId=api.physical_id,
        IntegrationType="AWS_PROXY",
        IntegrationUri=alias_arn,
        PayloadFormatVersion="2.0",
    )["IntegrationId"]
    route = apigw.create_route(
        ApiId=api.physical_id, RouteKey="POST /agents/support", Target=f"integrations/{integration}"
    )["RouteId"]
    props: Props = {
        "api_id": api.physical_id,
        "route_key": "POST /agents/support",
        "function_arn": alias_arn,
        "function_name": name,
        "qualifier": "live",
    }
    found = get_provider("aws.apigw.lambda_route").find(ctx, "agent.support.route", props)
    assert found is not None and found.physical_id == route
    assert "tags" not in found.outputs["observed"]  # routes cannot carry tags


# --- tags returned by read -------------------------------------------------------------------------


def test_alarm_tags_come_back_from_read_and_from_the_batched_read(ctx: ProviderContext) -> None:
    provider = get_provider("aws.cloudwatch.alarm")
    props: Props = {
        "name": "demo-test-support-errors",
        "namespace": "AWS/Lambda",
        "metric_name": "Errors",
        "threshold": 1,
        "tags": dict(TAGS),
    }
    untagged = {**props, "name": "demo-test-support-untagged", "tags": {}}
    provider.create(ctx, "a", props)
    provider.create(ctx, "b", untagged)
    single = provider.read(ctx, "a", "demo-test-support-errors", props)
    assert single is not None and single["observed"]["tags"] == TAGS
    many = provider.read_many(
        ctx, [("a", "demo-test-support-errors", props), ("b", "demo-test-support-untagged", untagged)]
    )
    a, b = many["a"], many["b"]
    assert a is not None and a["observed"]["tags"] == TAGS
    assert b is not None and b["observed"]["tags"] == {}
    assert provider.drift(props, a) == {}


# --- a bucket whose create stopped after CreateBucket ----------------------------------------------

BUCKET = "demo-test-docs-123456789012"
BUCKET_PROPS: Props = {"name": BUCKET, "versioning": True, "retain": False, "tags": dict(TAGS)}


@pytest.fixture
def failing_s3_call(ctx: ProviderContext) -> Iterator[Callable[[str], Callable[[], None]]]:
    """Make one S3 operation of the tool's own client fail (as a dropped connection or a denied
    call would) until the returned function is called (the next run) or the test ends."""
    events = ctx.client("s3").meta.events
    registered: list[tuple[str, Callable[..., None]]] = []

    def fail(operation: str) -> Callable[[], None]:
        def handler(**_: Any) -> None:
            raise ClientError({"Error": {"Code": "InternalError", "Message": "injected"}}, operation)

        name = f"before-call.s3.{operation}"
        events.register(name, handler)
        registered.append((name, handler))
        return lambda: events.unregister(name, handler)

    yield fail
    for name, handler in registered:
        events.unregister(name, handler)


def test_bucket_create_interrupted_after_create_bucket_is_adopted_and_finished(
    ctx: ProviderContext, raw: Callable[[str], Any], failing_s3_call: Callable[[str], Callable[[], None]]
) -> None:
    provider = get_provider("aws.s3.bucket")
    s3 = raw("s3")
    next_run = failing_s3_call("PutPublicAccessBlock")  # the first configuration call after tagging
    with pytest.raises(StrandsDeployError):
        provider.create(ctx, "resource.docs.bucket", BUCKET_PROPS)
    # the bucket exists and is already tagged as this environment's...
    tags = {t["Key"]: t["Value"] for t in s3.get_bucket_tagging(Bucket=BUCKET)["TagSet"]}
    assert tags == TAGS
    next_run()
    # ...so the next run's find (the engine's answer to "already exists") adopts it and finishes it
    found = provider.find(ctx, "resource.docs.bucket", BUCKET_PROPS)
    assert found is not None and found.physical_id == BUCKET
    assert s3.get_public_access_block(Bucket=BUCKET)["PublicAccessBlockConfiguration"]["BlockPublicAcls"]


def test_find_adopts_and_configures_a_bucket_left_by_an_interrupted_create(
    ctx: ProviderContext, raw: Callable[[str], Any], failing_s3_call: Callable[[str], Callable[[], None]]
) -> None:
    provider = get_provider("aws.s3.bucket")
    s3 = raw("s3")
    next_run = failing_s3_call("PutBucketEncryption")
    with pytest.raises(StrandsDeployError):
        provider.create(ctx, "resource.docs.bucket", BUCKET_PROPS)
    assert raw("s3").get_bucket_versioning(Bucket=BUCKET).get("Status") is None  # not configured
    next_run()
    found = provider.find(ctx, "resource.docs.bucket", BUCKET_PROPS)
    assert found is not None and found.physical_id == BUCKET
    assert found.outputs["observed"]["versioning"] is True
    assert found.outputs["observed"]["encryption"] == "AES256"
    assert found.outputs["observed"]["tags"] == TAGS
    assert s3.get_public_access_block(Bucket=BUCKET)["PublicAccessBlockConfiguration"]["BlockPublicAcls"]
    assert provider.drift(BUCKET_PROPS, found.outputs) == {}


def test_a_bucket_of_another_environment_is_never_found(
    ctx: ProviderContext, raw: Callable[[str], Any]
) -> None:
    raw("s3").create_bucket(Bucket=BUCKET)
    other = [{"Key": k, "Value": v} for k, v in {**TAGS, "strands:environment": "prod"}.items()]
    raw("s3").put_bucket_tagging(Bucket=BUCKET, Tagging={"TagSet": other})
    assert get_provider("aws.s3.bucket").find(ctx, "resource.docs.bucket", BUCKET_PROPS) is None
