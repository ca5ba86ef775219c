"""aws.ssm.parameter: a parameter whose value comes from ``source``; SecureString when ``secure``.

As for secrets, the value is resolved at call time and never stored, shown or logged: ``read``
uses DescribeParameters, which returns metadata only (GetParameter would return a String
parameter's value in clear). Values over 4 KB use the Advanced tier.
"""

from __future__ import annotations

from typing import Any, ClassVar

from strands_deploy.aws.arns import partition_for
from strands_deploy.aws.errors import call, call_or_none, ignore_not_found
from strands_deploy.providers._common import (
    owned,
    require,
    secret_value,
    tag_changes,
    tag_dict,
    tag_list,
)
from strands_deploy.providers.base import Created, Outputs, Props, PropsModel, Provider, ProviderContext

STANDARD_LIMIT = 4096


class ParameterProps(PropsModel):
    """Where the value comes from and a keyed hash of it: never the value itself."""

    name: str
    source: dict[str, str] = {}  # {"env": "VAR"} or {"file": "path"}
    fingerprint: str = ""
    secure: bool = True
    tags: dict[str, str] = {}


def _type(p: ParameterProps) -> str:
    return "SecureString" if p.secure else "String"


def _tier(value: str) -> str:
    return "Advanced" if len(value.encode()) > STANDARD_LIMIT else "Standard"


class ParameterProvider(Provider):
    type_name: ClassVar[str] = "aws.ssm.parameter"
    props_model: ClassVar[type[PropsModel]] = ParameterProps
    replace_on: ClassVar[frozenset[str]] = frozenset({"name"})

    def create(self, ctx: ProviderContext, address: str, props: Props) -> Created:
        p = ParameterProps.parse(props, address)
        name = p.name
        value = secret_value(ctx, address, p.source)
        kwargs: dict[str, Any] = {
            "Name": name,
            "Value": value,
            "Type": _type(p),
            "Tier": _tier(value),
            "Overwrite": False,
        }
        if p.tags:  # in the create call itself
            kwargs["Tags"] = tag_list(p.tags)
        call(address, ctx.client("ssm"), "put_parameter", redact=[value], resource_name=name, **kwargs)
        return Created(name, require(self.read(ctx, address, name, props), address, f"parameter {name}"))

    def read(self, ctx: ProviderContext, address: str, physical_id: str, props: Props) -> Outputs | None:
        ssm = ctx.client("ssm")
        resp = call_or_none(
            address,
            ssm,
            "describe_parameters",
            ParameterFilters=[{"Key": "Name", "Option": "Equals", "Values": [physical_id]}],
        )
        found = [p for p in (resp or {}).get("Parameters", []) if p.get("Name") == physical_id]
        if not found:
            return None
        meta = found[0]
        tags = (
            call_or_none(
                address, ssm, "list_tags_for_resource", ResourceType="Parameter", ResourceId=physical_id
            )
            or {}
        )
        arn = meta.get("ARN") or self._arn(ctx, physical_id)
        return {
            "arn": arn,
            "name": physical_id,
            "observed": {
                "name": physical_id,
                "secure": meta.get("Type") == "SecureString",
                "tier": meta.get("Tier"),
                "tags": tag_dict(tags.get("TagList")),
            },
        }

    def _arn(self, ctx: ProviderContext, name: str) -> str:
        region = ctx.aws.region
        return f"arn:{partition_for(region)}:ssm:{region}:{ctx.aws.account_id()}:parameter/{name.lstrip('/')}"

    def update(
        self,
        ctx: ProviderContext,
        address: str,
        physical_id: str,
        old: Props,
        new: Props,
        outputs: Outputs,
    ) -> Outputs:
        before, after = ParameterProps.parse_recorded(old), ParameterProps.parse(new, address)
        ssm = ctx.client("ssm")
        changed = (
            before.fingerprint != after.fingerprint
            or before.source != after.source
            or _type(before) != _type(after)
        )
        if changed:
            value = secret_value(ctx, address, after.source)
            call(
                address,
                ssm,
                "put_parameter",
                redact=[value],
                Name=physical_id,
                Value=value,
                Type=_type(after),
                Tier=_tier(value),
                Overwrite=True,
            )
        to_set, to_remove = tag_changes(before.tags, after.tags)
        if to_set:
            call(
                address,
                ssm,
                "add_tags_to_resource",
                ResourceType="Parameter",
                ResourceId=physical_id,
                Tags=tag_list(to_set),
            )
        if to_remove:
            call(
                address,
                ssm,
                "remove_tags_from_resource",
                ResourceType="Parameter",
                ResourceId=physical_id,
                TagKeys=to_remove,
            )
        return require(self.read(ctx, address, physical_id, new), address, f"parameter {physical_id}")

    def delete(
        self, ctx: ProviderContext, address: str, physical_id: str, props: Props, outputs: Outputs
    ) -> None:
        ignore_not_found(address, ctx.client("ssm"), "delete_parameter", Name=physical_id)

    def find(self, ctx: ProviderContext, address: str, props: Props) -> Created | None:
        p = ParameterProps.parse(props, address)
        name = p.name
        outputs = self.read(ctx, address, name, props)
        if outputs is None or not owned(ctx, p.tags, outputs["observed"]["tags"]):
            return None
        return Created(name, outputs)

    def drift(self, props: Props, live: Outputs) -> dict[str, tuple[Any, Any]]:
        p = ParameterProps.parse_recorded(props)
        return super().drift({**props, "secure": p.secure}, live)
