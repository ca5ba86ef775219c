"""aws.lambda.layer: an agent's dependencies (or several agents' identical ones), published as one
layer version.

A layer version is immutable: a change of what it holds publishes a new version (replacement) and
the old one is deleted. The description records the requirements hash, runtime and architecture,
so ``find`` recognises a version published by an interrupted run. ``requirements_file`` only says
where to read requirements whose hash is unchanged (a layer shared by agents names the first
one's), so its change is applied in place: there is nothing to publish.

Uploads: a zip up to ``direct_upload_limit`` bytes goes in the request; a larger one through the
environment's artifacts bucket (``artifacts_bucket``, set on AWS), under a key made of its SHA-256
(not uploaded again when present). Without a bucket (emulated environments) the zip is sent in the
request anyway, with a warning that AWS would need the bucket. :func:`code_location` does this for
the function's code too.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, ClassVar

from strands_deploy.aws.errors import call, call_or_none, ignore_not_found, to_deploy_error
from strands_deploy.packaging.limits import DIRECT_UPLOAD_LIMIT, human
from strands_deploy.providers._common import paginate, require
from strands_deploy.providers.base import Created, Outputs, Props, PropsModel, Provider, ProviderContext


class LayerProps(PropsModel):
    name: str
    requirements_file: str  # relative to the project folder
    requirements_hash: str
    runtime: str
    architecture: str
    # the environment's bucket for zips too large to send in the request (None: emulated)
    artifacts_bucket: str | None = None
    direct_upload_limit: int = DIRECT_UPLOAD_LIMIT  # bytes; tests lower it to exercise the bucket


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _aws_cause(err: BaseException) -> BaseException:
    """The AWS error (one with a ``response``) behind ``err``, else ``err``."""
    cause: BaseException | None = err
    while cause is not None:
        if getattr(cause, "response", None) is not None:
            return cause
        cause = cause.__cause__ or cause.__context__
    return err


def code_location(
    ctx: ProviderContext, address: str, zip_path: Path, *, bucket: str | None, limit: int, kind: str
) -> dict[str, Any]:
    """Where Lambda takes a zip from: ``{"ZipFile": bytes}`` up to ``limit`` bytes, else
    ``{"S3Bucket", "S3Key"}`` in the artifacts ``bucket`` (uploaded unless already there). Usable
    as ``Content``/``Code`` and as the keyword arguments of ``update_function_code``."""
    size = zip_path.stat().st_size
    if size <= limit:
        return {"ZipFile": zip_path.read_bytes()}
    if not bucket:
        ctx.progress(
            address,
            f"warning: the {kind} zip is {human(size)}, over the {human(limit)} AWS accepts in a "
            "request; this emulated environment takes it, on AWS it goes through the environment's "
            "artifacts bucket",
        )
        return {"ZipFile": zip_path.read_bytes()}
    key = f"{kind}/{_sha256(zip_path)}.zip"
    s3 = ctx.client("s3")
    if call_or_none(address, s3, "head_object", Bucket=bucket, Key=key) is None:
        ctx.progress(address, f"uploading the {human(size)} {kind} zip to the artifacts bucket")
        try:
            s3.upload_file(str(zip_path), bucket, key)  # multipart above 8 MB
        except Exception as err:  # boto3 wraps the ClientError of a failed part in S3UploadFailedError
            raise to_deploy_error(_aws_cause(err), address, "s3:PutObject") from err
    return {"S3Bucket": bucket, "S3Key": key}


def _description(p: LayerProps) -> str:
    return f"strands-deploy deps {p.requirements_hash} {p.runtime} {p.architecture}"[:256]


def _split_arn(version_arn: str) -> tuple[str, int]:
    """(layer ARN, version number) of a layer version ARN."""
    layer_arn, _, version = version_arn.rpartition(":")
    return layer_arn, int(version)


class LayerProvider(Provider):
    type_name: ClassVar[str] = "aws.lambda.layer"
    props_model: ClassVar[type[PropsModel]] = LayerProps
    expected_seconds: ClassVar[float] = 5.0
    replace_on: ClassVar[frozenset[str]] = frozenset({"name", "requirements_hash", "runtime", "architecture"})
    stable_outputs: ClassVar[frozenset[str]] = frozenset({"arn", "layer_arn", "version"})

    def prepare(self, ctx: ProviderContext, address: str, props: Props) -> None:
        self._build(ctx, LayerProps.parse(props, address))

    def _build(self, ctx: ProviderContext, p: LayerProps) -> Path:
        from strands_deploy.packaging.build import build_layer_zip

        return build_layer_zip(
            ctx.project_dir,
            p.requirements_file,
            p.requirements_hash,
            p.runtime,
            p.architecture,
            ctx.target,
            ctx.cache_dir,
        )

    def create(self, ctx: ProviderContext, address: str, props: Props) -> Created:
        p = LayerProps.parse(props, address)
        ctx.progress(address, "building the dependency layer")
        zip_path = self._build(ctx, p)
        content = code_location(
            ctx, address, zip_path, bucket=p.artifacts_bucket, limit=p.direct_upload_limit, kind="layer"
        )
        ctx.progress(address, "publishing the layer")
        resp = call(
            address,
            ctx.client("lambda"),
            "publish_layer_version",
            LayerName=p.name,
            Description=_description(p),
            Content=content,
            CompatibleRuntimes=[p.runtime],
            CompatibleArchitectures=[p.architecture],
        )
        arn = str(resp["LayerVersionArn"])
        return Created(arn, require(self.read(ctx, address, arn, props), address, f"layer {arn}"))

    def read(self, ctx: ProviderContext, address: str, physical_id: str, props: Props) -> Outputs | None:
        layer_arn, version = _split_arn(physical_id)
        resp = call_or_none(
            address,
            ctx.client("lambda"),
            "get_layer_version",
            LayerName=layer_arn,
            VersionNumber=version,
        )
        if resp is None:
            return None
        runtimes = resp.get("CompatibleRuntimes") or []
        archs = resp.get("CompatibleArchitectures") or []
        observed: dict[str, Any] = {"name": layer_arn.rsplit(":", 1)[-1]}
        if runtimes:
            observed["runtime"] = runtimes[0]
        if archs:
            observed["architecture"] = archs[0]
        return {
            "arn": resp["LayerVersionArn"],
            "layer_arn": resp.get("LayerArn", layer_arn),
            "version": int(resp.get("Version", version)),
            "observed": observed,
        }

    def update(
        self,
        ctx: ProviderContext,
        address: str,
        physical_id: str,
        old: Props,
        new: Props,
        outputs: Outputs,
    ) -> Outputs:
        # What the layer holds is in replace_on; the rest (where the requirements are read, how a
        # zip would be uploaded) changes nothing published.
        return require(self.read(ctx, address, physical_id, new), address, f"layer {physical_id}")

    def delete(
        self, ctx: ProviderContext, address: str, physical_id: str, props: Props, outputs: Outputs
    ) -> None:
        layer_arn, version = _split_arn(physical_id)
        ignore_not_found(
            address,
            ctx.client("lambda"),
            "delete_layer_version",
            LayerName=layer_arn,
            VersionNumber=version,
        )

    def find(self, ctx: ProviderContext, address: str, props: Props) -> Created | None:
        # Layer versions carry no tags: the newest version of the layer name whose description
        # records these requirements, runtime and architecture is the one an interrupted run published.
        p = LayerProps.parse(props, address)
        want = _description(p)
        pages = paginate(
            address, ctx.client("lambda"), "list_layer_versions", missing_ok=True, LayerName=p.name
        )
        for page in pages:
            for version in page.get("LayerVersions", []):
                if version.get("Description") == want:
                    arn = str(version["LayerVersionArn"])
                    outputs = self.read(ctx, address, arn, props)
                    if outputs is not None:
                        return Created(arn, outputs)
        return None
