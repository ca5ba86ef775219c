"""aws.lambda.layer: the agent's dependencies, published as one layer version.

A layer version is immutable: any property change publishes a new version (replacement) and the
old one is deleted. The description records the requirements hash, runtime and architecture, so
``find`` recognises a version published by an interrupted run.
"""

from __future__ import annotations

from typing import Any, ClassVar

from strands_deploy.aws.errors import call, call_or_none, ignore_not_found
from strands_deploy.providers._common import paginate, require
from strands_deploy.providers.base import Created, Outputs, Props, PropsModel, Provider, ProviderContext


class LayerProps(PropsModel):
    name: str
    requirements_file: str  # relative to the project folder
    requirements_hash: str
    runtime: str
    architecture: str


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
    replace_on: ClassVar[frozenset[str]] = frozenset(
        {"name", "requirements_file", "requirements_hash", "runtime", "architecture"}
    )
    stable_outputs: ClassVar[frozenset[str]] = frozenset({"arn", "layer_arn", "version"})

    def create(self, ctx: ProviderContext, address: str, props: Props) -> Created:
        from strands_deploy.packaging.build import build_layer_zip

        p = LayerProps.parse(props, address)
        ctx.progress(address, "building the dependency layer")
        zip_path = build_layer_zip(
            ctx.project_dir,
            p.requirements_file,
            p.requirements_hash,
            p.runtime,
            p.architecture,
            ctx.target,
            ctx.cache_dir,
        )
        ctx.progress(address, "publishing the layer")
        resp = call(
            address,
            ctx.client("lambda"),
            "publish_layer_version",
            LayerName=p.name,
            Description=_description(p),
            Content={"ZipFile": zip_path.read_bytes()},
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
        # Every property is in replace_on: nothing can change in place.
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
