"""aws.iam.role_policy: one inline policy on a role. Physical id ``role:policy``."""

from __future__ import annotations

import json
from typing import Any, ClassVar

from strands_deploy.aws.errors import call, call_or_none, ignore_not_found
from strands_deploy.providers._common import policy_document, require
from strands_deploy.providers.base import Created, Outputs, Props, PropsModel, Provider, ProviderContext


class RolePolicyProps(PropsModel):
    role_name: str
    policy_name: str
    document: dict[str, Any]  # the IAM policy document, as a dict


def _split(physical_id: str) -> tuple[str, str]:
    role, _, policy = physical_id.partition(":")
    return role, policy


class RolePolicyProvider(Provider):
    type_name: ClassVar[str] = "aws.iam.role_policy"
    props_model: ClassVar[type[PropsModel]] = RolePolicyProps
    replace_on: ClassVar[frozenset[str]] = frozenset({"role_name", "policy_name"})
    stable_outputs: ClassVar[frozenset[str]] = frozenset({"name", "role_name"})

    def create(self, ctx: ProviderContext, address: str, props: Props) -> Created:
        p = RolePolicyProps.parse(props, address)
        role, policy = p.role_name, p.policy_name
        self._put(ctx, address, role, policy, p.document)
        physical_id = f"{role}:{policy}"
        # outputs from what was sent: no read-back (IAM reads are slow and nothing else is learnt)
        observed = {"role_name": role, "policy_name": policy, "document": policy_document(p.document)}
        return Created(physical_id, {"name": policy, "role_name": role, "observed": observed})

    def _put(self, ctx: ProviderContext, address: str, role: str, policy: str, document: Any) -> None:
        call(
            address,
            ctx.client("iam"),
            "put_role_policy",
            RoleName=role,
            PolicyName=policy,
            PolicyDocument=json.dumps(document, sort_keys=True),
        )

    def read(self, ctx: ProviderContext, address: str, physical_id: str, props: Props) -> Outputs | None:
        role, policy = _split(physical_id)
        resp = call_or_none(address, ctx.client("iam"), "get_role_policy", RoleName=role, PolicyName=policy)
        if resp is None:
            return None
        return {
            "name": resp["PolicyName"],
            "role_name": resp["RoleName"],
            "observed": {
                "role_name": resp["RoleName"],
                "policy_name": resp["PolicyName"],
                "document": policy_document(resp["PolicyDocument"]),
            },
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
        before, after = RolePolicyProps.parse_recorded(old), RolePolicyProps.parse(new, address)
        role, policy = _split(physical_id)
        if before.document != after.document:
            self._put(ctx, address, role, policy, after.document)
        return require(self.read(ctx, address, physical_id, new), address, f"policy {physical_id}")

    def delete(
        self, ctx: ProviderContext, address: str, physical_id: str, props: Props, outputs: Outputs
    ) -> None:
        role, policy = _split(physical_id)
        ignore_not_found(address, ctx.client("iam"), "delete_role_policy", RoleName=role, PolicyName=policy)

    def find(self, ctx: ProviderContext, address: str, props: Props) -> Created | None:
        # Inline policies carry no tags: found by (role, policy name), both deterministic.
        p = RolePolicyProps.parse(props, address)
        physical_id = f"{p.role_name}:{p.policy_name}"
        outputs = self.read(ctx, address, physical_id, props)
        return Created(physical_id, outputs) if outputs is not None else None
