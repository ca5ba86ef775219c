from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from strands_deploy.aws.session import AwsContext, AwsSettings
from strands_deploy.errors import StrandsDeployError
from strands_deploy.providers.base import Props, ProviderContext
from strands_deploy.providers.registry import get_provider
from tests.integration.providers.helpers import TAGS

ADDR = "resource.docs.bucket"
NAME = "demo-test-docs-123456789012"


def props(**overrides: Any) -> Props:
    p: Props = {"name": NAME, "versioning": True, "retain": False, "tags": dict(TAGS)}
    p.update(overrides)
    return p


def test_bucket_lifecycle(ctx: ProviderContext, raw: Callable[[str], Any]) -> None:
    provider = get_provider("aws.s3.bucket")
    s3 = raw("s3")

    created = provider.create(ctx, ADDR, props())
    assert created.physical_id == NAME
    assert created.outputs == {**created.outputs, "arn": f"arn:aws:s3:::{NAME}", "name": NAME}
    rule = s3.get_bucket_encryption(Bucket=NAME)["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    block = s3.get_public_access_block(Bucket=NAME)["PublicAccessBlockConfiguration"]
    assert block == {
        "BlockPublicAcls": True,
        "IgnorePublicAcls": True,
        "BlockPublicPolicy": True,
        "RestrictPublicBuckets": True,
    }
    assert s3.get_bucket_versioning(Bucket=NAME)["Status"] == "Enabled"
    tags = {t["Key"]: t["Value"] for t in s3.get_bucket_tagging(Bucket=NAME)["TagSet"]}
    assert tags["strands:project"] == "demo"

    live = provider.read(ctx, ADDR, NAME, props())
    assert live is not None and provider.drift(props(), live) == {}
    assert live["observed"]["encryption"] == "AES256"

    new = props(versioning=False, tags={**TAGS, "team": "core"})
    provider.update(ctx, ADDR, NAME, props(), new, created.outputs)
    live = provider.read(ctx, ADDR, NAME, new)
    assert live is not None
    assert live["observed"]["versioning"] is False
    assert live["observed"]["tags"]["team"] == "core"
    assert s3.get_bucket_versioning(Bucket=NAME)["Status"] == "Suspended"

    # retain: false empties every version and delete marker, then deletes the bucket
    s3.put_object(Bucket=NAME, Key="a.txt", Body=b"1")
    s3.put_object(Bucket=NAME, Key="a.txt", Body=b"2")
    s3.delete_object(Bucket=NAME, Key="a.txt")
    s3.put_object(Bucket=NAME, Key="b.txt", Body=b"3")
    provider.delete(ctx, ADDR, NAME, new, created.outputs)
    assert provider.read(ctx, ADDR, NAME, new) is None
    assert NAME not in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    provider.delete(ctx, ADDR, NAME, new, created.outputs)


def test_retained_bucket_with_objects_is_not_deleted(ctx: ProviderContext, raw: Callable[[str], Any]) -> None:
    provider = get_provider("aws.s3.bucket")
    s3 = raw("s3")
    kept = props(retain=True)
    created = provider.create(ctx, ADDR, kept)
    s3.put_object(Bucket=NAME, Key="important.txt", Body=b"data")
    with pytest.raises(StrandsDeployError) as info:
        provider.delete(ctx, ADDR, NAME, kept, created.outputs)
    assert info.value.where == ADDR
    assert info.value.fix is not None and "retain: false" in info.value.fix
    assert s3.get_object(Bucket=NAME, Key="important.txt")["Body"].read() == b"data"

    # once empty (only versions count: delete markers and old versions too), it can go
    for version in s3.list_object_versions(Bucket=NAME).get("Versions", []):
        s3.delete_object(Bucket=NAME, Key=version["Key"], VersionId=version["VersionId"])
    provider.delete(ctx, ADDR, NAME, kept, created.outputs)
    assert provider.read(ctx, ADDR, NAME, kept) is None


def test_bucket_deleted_behind_our_back(ctx: ProviderContext, raw: Callable[[str], Any]) -> None:
    provider = get_provider("aws.s3.bucket")
    created = provider.create(ctx, ADDR, props(versioning=False))
    raw("s3").delete_bucket(Bucket=NAME)
    assert provider.read(ctx, ADDR, created.physical_id, props()) is None


def test_bucket_find_adopts_only_a_tagged_bucket(ctx: ProviderContext, raw: Callable[[str], Any]) -> None:
    provider = get_provider("aws.s3.bucket")
    s3 = raw("s3")
    assert provider.find(ctx, ADDR, props()) is None
    s3.create_bucket(Bucket=NAME)
    assert provider.find(ctx, ADDR, props()) is None  # untagged: not ours
    s3.put_bucket_tagging(Bucket=NAME, Tagging={"TagSet": [{"Key": k, "Value": v} for k, v in TAGS.items()]})
    found = provider.find(ctx, ADDR, props())
    assert found is not None and found.physical_id == NAME
    # adoption finishes the configuration an interrupted create may have skipped
    assert s3.get_bucket_versioning(Bucket=NAME)["Status"] == "Enabled"
    assert (
        s3.get_public_access_block(Bucket=NAME)["PublicAccessBlockConfiguration"]["BlockPublicAcls"] is True
    )


def test_bucket_denies_plain_http_on_aws(ctx: ProviderContext, raw: Callable[[str], Any]) -> None:
    """Outside the local cloud the bucket policy refuses any request not made over TLS."""
    remote = dataclasses.replace(
        ctx,
        aws=AwsContext(AwsSettings(region="us-east-1", endpoint_url=ctx.aws.endpoint_url, max_attempts=3)),
    )
    get_provider("aws.s3.bucket").create(remote, ADDR, props())
    s3 = raw("s3")
    assert "aws:SecureTransport" in s3.get_bucket_policy(Bucket=NAME)["Policy"]
    with pytest.raises(ClientError) as info:
        s3.put_object(Bucket=NAME, Key="a.txt", Body=b"over http")  # moto serves plain HTTP
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_bucket_expiry_is_set_changed_and_removed(ctx: ProviderContext, raw: Callable[[str], Any]) -> None:
    provider = get_provider("aws.s3.bucket")
    s3 = raw("s3")
    expiring = props(expire_days=30)
    created = provider.create(ctx, ADDR, expiring)
    rules = s3.get_bucket_lifecycle_configuration(Bucket=NAME)["Rules"]
    assert [(r["ID"], r["Status"]) for r in rules] == [("strands-expire", "Enabled")]
    assert rules[0]["Expiration"]["Days"] == 30
    assert rules[0]["NoncurrentVersionExpiration"]["NoncurrentDays"] == 30
    live = provider.read(ctx, ADDR, NAME, expiring)
    assert live is not None and live["observed"]["expire_days"] == 30
    assert provider.drift(expiring, live) == {}

    shorter = props(expire_days=7)
    assert provider.drift(shorter, live) == {"expire_days": (30, 7)}
    provider.update(ctx, ADDR, NAME, expiring, shorter, created.outputs)
    rules = s3.get_bucket_lifecycle_configuration(Bucket=NAME)["Rules"]
    assert rules[0]["Expiration"]["Days"] == 7 and len(rules) == 1

    provider.update(ctx, ADDR, NAME, shorter, props(), created.outputs)
    with pytest.raises(ClientError) as info:
        s3.get_bucket_lifecycle_configuration(Bucket=NAME)
    assert info.value.response["Error"]["Code"] == "NoSuchLifecycleConfiguration"
    live = provider.read(ctx, ADDR, NAME, props())
    assert live is not None and live["observed"]["expire_days"] is None
    assert provider.drift(props(), live) == {}


def test_retained_bucket_refusal_counts_and_delete_data_empties_it(
    ctx: ProviderContext, raw: Callable[[str], Any]
) -> None:
    provider = get_provider("aws.s3.bucket")
    s3 = raw("s3")
    kept = props(retain=True)
    created = provider.create(ctx, ADDR, kept)
    s3.put_object(Bucket=NAME, Key="a.txt", Body=b"1")
    s3.put_object(Bucket=NAME, Key="a.txt", Body=b"2")
    s3.delete_object(Bucket=NAME, Key="a.txt")  # two versions and a delete marker
    assert provider.contents(ctx, ADDR, NAME, kept) == 3
    assert provider.contents(ctx, ADDR, NAME, props(retain=False)) is None
    with pytest.raises(StrandsDeployError) as info:
        provider.delete(ctx, ADDR, NAME, kept, created.outputs)
    assert NAME in info.value.what and "3 objects" in info.value.what
    assert info.value.fix is not None and "--delete-data" in info.value.fix

    provider.delete(dataclasses.replace(ctx, delete_data=True), ADDR, NAME, kept, created.outputs)
    assert provider.read(ctx, ADDR, NAME, kept) is None
    assert provider.contents(ctx, ADDR, NAME, kept) is None
