"""aws.secretsmanager.secret: a secret whose value comes from ``source`` (env var or file).

The value is resolved through ``ctx.secret_value`` at call time, sent to AWS and forgotten: it is
never in outputs, observed values, errors (AWS messages are redacted) or progress notes. A change
of value shows as a change of the ``fingerprint`` property and is sent with PutSecretValue.

Delete schedules deletion with a 7-day recovery window; a later create of the same name restores
the scheduled secret and writes the new value, so destroy + deploy works without waiting a week.
"""

from __future__ import annotations

from typing import Any, ClassVar

from strands_deploy.aws.errors import call, call_or_none, error_code, ignore_not_found, is_already_exists
from strands_deploy.errors import StrandsDeployError
from strands_deploy.providers._common import (
    owned,
    require,
    secret_value,
    tag_changes,
    tag_dict,
    tag_list,
)
from strands_deploy.providers.base import Created, Outputs, Props, PropsModel, Provider, ProviderContext

RECOVERY_DAYS = 7


class SecretProps(PropsModel):
    """Where the value comes from and a keyed hash of it: never the value itself."""

    name: str
    source: dict[str, str] = {}  # {"env": "VAR"} or {"file": "path"}
    fingerprint: str = ""
    tags: dict[str, str] = {}


class SecretProvider(Provider):
    type_name: ClassVar[str] = "aws.secretsmanager.secret"
    props_model: ClassVar[type[PropsModel]] = SecretProps
    replace_on: ClassVar[frozenset[str]] = frozenset({"name"})

    def create(self, ctx: ProviderContext, address: str, props: Props) -> Created:
        p = SecretProps.parse(props, address)
        sm = ctx.client("secretsmanager")
        name = p.name
        value = secret_value(ctx, address, p.source)
        tags = p.tags
        kwargs: dict[str, Any] = {"Name": name, "SecretString": value}
        if tags:
            kwargs["Tags"] = tag_list(tags)
        try:
            call(address, sm, "create_secret", redact=[value], resource_name=name, **kwargs)
        except StrandsDeployError as err:
            # AWS answers InvalidRequestException ("scheduled for deletion"), moto ResourceExists.
            if not (is_already_exists(err) or error_code(err) == "InvalidRequestException"):
                raise
            scheduled = call_or_none(address, sm, "describe_secret", SecretId=name)
            if scheduled is None or not scheduled.get("DeletedDate"):
                raise
            ctx.progress(address, "restoring the secret scheduled for deletion")
            call(address, sm, "restore_secret", SecretId=name)
            if tags:  # before the value: a restored secret is recognisably ours as early as possible
                call(address, sm, "tag_resource", SecretId=name, Tags=tag_list(tags))
            self._put_value(ctx, address, name, value)
        return Created(name, require(self.read(ctx, address, name, props), address, f"secret {name}"))

    def _put_value(self, ctx: ProviderContext, address: str, name: str, value: str) -> None:
        call(
            address,
            ctx.client("secretsmanager"),
            "put_secret_value",
            redact=[value],
            SecretId=name,
            SecretString=value,
        )

    def read(self, ctx: ProviderContext, address: str, physical_id: str, props: Props) -> Outputs | None:
        resp = call_or_none(address, ctx.client("secretsmanager"), "describe_secret", SecretId=physical_id)
        if resp is None or resp.get("DeletedDate"):
            return None
        return {
            "arn": resp["ARN"],
            "name": resp["Name"],
            "observed": {"name": resp["Name"], "tags": tag_dict(resp.get("Tags"))},
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
        before, after = SecretProps.parse_recorded(old), SecretProps.parse(new, address)
        sm = ctx.client("secretsmanager")
        if before.fingerprint != after.fingerprint or before.source != after.source:
            self._put_value(ctx, address, physical_id, secret_value(ctx, address, after.source))
        to_set, to_remove = tag_changes(before.tags, after.tags)
        if to_set:
            call(address, sm, "tag_resource", SecretId=physical_id, Tags=tag_list(to_set))
        if to_remove:
            call(address, sm, "untag_resource", SecretId=physical_id, TagKeys=to_remove)
        return require(self.read(ctx, address, physical_id, new), address, f"secret {physical_id}")

    def delete(
        self, ctx: ProviderContext, address: str, physical_id: str, props: Props, outputs: Outputs
    ) -> None:
        if self.read(ctx, address, physical_id, props) is None:
            return
        ignore_not_found(
            address,
            ctx.client("secretsmanager"),
            "delete_secret",
            SecretId=physical_id,
            RecoveryWindowInDays=RECOVERY_DAYS,
        )

    def find(self, ctx: ProviderContext, address: str, props: Props) -> Created | None:
        p = SecretProps.parse(props, address)
        name = p.name
        outputs = self.read(ctx, address, name, props)
        if outputs is None or not owned(ctx, p.tags, outputs["observed"]["tags"]):
            return None
        return Created(name, outputs)
