"""``state bootstrap`` against a real moto server: every setting, idempotence, kept user settings."""

from __future__ import annotations

import json
from typing import Any

import pytest

from strands_deploy.aws.session import AwsContext
from strands_deploy.aws.state_bucket import LIFECYCLE_RULE_ID, TLS_SID, bootstrap_state_storage
from strands_deploy.errors import StrandsDeployError

BUCKET = "acme-state"


def _policy(s3: Any) -> dict[str, Any]:
    return json.loads(s3.get_bucket_policy(Bucket=BUCKET)["Policy"])


def _rules(s3: Any) -> dict[str, Any]:
    return {r["ID"]: r for r in s3.get_bucket_lifecycle_configuration(Bucket=BUCKET)["Rules"]}


def test_bootstrap_creates_everything(aws: AwsContext) -> None:
    changes = bootstrap_state_storage(
        aws, BUCKET, tls_policy=True, lock_table="acme-locks", noncurrent_days=30
    )
    assert changes[0] == f"created bucket {BUCKET} in us-east-1"
    assert "enabled versioning" in changes
    assert any("lock table acme-locks" in c for c in changes)
    assert len(changes) == 7

    s3 = aws.client("s3")
    s3.head_bucket(Bucket=BUCKET)
    assert s3.get_bucket_versioning(Bucket=BUCKET)["Status"] == "Enabled"
    enc = s3.get_bucket_encryption(Bucket=BUCKET)["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert enc["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    block = s3.get_public_access_block(Bucket=BUCKET)["PublicAccessBlockConfiguration"]
    assert block == {
        "BlockPublicAcls": True,
        "IgnorePublicAcls": True,
        "BlockPublicPolicy": True,
        "RestrictPublicBuckets": True,
    }
    (statement,) = _policy(s3)["Statement"]
    assert statement["Sid"] == TLS_SID and statement["Effect"] == "Deny"
    assert statement["Action"] == "s3:*" and statement["Principal"] == "*"
    assert sorted(statement["Resource"]) == [f"arn:aws:s3:::{BUCKET}", f"arn:aws:s3:::{BUCKET}/*"]
    assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    rule = _rules(s3)[LIFECYCLE_RULE_ID]
    assert rule["Status"] == "Enabled"
    assert rule["NoncurrentVersionExpiration"]["NoncurrentDays"] == 30
    assert rule["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 7}

    table = aws.client("dynamodb").describe_table(TableName="acme-locks")["Table"]
    assert table["TableStatus"] == "ACTIVE"
    assert table["KeySchema"] == [{"AttributeName": "LockID", "KeyType": "HASH"}]
    assert table["AttributeDefinitions"] == [{"AttributeName": "LockID", "AttributeType": "S"}]
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"


def test_second_run_changes_nothing(aws: AwsContext) -> None:
    assert bootstrap_state_storage(aws, BUCKET, tls_policy=True, lock_table="acme-locks")
    assert bootstrap_state_storage(aws, BUCKET, tls_policy=True, lock_table="acme-locks") == []


def test_second_run_with_kms_changes_nothing(aws: AwsContext) -> None:
    key_id = aws.client("kms").create_key(Description="state")["KeyMetadata"]["KeyId"]
    changes = bootstrap_state_storage(aws, BUCKET, tls_policy=True, kms_key=key_id)
    assert f"set default encryption to SSE-KMS with key {key_id} (bucket key on)" in changes
    enc = aws.client("s3").get_bucket_encryption(Bucket=BUCKET)["ServerSideEncryptionConfiguration"]["Rules"][
        0
    ]
    assert enc["ApplyServerSideEncryptionByDefault"] == {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key_id}
    assert enc["BucketKeyEnabled"] is True
    assert bootstrap_state_storage(aws, BUCKET, tls_policy=True, kms_key=key_id) == []
    # without a key, an existing SSE-KMS default is kept, not downgraded
    assert bootstrap_state_storage(aws, BUCKET, tls_policy=True) == []


def test_only_what_differs_is_changed(aws: AwsContext) -> None:
    s3 = aws.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    s3.put_public_access_block(
        Bucket=BUCKET,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": False,
            "RestrictPublicBuckets": True,
        },
    )
    changes = bootstrap_state_storage(aws, BUCKET, tls_policy=True)
    assert not any("created bucket" in c or "versioning" in c for c in changes)
    assert "blocked all public access" in changes
    assert s3.get_public_access_block(Bucket=BUCKET)["PublicAccessBlockConfiguration"]["BlockPublicPolicy"]


def test_other_policy_statements_and_rules_are_kept(aws: AwsContext) -> None:
    s3 = aws.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    other = {
        "Sid": "AuditorsRead",
        "Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
        "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{BUCKET}/*",
    }
    s3.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps({"Version": "2012-10-17", "Statement": [other]}))
    logs_rule = {
        "ID": "expire-logs",
        "Filter": {"Prefix": "logs/"},
        "Status": "Enabled",
        "Expiration": {"Days": 10},
    }
    s3.put_bucket_lifecycle_configuration(Bucket=BUCKET, LifecycleConfiguration={"Rules": [logs_rule]})

    changes = bootstrap_state_storage(aws, BUCKET, tls_policy=True)
    assert any(TLS_SID in c for c in changes) and any(LIFECYCLE_RULE_ID in c for c in changes)
    sids = {s["Sid"]: s for s in _policy(s3)["Statement"]}
    assert set(sids) == {"AuditorsRead", TLS_SID}
    assert sids["AuditorsRead"]["Action"] == "s3:GetObject"
    rules = _rules(s3)
    assert set(rules) == {"expire-logs", LIFECYCLE_RULE_ID}
    assert rules["expire-logs"]["Expiration"] == {"Days": 10}
    assert bootstrap_state_storage(aws, BUCKET, tls_policy=True) == []


def test_changed_lifecycle_days_update_the_rule(aws: AwsContext) -> None:
    bootstrap_state_storage(aws, BUCKET, tls_policy=True, noncurrent_days=90)
    changes = bootstrap_state_storage(aws, BUCKET, tls_policy=True, noncurrent_days=30)
    assert changes == [
        f"updated lifecycle rule {LIFECYCLE_RULE_ID} (old versions expire after 30 days, incomplete uploads after 7)"
    ]
    rule = _rules(aws.client("s3"))[LIFECYCLE_RULE_ID]
    assert rule["NoncurrentVersionExpiration"]["NoncurrentDays"] == 30


def test_lock_table_with_wrong_key_schema(aws: AwsContext) -> None:
    aws.client("dynamodb").create_table(
        TableName="acme-locks",
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    with pytest.raises(StrandsDeployError) as info:
        bootstrap_state_storage(aws, BUCKET, tls_policy=True, lock_table="acme-locks")
    err = info.value
    assert err.where == "dynamodb table acme-locks"
    assert "not a lock table" in err.what and "id (HASH, S)" in err.what
    assert err.fix is not None and "LockID" in err.fix


def test_existing_lock_table_is_kept(aws: AwsContext) -> None:
    aws.client("dynamodb").create_table(
        TableName="acme-locks",
        AttributeDefinitions=[{"AttributeName": "LockID", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "LockID", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    changes = bootstrap_state_storage(aws, BUCKET, tls_policy=True, lock_table="acme-locks")
    assert not any("lock table" in c for c in changes)


def test_bucket_in_another_region(moto: str) -> None:
    from strands_deploy.aws.session import AwsSettings

    aws = AwsContext(AwsSettings(region="eu-west-1", endpoint_url=moto, local=True, max_attempts=3))
    changes = bootstrap_state_storage(aws, BUCKET, tls_policy=True)
    assert changes[0] == f"created bucket {BUCKET} in eu-west-1"
    assert aws.client("s3").get_bucket_location(Bucket=BUCKET)["LocationConstraint"] == "eu-west-1"
    assert bootstrap_state_storage(aws, BUCKET, tls_policy=True) == []


def test_bucket_owned_by_someone_else(aws: AwsContext, monkeypatch: pytest.MonkeyPatch) -> None:
    from botocore.exceptions import ClientError

    s3 = aws.client("s3")

    def taken(**_: Any) -> Any:
        raise ClientError({"Error": {"Code": "BucketAlreadyExists", "Message": "taken"}}, "CreateBucket")

    monkeypatch.setattr(s3, "create_bucket", taken)
    with pytest.raises(StrandsDeployError) as info:
        bootstrap_state_storage(aws, BUCKET, tls_policy=True)
    assert info.value.where == f"s3://{BUCKET}"
    assert info.value.fix is not None and "choose another bucket name" in info.value.fix


def test_access_denied_names_the_action(aws: AwsContext, monkeypatch: pytest.MonkeyPatch) -> None:
    from botocore.exceptions import ClientError

    s3 = aws.client("s3")
    s3.create_bucket(Bucket=BUCKET)

    def denied(**_: Any) -> Any:
        raise ClientError({"Error": {"Code": "AccessDenied", "Message": "Access Denied"}}, "PutBucketPolicy")

    monkeypatch.setattr(s3, "put_bucket_policy", denied)
    with pytest.raises(StrandsDeployError) as info:
        bootstrap_state_storage(aws, BUCKET, tls_policy=True)
    assert info.value.fix is not None and "s3:PutBucketPolicy" in info.value.fix


def test_bucket_forbidden_on_head(aws: AwsContext, monkeypatch: pytest.MonkeyPatch) -> None:
    from botocore.exceptions import ClientError

    s3 = aws.client("s3")

    def forbidden(**_: Any) -> Any:
        raise ClientError({"Error": {"Code": "403", "Message": "Forbidden"}}, "HeadBucket")

    monkeypatch.setattr(s3, "head_bucket", forbidden)
    with pytest.raises(StrandsDeployError) as info:
        bootstrap_state_storage(aws, BUCKET, tls_policy=True)
    assert "another AWS account" in info.value.what
    assert info.value.fix is not None and "choose another bucket name" in info.value.fix
