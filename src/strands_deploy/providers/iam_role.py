"""aws.iam.role: an execution role trusted by one service, with managed policies and tags.

Inline policies are their own type (aws.iam.role_policy); on delete every inline policy, managed
policy attachment and instance profile link is removed first, as IAM requires.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

from strands_deploy.aws.errors import call, call_or_none, ignore_not_found
from strands_deploy.providers._common import (
    owned,
    paginate_or_none,
    policy_document,
    read_at_once,
    require,
    tag_changes,
    tag_dict,
    tag_list,
)
from strands_deploy.providers.base import Created, Outputs, Props, PropsModel, Provider, ProviderContext

DEFAULT_TRUST = "lambda.amazonaws.com"


class RoleProps(PropsModel):
    name: str
    trust_service: str = DEFAULT_TRUST
    managed_policies: list[str] = []
    # The inline policies the configuration attaches (aws.iam.role_policy resources). Any other
    # inline policy found on the role was added by hand: drift that widens access, removed by
    # deploy. None: not checked (records written before this property existed).
    inline_policies: list[str] | None = None
    description: str = ""
    tags: dict[str, str] = {}


def trust_policy(service: str) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}],
    }


def trusted_service(doc: dict[str, Any]) -> str | None:
    """The single service principal an assume-role policy trusts (None if it is anything else)."""
    services: list[str] = []
    for stmt in doc.get("Statement", []):
        principal = stmt.get("Principal", {})
        if not isinstance(principal, dict):
            return None
        svc = principal.get("Service")
        if isinstance(svc, str):
            services.append(svc)
        elif isinstance(svc, list):
            services.extend(str(s) for s in svc)
    return services[0] if len(services) == 1 else None


class RoleProvider(Provider):
    type_name: ClassVar[str] = "aws.iam.role"
    props_model: ClassVar[type[PropsModel]] = RoleProps
    expected_seconds: ClassVar[float] = 7.5  # includes IAM propagation, paid by the first function
    replace_on: ClassVar[frozenset[str]] = frozenset({"name"})

    def create(self, ctx: ProviderContext, address: str, props: Props) -> Created:
        p = RoleProps.parse(props, address)
        iam = ctx.client("iam")
        name = p.name
        kwargs: dict[str, Any] = {
            "RoleName": name,
            "AssumeRolePolicyDocument": json.dumps(trust_policy(p.trust_service or DEFAULT_TRUST)),
            # in the create call itself: an interrupted create leaves a role `find` adopts
            "Tags": tag_list(p.tags),
        }
        if p.description:
            kwargs["Description"] = p.description
        role = call(address, iam, "create_role", resource_name=name, **kwargs)["Role"]
        ctx.role_gate.created(str(role["Arn"]))
        for arn in p.managed_policies:
            call(address, iam, "attach_role_policy", RoleName=name, PolicyArn=arn)
        # the outputs from the create response and what was just set: no read-back on the
        # critical path (a new role has no inline policies; its inline policy is its own resource)
        doc = policy_document(
            role.get("AssumeRolePolicyDocument") or trust_policy(p.trust_service or DEFAULT_TRUST)
        )
        observed = {
            "name": role["RoleName"],
            "trust_service": trusted_service(doc),
            "managed_policies": sorted(p.managed_policies),
            "inline_policies": [],
            "description": p.description or "",
            "tags": dict(p.tags),
        }
        return Created(name, {"arn": role["Arn"], "name": role["RoleName"], "observed": observed})

    def read(self, ctx: ProviderContext, address: str, physical_id: str, props: Props) -> Outputs | None:
        iam = ctx.client("iam")
        found = read_at_once(
            lambda: call_or_none(address, iam, "get_role", RoleName=physical_id),
            lambda: self._attached(ctx, address, physical_id),
            lambda: self._inline(ctx, address, physical_id),
        )
        if found is None:
            return None
        resp, attached, inline = found
        if attached is None or inline is None:
            return None
        role = resp["Role"]
        doc = policy_document(role.get("AssumeRolePolicyDocument", {}))
        tags = tag_dict(role.get("Tags"))
        if not tags:
            listed = call_or_none(address, iam, "list_role_tags", RoleName=physical_id)
            tags = tag_dict(listed.get("Tags") if listed else None)
        return {
            "arn": role["Arn"],
            "name": role["RoleName"],
            "observed": {
                "name": role["RoleName"],
                "trust_service": trusted_service(doc),
                "managed_policies": sorted(attached),
                "inline_policies": sorted(inline),
                "description": role.get("Description", ""),
                "tags": tags,
            },
        }

    def _attached(self, ctx: ProviderContext, address: str, name: str) -> list[str] | None:
        """ARNs of the managed policies attached to role ``name``; None when the role is gone."""
        pages = paginate_or_none(address, ctx.client("iam"), "list_attached_role_policies", RoleName=name)
        if pages is None:
            return None
        return [str(p["PolicyArn"]) for page in pages for p in page.get("AttachedPolicies", [])]

    def _inline(self, ctx: ProviderContext, address: str, name: str) -> list[str] | None:
        """Names of the inline policies of role ``name``; None when the role is gone."""
        pages = paginate_or_none(address, ctx.client("iam"), "list_role_policies", RoleName=name)
        if pages is None:
            return None
        return [str(n) for page in pages for n in page.get("PolicyNames", [])]

    def update(
        self,
        ctx: ProviderContext,
        address: str,
        physical_id: str,
        old: Props,
        new: Props,
        outputs: Outputs,
    ) -> Outputs:
        before, after = RoleProps.parse_recorded(old), RoleProps.parse(new, address)
        iam = ctx.client("iam")
        name = physical_id
        if before.trust_service != after.trust_service:
            call(
                address,
                iam,
                "update_assume_role_policy",
                RoleName=name,
                PolicyDocument=json.dumps(trust_policy(after.trust_service or DEFAULT_TRUST)),
            )
        if before.description != after.description:
            call(address, iam, "update_role", RoleName=name, Description=after.description)
        # Managed policies are synced against what is attached now, not what was recorded.
        want = set(after.managed_policies)
        have = set(self._attached(ctx, address, name) or [])
        for arn in sorted(want - have):
            call(address, iam, "attach_role_policy", RoleName=name, PolicyArn=arn)
        for arn in sorted(have - want):
            ignore_not_found(address, iam, "detach_role_policy", RoleName=name, PolicyArn=arn)
        if after.inline_policies is not None:
            declared = set(after.inline_policies)
            for policy in sorted(set(self._inline(ctx, address, name) or []) - declared):
                ignore_not_found(address, iam, "delete_role_policy", RoleName=name, PolicyName=policy)
        to_set, to_remove = tag_changes(before.tags, after.tags)
        if to_set:
            call(address, iam, "tag_role", RoleName=name, Tags=tag_list(to_set))
        if to_remove:
            call(address, iam, "untag_role", RoleName=name, TagKeys=to_remove)
        return require(self.read(ctx, address, name, new), address, f"role {name}")

    def delete(
        self, ctx: ProviderContext, address: str, physical_id: str, props: Props, outputs: Outputs
    ) -> None:
        iam = ctx.client("iam")
        name = physical_id
        attached = self._attached(ctx, address, name)
        if attached is None:
            return
        for arn in attached:
            ignore_not_found(address, iam, "detach_role_policy", RoleName=name, PolicyArn=arn)
        inline = paginate_or_none(address, iam, "list_role_policies", RoleName=name) or []
        for policy in [n for page in inline for n in page.get("PolicyNames", [])]:
            ignore_not_found(address, iam, "delete_role_policy", RoleName=name, PolicyName=policy)
        pages = paginate_or_none(address, iam, "list_instance_profiles_for_role", RoleName=name) or []
        for profile in [p for page in pages for p in page.get("InstanceProfiles", [])]:
            ignore_not_found(
                address,
                iam,
                "remove_role_from_instance_profile",
                RoleName=name,
                InstanceProfileName=profile["InstanceProfileName"],
            )
        ignore_not_found(address, iam, "delete_role", RoleName=name)

    def find(self, ctx: ProviderContext, address: str, props: Props) -> Created | None:
        p = RoleProps.parse(props, address)
        name = p.name
        outputs = self.read(ctx, address, name, props)
        if outputs is None or not owned(ctx, p.tags, outputs["observed"]["tags"]):
            return None
        # An interrupted create may have stopped before attaching every managed policy.
        missing = set(p.managed_policies) - set(outputs["observed"]["managed_policies"])
        if missing:
            iam = ctx.client("iam")
            for arn in sorted(missing):
                call(address, iam, "attach_role_policy", RoleName=name, PolicyArn=arn)
            outputs = require(self.read(ctx, address, name, props), address, f"role {name}")
        return Created(name, outputs)

    def drift(self, props: Props, live: Outputs) -> dict[str, tuple[Any, Any]]:
        p = RoleProps.parse_recorded(props)
        want = {**props, "managed_policies": sorted(p.managed_policies)}
        want["trust_service"] = p.trust_service
        want["description"] = p.description
        want.pop("inline_policies", None)
        out = super().drift(want, live)
        # only policies the configuration does not declare are drift (a declared one that is
        # missing is its own aws.iam.role_policy resource's drift)
        live_inline = set((live.get("observed") or {}).get("inline_policies") or [])
        if p.inline_policies is not None and live_inline - set(p.inline_policies):
            out["inline_policies"] = (sorted(live_inline), sorted(p.inline_policies))
        return out
