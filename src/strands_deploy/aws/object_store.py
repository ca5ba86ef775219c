"""An :class:`~strands_deploy.state.remote.ObjectStore` over one S3 bucket (boto3).

Conditional writes use S3's own preconditions (``If-None-Match: *`` and ``If-Match``), so the
exactly-one-winner and compare-and-swap guarantees of the protocol are S3's, not ours. Every
botocore failure is converted here, once: a precondition that did not hold becomes
:class:`PreconditionFailed`; anything else a :class:`StoreError` naming the ``s3://`` location and
the fix (the bootstrap command for a missing bucket, the IAM action for access denied, ...).

botocore is imported inside functions only: importing this module stays cheap.
"""

from __future__ import annotations

from collections.abc import Callable
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any, TypeVar

from strands_deploy.aws.errors import ACCESS_DENIED_CODES, error_code, error_message, to_deploy_error
from strands_deploy.state.remote import ObjectVersion, PreconditionFailed, StoredObject, StoreError

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

T = TypeVar("T")

DEFAULT_BOOTSTRAP_HINT = "strands-deploy state bootstrap"

# A conditional write that did not apply: the object changed (412), a concurrent conditional
# write to the same key won (409), or the object is gone (404 on If-Match).
_PRECONDITION_CODES = frozenset({"PreconditionFailed", "412", "ConditionalRequestConflict", "409"})
_MISSING_KEY_CODES = frozenset({"NoSuchKey", "404", "NotFound"})
_MISSING_VERSION_CODES = _MISSING_KEY_CODES | {"NoSuchVersion"}
_KMS_ACTIONS = ("kms:GenerateDataKey", "kms:Decrypt")


def _mentions_kms(code: str, message: str) -> bool:
    return code.upper().startswith("KMS") or "kms" in message.lower()


def _is_network_error(err: BaseException) -> bool:
    from botocore import exceptions as bex

    return isinstance(err, bex.ConnectionError | bex.HTTPClientError)


def store_error(
    err: BaseException, where: str, action: str, *, service: str = "S3", kms: bool = False
) -> StoreError:
    """Convert a botocore failure of ``action`` (``s3:GetObject``) on ``where`` into a StoreError.

    ``kms``: the call encrypts or decrypts with SSE-KMS, so a denial may be KMS's.
    """
    if isinstance(err, StoreError):
        return err
    code = error_code(err)
    message = error_message(err).strip()
    if code in ACCESS_DENIED_CODES or "not authorized to perform" in message or "AccessDenied" in code:
        actions = [action]
        if kms or _mentions_kms(code, message):
            actions += [a for a in _KMS_ACTIONS if a not in actions]
        return StoreError(
            f"{service} denied {action} ({code or 'access denied'}): {message}",
            where,
            f"grant {', '.join(actions)} on {where} to the identity running strands-deploy "
            "(see `aws sts get-caller-identity`), or use a profile that has it",
        )
    if _is_network_error(err):
        return StoreError(
            f"cannot reach {service}: {message}",
            where,
            "check your network connection and the environment's region/endpoint settings, then run "
            "the command again",
        )
    # Credentials, throttling and everything else: the conventions of aws/errors.py.
    converted = to_deploy_error(err, where, action)
    return StoreError(converted.what, converted.where, converted.fix)


def _epoch(value: Any) -> float | None:
    timestamp = getattr(value, "timestamp", None)
    return float(timestamp()) if callable(timestamp) else None


def server_time(response: Any) -> float | None:
    """The store's clock when it answered: the HTTP ``Date`` header of a boto3 response."""
    headers = (
        response.get("ResponseMetadata", {}).get("HTTPHeaders", {}) if isinstance(response, dict) else {}
    )
    date = headers.get("date")
    if not date:
        return None
    try:
        return parsedate_to_datetime(date).timestamp()
    except (TypeError, ValueError):
        return None


class S3ObjectStore:
    """Objects under one S3 bucket (implements ``state.remote.ObjectStore``)."""

    def __init__(
        self,
        client: S3Client,
        bucket: str,
        *,
        kms_key: str | None = None,
        bootstrap_hint: str = DEFAULT_BOOTSTRAP_HINT,
    ) -> None:
        self._client = client
        self.bucket = bucket
        self.kms_key = kms_key
        self.bootstrap_hint = bootstrap_hint

    def location(self, key: str) -> str:
        return f"s3://{self.bucket}/{key}"

    @property
    def bucket_location(self) -> str:
        return f"s3://{self.bucket}"

    def _call(self, where: str, action: str, fn: Callable[[], T], *, kms: bool = False) -> T:
        """``fn()``; a botocore failure becomes a StoreError (a missing bucket: the bootstrap fix)."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return fn()
        except (ClientError, BotoCoreError) as err:
            if error_code(err) == "NoSuchBucket":
                raise StoreError(
                    f"the state bucket {self.bucket} does not exist",
                    where,
                    f"create it with `{self.bootstrap_hint}`",
                ) from err
            raise store_error(err, where, action, kms=kms) from err

    def get(self, key: str, version_id: str | None = None) -> StoredObject | None:
        from botocore.exceptions import ClientError

        kwargs: dict[str, Any] = {"Bucket": self.bucket, "Key": key}
        if version_id is not None:
            kwargs["VersionId"] = version_id

        def fetch() -> StoredObject | None:
            try:
                response = self._client.get_object(**kwargs)
            except ClientError as err:
                if error_code(err) in _MISSING_VERSION_CODES:
                    return None
                raise
            return StoredObject(
                body=response["Body"].read(),
                etag=response["ETag"],
                version_id=response.get("VersionId"),
                last_modified=_epoch(response.get("LastModified")),
                server_time=server_time(response),
            )

        return self._call(self.location(key), "s3:GetObject", fetch, kms=self.kms_key is not None)

    def put(self, key: str, body: bytes, *, if_match: str | None = None, if_absent: bool = False) -> str:
        from botocore.exceptions import ClientError

        kwargs: dict[str, Any] = {"Bucket": self.bucket, "Key": key, "Body": body}
        if self.kms_key:
            kwargs.update(ServerSideEncryption="aws:kms", SSEKMSKeyId=self.kms_key)
        if if_absent:
            kwargs["IfNoneMatch"] = "*"
        if if_match is not None:
            kwargs["IfMatch"] = if_match
        conditional = if_absent or if_match is not None

        def write() -> str:
            try:
                return str(self._client.put_object(**kwargs)["ETag"])
            except ClientError as err:
                if conditional and self._precondition_failed(err):
                    raise PreconditionFailed(f"{self.location(key)}: {error_message(err)}") from None
                raise

        return self._call(self.location(key), "s3:PutObject", write, kms=self.kms_key is not None)

    def delete(self, key: str, *, if_match: str | None = None) -> None:
        from botocore.exceptions import ClientError

        kwargs: dict[str, Any] = {"Bucket": self.bucket, "Key": key}
        if if_match is not None:
            kwargs["IfMatch"] = if_match

        def remove() -> None:
            try:
                self._client.delete_object(**kwargs)
            except ClientError as err:
                if if_match is not None and self._precondition_failed(err):
                    raise PreconditionFailed(f"{self.location(key)}: {error_message(err)}") from None
                raise

        self._call(self.location(key), "s3:DeleteObject", remove)

    @staticmethod
    def _precondition_failed(err: BaseException) -> bool:
        code = error_code(err)
        return code in _PRECONDITION_CODES or code in _MISSING_KEY_CODES

    def list_keys(self, prefix: str) -> list[str]:
        def listing() -> list[str]:
            keys: list[str] = []
            paginator = self._client.get_paginator("list_objects_v2")
            for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
                keys.extend(item["Key"] for item in page.get("Contents", []) if "Key" in item)
            return sorted(keys)

        return self._call(self.location(prefix), "s3:ListBucket", listing)

    def versions(self, key: str) -> list[ObjectVersion]:
        def listing() -> list[ObjectVersion]:
            found: list[ObjectVersion] = []
            paginator = self._client.get_paginator("list_object_versions")
            for page in paginator.paginate(Bucket=self.bucket, Prefix=key):
                entries: list[tuple[Any, bool]] = [(v, False) for v in page.get("Versions", [])]
                entries += [(m, True) for m in page.get("DeleteMarkers", [])]
                for entry, deleted in entries:
                    if entry.get("Key") != key:
                        continue
                    found.append(
                        ObjectVersion(
                            version_id=str(entry.get("VersionId")),
                            last_modified=_epoch(entry.get("LastModified")) or 0.0,
                            is_latest=bool(entry.get("IsLatest")),
                            deleted=deleted,
                        )
                    )
            # Newest first: the current one, then by time. S3 lists a key's versions newest first
            # and the sort is stable, so versions written within the same second keep that order.
            found.sort(key=lambda v: (v.is_latest, v.last_modified), reverse=True)
            return found

        return self._call(self.location(key), "s3:ListBucketVersions", listing)

    def versioning_enabled(self) -> bool:
        def status() -> bool:
            return self._client.get_bucket_versioning(Bucket=self.bucket).get("Status") == "Enabled"

        return self._call(self.bucket_location, "s3:GetBucketVersioning", status)
