"""``state bootstrap``: make an S3 bucket (and optionally a DynamoDB lock table) ready for state.

Each setting has one small function that reads the current value and changes it only when it
differs, returning what it changed in plain words; a second run on a ready bucket changes nothing
and returns ``[]``. Settings the user added themselves (other policy statements, other lifecycle
rules, an existing SSE-KMS default encryption) are kept.

The bucket is made safe for state files: versioning (every state ever written can be restored),
default encryption, all public access blocked, requests without TLS denied, and old versions
expired after ``noncurrent_days``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from strands_deploy.aws.arns import partition_for
from strands_deploy.aws.errors import error_code, to_deploy_error
from strands_deploy.errors import StrandsDeployError

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_s3 import S3Client

    from strands_deploy.aws.session import AwsContext

T = TypeVar("T")

TLS_SID = "StrandsDeployDenyInsecureTransport"
LIFECYCLE_RULE_ID = "strands-deploy-noncurrent-versions"
ABORT_MULTIPART_DAYS = 7

_BUCKET_MISSING = frozenset({"404", "NoSuchBucket", "NotFound"})
_PUBLIC_ACCESS_FLAGS = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")
_LIFECYCLE_ACTIONS = (
    "Expiration",
    "Transitions",
    "NoncurrentVersionExpiration",
    "NoncurrentVersionTransitions",
    "AbortIncompleteMultipartUpload",
)


def bootstrap_state_storage(
    aws: AwsContext,
    bucket: str,
    *,
    kms_key: str | None = None,
    lock_table: str | None = None,
    noncurrent_days: int = 90,
    tls_policy: bool | None = None,
) -> list[str]:
    """Make ``bucket`` (and ``lock_table`` when given) ready for remote state; the changes made.
    ``tls_policy``: add the TLS-only bucket policy (default: unless the endpoint is plain HTTP)."""
    s3 = aws.client("s3")
    changes = ensure_bucket(s3, bucket, aws.region)
    changes += ensure_versioning(s3, bucket)
    changes += ensure_encryption(s3, bucket, kms_key)
    changes += ensure_public_access_block(s3, bucket)
    if tls_policy if tls_policy is not None else not plain_http(aws):
        changes += ensure_tls_policy(s3, bucket, partition_for(aws.region))
    changes += ensure_lifecycle(s3, bucket, noncurrent_days)
    if lock_table:
        changes += ensure_lock_table(aws.client("dynamodb"), lock_table)
    return changes


def plain_http(aws: AwsContext) -> bool:
    """An emulator reached over plain HTTP (moto, LocalStack): it enforces bucket policies too,
    so a TLS-only policy would lock every later call out. AWS itself is always reached over TLS."""
    return (aws.endpoint_url or "").startswith("http://")


def _do(where: str, action: str, fn: Callable[[], T]) -> T:
    """``fn()``, an AWS call of IAM ``action``; a failure becomes a StrandsDeployError."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        return fn()
    except (ClientError, BotoCoreError) as err:
        raise to_deploy_error(err, where, action) from err


def _read(where: str, action: str, fn: Callable[[], T], missing: frozenset[str]) -> T | None:
    """Like :func:`_do`, but None when AWS answers one of the ``missing`` codes (a setting that
    was never configured, a bucket or table that does not exist)."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        return fn()
    except ClientError as err:
        if error_code(err) in missing:
            return None
        raise to_deploy_error(err, where, action) from err
    except BotoCoreError as err:
        raise to_deploy_error(err, where, action) from err


def _bucket_exists(s3: S3Client, bucket: str, where: str) -> bool:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        s3.head_bucket(Bucket=bucket)
        return True
    except ClientError as err:
        code = error_code(err)
        if code in _BUCKET_MISSING:
            return False
        if code in ("403", "Forbidden", "AccessDenied"):
            raise StrandsDeployError(
                f"the bucket {bucket} exists but cannot be used: it belongs to another AWS account, "
                "or this identity lacks s3:ListBucket on it",
                where,
                "choose another bucket name, or grant s3:ListBucket (and the other state permissions) "
                "on it to the identity running strands-deploy",
            ) from err
        raise to_deploy_error(err, where, "s3:ListBucket") from err
    except BotoCoreError as err:
        raise to_deploy_error(err, where, "s3:ListBucket") from err


def ensure_bucket(s3: S3Client, bucket: str, region: str) -> list[str]:
    where = f"s3://{bucket}"
    if _bucket_exists(s3, bucket, where):
        return []
    from botocore.exceptions import BotoCoreError, ClientError

    config: dict[str, Any] = {}
    if region != "us-east-1":
        config["CreateBucketConfiguration"] = {"LocationConstraint": region}
    try:
        s3.create_bucket(Bucket=bucket, **config)
    except ClientError as err:
        code = error_code(err)
        if code == "BucketAlreadyOwnedByYou":
            return []
        if code == "BucketAlreadyExists":
            raise StrandsDeployError(
                f"the bucket name {bucket} is already taken by another AWS account",
                where,
                "S3 bucket names are global: choose another bucket name (for example add your account "
                "id or a company prefix) and run the bootstrap again",
            ) from err
        raise to_deploy_error(err, where, "s3:CreateBucket") from err
    except BotoCoreError as err:
        raise to_deploy_error(err, where, "s3:CreateBucket") from err
    return [f"created bucket {bucket} in {region}"]


def ensure_versioning(s3: S3Client, bucket: str) -> list[str]:
    where = f"s3://{bucket}"
    current = _do(where, "s3:GetBucketVersioning", lambda: s3.get_bucket_versioning(Bucket=bucket))
    if current.get("Status") == "Enabled":
        return []
    _do(
        where,
        "s3:PutBucketVersioning",
        lambda: s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"}),
    )
    return ["enabled versioning"]


def ensure_encryption(s3: S3Client, bucket: str, kms_key: str | None) -> list[str]:
    """SSE-KMS with ``kms_key`` (and an S3 bucket key), else at least SSE-S3 (AES256): without a
    key, an existing default encryption of any kind is kept (never downgraded)."""
    where = f"s3://{bucket}"
    current = _read(
        where,
        "s3:GetEncryptionConfiguration",
        lambda: s3.get_bucket_encryption(Bucket=bucket),
        frozenset({"ServerSideEncryptionConfigurationNotFoundError"}),
    )
    rules = current["ServerSideEncryptionConfiguration"].get("Rules", []) if current else []
    rule: Any = rules[0] if rules else {}
    default = rule.get("ApplyServerSideEncryptionByDefault", {})
    wanted: Any
    if kms_key:
        if (
            default.get("SSEAlgorithm") == "aws:kms"
            and default.get("KMSMasterKeyID") == kms_key
            and rule.get("BucketKeyEnabled")
        ):
            return []
        wanted = {
            "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": kms_key},
            "BucketKeyEnabled": True,
        }
        change = f"set default encryption to SSE-KMS with key {kms_key} (bucket key on)"
    else:
        if default.get("SSEAlgorithm"):
            return []
        wanted = {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
        change = "set default encryption to SSE-S3 (AES256)"
    _do(
        where,
        "s3:PutEncryptionConfiguration",
        lambda: s3.put_bucket_encryption(
            Bucket=bucket, ServerSideEncryptionConfiguration={"Rules": [wanted]}
        ),
    )
    return [change]


def ensure_public_access_block(s3: S3Client, bucket: str) -> list[str]:
    where = f"s3://{bucket}"
    current = _read(
        where,
        "s3:GetBucketPublicAccessBlock",
        lambda: s3.get_public_access_block(Bucket=bucket),
        frozenset({"NoSuchPublicAccessBlockConfiguration"}),
    )
    config: Any = current["PublicAccessBlockConfiguration"] if current else {}
    if all(config.get(flag) is True for flag in _PUBLIC_ACCESS_FLAGS):
        return []
    wanted: Any = dict.fromkeys(_PUBLIC_ACCESS_FLAGS, True)
    _do(
        where,
        "s3:PutBucketPublicAccessBlock",
        lambda: s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration=wanted),
    )
    return ["blocked all public access"]


def tls_statement(bucket: str, partition: str = "aws") -> dict[str, Any]:
    """The policy statement denying every request to the bucket that is not over TLS."""
    arn = f"arn:{partition}:s3:::{bucket}"
    return {
        "Sid": TLS_SID,
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [arn, f"{arn}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


def ensure_tls_policy(s3: S3Client, bucket: str, partition: str = "aws") -> list[str]:
    where = f"s3://{bucket}"
    current = _read(
        where,
        "s3:GetBucketPolicy",
        lambda: s3.get_bucket_policy(Bucket=bucket),
        frozenset({"NoSuchBucketPolicy"}),
    )
    policy: dict[str, Any] = json.loads(current["Policy"]) if current else {"Version": "2012-10-17"}
    statements = policy.get("Statement", [])
    if isinstance(statements, dict):
        statements = [statements]
    wanted = tls_statement(bucket, partition)
    ours = [s for s in statements if s.get("Sid") == TLS_SID]
    if ours and _normalized(ours[0]) == _normalized(wanted):
        return []
    policy["Statement"] = [s for s in statements if s.get("Sid") != TLS_SID] + [wanted]
    _do(where, "s3:PutBucketPolicy", lambda: s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy)))
    verb = "updated" if ours else "added"
    return [f"{verb} bucket policy statement {TLS_SID} (deny requests without TLS)"]


def _normalized(statement: dict[str, Any]) -> dict[str, Any]:
    """A statement compared as AWS may return it: single-item lists as the item, lists unordered."""

    def norm(value: Any) -> Any:
        if isinstance(value, list):
            items = sorted((norm(v) for v in value), key=json.dumps)
            return items[0] if len(items) == 1 else items
        if isinstance(value, dict):
            return {k: norm(v) for k, v in value.items()}
        return value

    return {k: norm(v) for k, v in statement.items()}


def lifecycle_rule(noncurrent_days: int) -> dict[str, Any]:
    return {
        "ID": LIFECYCLE_RULE_ID,
        "Filter": {"Prefix": ""},
        "Status": "Enabled",
        "NoncurrentVersionExpiration": {"NoncurrentDays": noncurrent_days},
        "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": ABORT_MULTIPART_DAYS},
    }


def _rule_matches(rule: dict[str, Any], wanted: dict[str, Any]) -> bool:
    filter_ = rule.get("Filter", {"Prefix": rule.get("Prefix", "")})
    if filter_ not in ({}, {"Prefix": ""}) or rule.get("Status") != wanted["Status"]:
        return False
    return all(rule.get(action) == wanted.get(action) for action in _LIFECYCLE_ACTIONS)


def ensure_lifecycle(s3: S3Client, bucket: str, noncurrent_days: int) -> list[str]:
    where = f"s3://{bucket}"
    current = _read(
        where,
        "s3:GetLifecycleConfiguration",
        lambda: s3.get_bucket_lifecycle_configuration(Bucket=bucket),
        frozenset({"NoSuchLifecycleConfiguration"}),
    )
    rules: list[Any] = list(current.get("Rules", [])) if current else []
    wanted = lifecycle_rule(noncurrent_days)
    ours = [r for r in rules if r.get("ID") == LIFECYCLE_RULE_ID]
    if ours and _rule_matches(ours[0], wanted):
        return []
    kwargs: dict[str, Any] = {
        "Bucket": bucket,
        "LifecycleConfiguration": {
            "Rules": [r for r in rules if r.get("ID") != LIFECYCLE_RULE_ID] + [wanted]
        },
    }
    if current and current.get("TransitionDefaultMinimumObjectSize"):
        kwargs["TransitionDefaultMinimumObjectSize"] = current["TransitionDefaultMinimumObjectSize"]
    _do(where, "s3:PutLifecycleConfiguration", lambda: s3.put_bucket_lifecycle_configuration(**kwargs))
    verb = "updated" if ours else "added"
    return [
        f"{verb} lifecycle rule {LIFECYCLE_RULE_ID} (old versions expire after {noncurrent_days} days, "
        f"incomplete uploads after {ABORT_MULTIPART_DAYS})"
    ]


def ensure_lock_table(dynamodb: DynamoDBClient, table: str) -> list[str]:
    """A Terraform-compatible lock table: hash key ``LockID`` (string), on-demand billing."""
    where = f"dynamodb table {table}"
    missing = frozenset({"ResourceNotFoundException"})
    current = _read(
        where, "dynamodb:DescribeTable", lambda: dynamodb.describe_table(TableName=table), missing
    )
    if current is not None:
        _check_lock_key_schema(current["Table"], where)
        changes: list[str] = []
    else:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            dynamodb.create_table(
                TableName=table,
                AttributeDefinitions=[{"AttributeName": "LockID", "AttributeType": "S"}],
                KeySchema=[{"AttributeName": "LockID", "KeyType": "HASH"}],
                BillingMode="PAY_PER_REQUEST",
            )
            changes = [f"created DynamoDB lock table {table}"]
        except ClientError as err:
            if error_code(err) != "ResourceInUseException":  # created concurrently: wait for it
                raise to_deploy_error(err, where, "dynamodb:CreateTable") from err
            changes = []
        except BotoCoreError as err:
            raise to_deploy_error(err, where, "dynamodb:CreateTable") from err
    if current is None or current["Table"].get("TableStatus") != "ACTIVE":
        _wait_active(dynamodb, table, where)
    return changes


def _check_lock_key_schema(description: Any, where: str) -> None:
    keys = [(k["AttributeName"], k["KeyType"]) for k in description.get("KeySchema", [])]
    types = {a["AttributeName"]: a["AttributeType"] for a in description.get("AttributeDefinitions", [])}
    if keys == [("LockID", "HASH")] and types.get("LockID") == "S":
        return
    schema = ", ".join(f"{name} ({kind}, {types.get(name, '?')})" for name, kind in keys) or "none"
    raise StrandsDeployError(
        f"the table exists but is not a lock table: its key is {schema}, a lock table's is LockID "
        "(HASH, S) only",
        where,
        "choose another lock table name, or point to a table whose only key is the string LockID "
        "(the table Terraform's S3 backend uses works)",
    )


def _wait_active(dynamodb: DynamoDBClient, table: str, where: str) -> None:
    from botocore.exceptions import BotoCoreError, ClientError, WaiterError

    try:
        dynamodb.get_waiter("table_exists").wait(
            TableName=table, WaiterConfig={"Delay": 2, "MaxAttempts": 150}
        )
    except WaiterError as err:
        raise StrandsDeployError(
            f"the lock table did not become ACTIVE: {err}",
            where,
            f"check the table with `aws dynamodb describe-table --table-name {table}` and run the bootstrap again",
        ) from err
    except (ClientError, BotoCoreError) as err:
        raise to_deploy_error(err, where, "dynamodb:DescribeTable") from err
