"""aws.s3.bucket: a private, encrypted bucket (AES256, public access fully blocked, TLS only).

The TLS-only bucket policy (deny ``aws:SecureTransport = false``) is not applied on the local
cloud, which is plain HTTP.

Create tags the bucket first, right after CreateBucket: a create interrupted before the rest of the
configuration leaves a bucket carrying this environment's tags, which ``find`` adopts and finishes
configuring (an untagged one it could only refuse).

``expire_days`` is a lifecycle rule (id ``strands-expire``) expiring current objects and
noncurrent versions after that many days. The bucket's lifecycle configuration is strands-deploy's:
setting the rule replaces the whole configuration, and ``expire_days: None`` deletes it (both sent
only when ``expire_days`` changes).

Delete: with ``retain: false`` every object version and delete marker is removed first; with
``retain: true`` a non-empty bucket is refused with its object count (an empty one is deleted),
unless ``ctx.delete_data`` (``destroy --delete-data``), which empties it as for ``retain: false``.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

from strands_deploy.aws.arns import partition_for
from strands_deploy.aws.errors import call, call_or_none, ignore_not_found
from strands_deploy.errors import StrandsDeployError
from strands_deploy.providers._common import (
    call_unless,
    owned,
    paginate,
    read_at_once,
    require,
    tag_dict,
    tag_list,
)
from strands_deploy.providers.base import (
    CONTENTS_LIMIT,
    Created,
    Outputs,
    Props,
    PropsModel,
    Provider,
    ProviderContext,
    contents_text,
)

PUBLIC_ACCESS_BLOCK = {
    "BlockPublicAcls": True,
    "IgnorePublicAcls": True,
    "BlockPublicPolicy": True,
    "RestrictPublicBuckets": True,
}


class BucketProps(PropsModel):
    name: str
    versioning: bool = False
    retain: bool = True  # refuse to delete a non-empty bucket (destroy --delete-data overrides)
    expire_days: int | None = None  # lifecycle: objects and noncurrent versions expire after N days
    tags: dict[str, str] = {}


EXPIRE_RULE = "strands-expire"


def _tls_only_policy(arn: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "DenyInsecureTransport",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "s3:*",
                    "Resource": [arn, f"{arn}/*"],
                    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                }
            ],
        }
    )


class BucketProvider(Provider):
    type_name: ClassVar[str] = "aws.s3.bucket"
    props_model: ClassVar[type[PropsModel]] = BucketProps
    expected_seconds: ClassVar[float] = 1.0
    replace_on: ClassVar[frozenset[str]] = frozenset({"name"})
    contents_noun: ClassVar[str] = "object"

    def _arn(self, ctx: ProviderContext, name: str) -> str:
        return f"arn:{partition_for(ctx.aws.region)}:s3:::{name}"

    def create(self, ctx: ProviderContext, address: str, props: Props) -> Created:
        p = BucketProps.parse(props, address)
        s3 = ctx.client("s3")
        name = p.name
        kwargs: dict[str, Any] = {"Bucket": name}
        if ctx.aws.region != "us-east-1":
            kwargs["CreateBucketConfiguration"] = {"LocationConstraint": ctx.aws.region}
        call(address, s3, "create_bucket", resource_name=name, **kwargs)
        # Tags first: if anything below fails (or the run dies), the bucket is recognisably ours
        # and the next run's `find` adopts it and finishes the configuration.
        self._set_tags(ctx, address, name, p.tags)
        self._configure(ctx, address, name, p, tags=False)
        return Created(name, require(self.read(ctx, address, name, props), address, f"bucket {name}"))

    def _configure(
        self, ctx: ProviderContext, address: str, name: str, p: BucketProps, *, tags: bool = True
    ) -> None:
        s3 = ctx.client("s3")
        if tags:
            self._set_tags(ctx, address, name, p.tags)
        call(
            address,
            s3,
            "put_public_access_block",
            Bucket=name,
            PublicAccessBlockConfiguration=PUBLIC_ACCESS_BLOCK,
        )
        call(
            address,
            s3,
            "put_bucket_encryption",
            Bucket=name,
            ServerSideEncryptionConfiguration={
                "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
            },
        )
        if not ctx.aws.settings.local:
            # Not on the local cloud: it is served over plain HTTP, which this policy denies.
            call(address, s3, "put_bucket_policy", Bucket=name, Policy=_tls_only_policy(self._arn(ctx, name)))
        if p.versioning:
            self._set_versioning(ctx, address, name, True)
        if p.expire_days is not None:
            self._set_expiry(ctx, address, name, p.expire_days)

    def _set_expiry(self, ctx: ProviderContext, address: str, name: str, days: int | None) -> None:
        s3 = ctx.client("s3")
        if days is None:
            ignore_not_found(address, s3, "delete_bucket_lifecycle", Bucket=name)
            return
        rule = {
            "ID": EXPIRE_RULE,
            "Status": "Enabled",
            "Filter": {"Prefix": ""},
            "Expiration": {"Days": days},
            "NoncurrentVersionExpiration": {"NoncurrentDays": days},
        }
        call(
            address,
            s3,
            "put_bucket_lifecycle_configuration",
            Bucket=name,
            LifecycleConfiguration={"Rules": [rule]},
        )

    def _expiry(self, ctx: ProviderContext, address: str, name: str) -> int | None:
        """The days of the ``strands-expire`` rule, None when there is no such enabled rule."""
        resp = call_unless(
            address,
            ctx.client("s3"),
            "get_bucket_lifecycle_configuration",
            codes=("NoSuchLifecycleConfiguration", "NoSuchBucket"),
            Bucket=name,
        )
        for rule in (resp or {}).get("Rules", []):
            if rule.get("ID") == EXPIRE_RULE and rule.get("Status") == "Enabled":
                days = (rule.get("Expiration") or {}).get("Days")
                return int(days) if days is not None else None
        return None

    def _set_versioning(self, ctx: ProviderContext, address: str, name: str, enabled: bool) -> None:
        call(
            address,
            ctx.client("s3"),
            "put_bucket_versioning",
            Bucket=name,
            VersioningConfiguration={"Status": "Enabled" if enabled else "Suspended"},
        )

    def _set_tags(self, ctx: ProviderContext, address: str, name: str, tags: dict[str, str]) -> None:
        s3 = ctx.client("s3")
        if tags:
            call(address, s3, "put_bucket_tagging", Bucket=name, Tagging={"TagSet": tag_list(tags)})
        else:
            ignore_not_found(address, s3, "delete_bucket_tagging", Bucket=name)

    def check_many(
        self, ctx: ProviderContext, items: list[tuple[str, str, Props]]
    ) -> dict[str, Outputs | None] | None:
        """Deploy's cheap check: one ListBuckets says which buckets still exist (a bucket deleted
        outside the tool is created again); their settings are read only by a full refresh."""
        resp = call(items[0][0], ctx.client("s3"), "list_buckets")
        names = {b["Name"] for b in resp.get("Buckets", [])}
        return {address: ({"observed": {}} if pid in names else None) for address, pid, _ in items}

    def read(self, ctx: ProviderContext, address: str, physical_id: str, props: Props) -> Outputs | None:
        s3 = ctx.client("s3")
        found = read_at_once(
            lambda: call_or_none(address, s3, "head_bucket", Bucket=physical_id),
            lambda: call_or_none(address, s3, "get_bucket_versioning", Bucket=physical_id) or {},
            lambda: self._tags(ctx, address, physical_id),
            lambda: self._encryption(ctx, address, physical_id),
            lambda: self._expiry(ctx, address, physical_id),
        )
        if found is None:
            return None
        _, versioning, tags, encryption, expiry = found
        return {
            "arn": self._arn(ctx, physical_id),
            "name": physical_id,
            "observed": {
                "name": physical_id,
                "versioning": versioning.get("Status") == "Enabled",
                "encryption": encryption,
                "expire_days": expiry,
                "tags": tags,
            },
        }

    def _tags(self, ctx: ProviderContext, address: str, name: str) -> dict[str, str]:
        resp = call_unless(
            address,
            ctx.client("s3"),
            "get_bucket_tagging",
            codes=("NoSuchTagSet", "NoSuchTagSetError", "NoSuchBucket"),
            Bucket=name,
        )
        return tag_dict(resp.get("TagSet")) if resp else {}

    def _encryption(self, ctx: ProviderContext, address: str, name: str) -> str | None:
        resp = call_unless(
            address,
            ctx.client("s3"),
            "get_bucket_encryption",
            codes=("ServerSideEncryptionConfigurationNotFoundError", "NoSuchBucket"),
            Bucket=name,
        )
        rules = (resp or {}).get("ServerSideEncryptionConfiguration", {}).get("Rules", [])
        for rule in rules:
            algo = rule.get("ApplyServerSideEncryptionByDefault", {}).get("SSEAlgorithm")
            if algo:
                return str(algo)
        return None

    def update(
        self,
        ctx: ProviderContext,
        address: str,
        physical_id: str,
        old: Props,
        new: Props,
        outputs: Outputs,
    ) -> Outputs:
        before, after = BucketProps.parse_recorded(old), BucketProps.parse(new, address)
        if before.versioning != after.versioning:
            self._set_versioning(ctx, address, physical_id, after.versioning)
        if before.tags != after.tags:
            self._set_tags(ctx, address, physical_id, after.tags)
        if before.expire_days != after.expire_days:
            self._set_expiry(ctx, address, physical_id, after.expire_days)
        # `retain` only matters at delete time: nothing to send.
        return require(self.read(ctx, address, physical_id, new), address, f"bucket {physical_id}")

    def delete(
        self, ctx: ProviderContext, address: str, physical_id: str, props: Props, outputs: Outputs
    ) -> None:
        p = BucketProps.parse_recorded(props)
        s3 = ctx.client("s3")
        name = physical_id
        if call_or_none(address, s3, "head_bucket", Bucket=name) is None:
            return
        if p.retain and not ctx.delete_data:
            count = self._count(ctx, address, name)
            if count is None:
                return
            if count:
                raise StrandsDeployError(
                    f"bucket {name} holds {contents_text(count, 'object')} (versions and delete markers "
                    "included) and is marked `retain: true`, so it was not deleted",
                    where=address,
                    fix=(
                        "to delete it with its data run `strands-deploy destroy --delete-data`, or set "
                        "`retain: false` on the resource in strands.yaml (and deploy) first, or empty it "
                        f"(`aws s3 rm s3://{name} --recursive`, and its old versions)"
                    ),
                )
        else:
            ctx.progress(address, "emptying the bucket (every version)")
            self._empty(ctx, address, name)
        ignore_not_found(address, s3, "delete_bucket", Bucket=name)

    def contents(self, ctx: ProviderContext, address: str, physical_id: str, props: Props) -> int | None:
        if not BucketProps.parse_recorded(props).retain:
            return None
        return self._count(ctx, address, physical_id)

    def _count(self, ctx: ProviderContext, address: str, name: str) -> int | None:
        """Object versions and delete markers, counted up to CONTENTS_LIMIT (one listing page);
        None when the bucket is gone."""
        page = call_or_none(
            address, ctx.client("s3"), "list_object_versions", Bucket=name, MaxKeys=CONTENTS_LIMIT
        )
        if page is None:
            return None
        count = len(page.get("Versions") or []) + len(page.get("DeleteMarkers") or [])
        return CONTENTS_LIMIT if page.get("IsTruncated") else min(count, CONTENTS_LIMIT)

    def _empty(self, ctx: ProviderContext, address: str, name: str) -> None:
        s3 = ctx.client("s3")
        # Each page is deleted before the next is listed (the markers stay valid meanwhile).
        for page in paginate(address, s3, "list_object_versions", missing_ok=True, Bucket=name):
            objects = [
                {"Key": item["Key"], "VersionId": item.get("VersionId") or "null"}
                for item in (page.get("Versions") or []) + (page.get("DeleteMarkers") or [])
            ]
            for start in range(0, len(objects), 1000):
                resp = call(
                    address,
                    s3,
                    "delete_objects",
                    Bucket=name,
                    Delete={"Objects": objects[start : start + 1000], "Quiet": True},
                )
                errors = resp.get("Errors") or []
                if errors:
                    first = errors[0]
                    raise StrandsDeployError(
                        f"could not delete {len(errors)} object(s) from bucket {name}: "
                        f"{first.get('Key')}: {first.get('Code')} {first.get('Message')}",
                        where=address,
                        fix="grant s3:DeleteObject and s3:DeleteObjectVersion, or empty the bucket by hand",
                    )

    def find(self, ctx: ProviderContext, address: str, props: Props) -> Created | None:
        p = BucketProps.parse(props, address)
        name = p.name
        outputs = self.read(ctx, address, name, props)
        if outputs is None or not owned(ctx, p.tags, outputs["observed"]["tags"]):
            return None
        # An interrupted create (tagged first) may have stopped before the rest: finish it.
        self._configure(ctx, address, name, p)
        return Created(name, require(self.read(ctx, address, name, props), address, f"bucket {name}"))

    def drift(self, props: Props, live: Outputs) -> dict[str, tuple[Any, Any]]:
        p = BucketProps.parse_recorded(props)
        return super().drift({**props, "versioning": p.versioning, "expire_days": p.expire_days}, live)
