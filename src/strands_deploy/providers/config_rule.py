"""aws.config.rule: one AWS Config managed rule (``identifier``, e.g.
``LAMBDA_FUNCTION_PUBLIC_ACCESS_PROHIBITED``) evaluating the environment's resources.

Physical id: the rule's name (unique per account and region). The rule is scoped by tag
(``scope_tag_key``/``scope_tag_value``: synthesis scopes it to resources tagged
``strands:project=<project>``) so it judges what this project deploys, not the whole account;
account-level rules (``IAM_PASSWORD_POLICY``...) have no scope. Config rules need a configuration
recorder (``aws.config.recorder``) to evaluate anything. A rule of that name tagged for another
project or environment is never taken over.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

from strands_deploy.aws.errors import AwsCallError, call
from strands_deploy.errors import StrandsDeployError
from strands_deploy.providers._common import owned, ownership, require, tag_changes, tag_dict, tag_list
from strands_deploy.providers.base import Created, Outputs, Props, PropsModel, Provider, ProviderContext

NO_RULE = ("NoSuchConfigRuleException",)


class ConfigRuleProps(PropsModel):
    name: str
    identifier: str  # the AWS managed rule's identifier
    input_parameters: dict[str, str] = {}
    scope_tag_key: str | None = None
    scope_tag_value: str | None = None
    description: str = ""
    tags: dict[str, str] = {}


def _config(ctx: ProviderContext) -> Any:
    factory: Any = ctx.client  # no boto3-stubs overload for "config" in aws.session.ClientFactory
    return factory("config")


def _rule_body(p: ConfigRuleProps) -> dict[str, Any]:
    body: dict[str, Any] = {
        "ConfigRuleName": p.name,
        "Source": {"Owner": "AWS", "SourceIdentifier": p.identifier},
    }
    if p.description:
        body["Description"] = p.description
    if p.input_parameters:
        body["InputParameters"] = json.dumps(p.input_parameters, sort_keys=True)
    if p.scope_tag_key:
        body["Scope"] = {"TagKey": p.scope_tag_key, "TagValue": p.scope_tag_value or ""}
    return body


class ConfigRuleProvider(Provider):
    type_name: ClassVar[str] = "aws.config.rule"
    props_model: ClassVar[type[PropsModel]] = ConfigRuleProps
    replace_on: ClassVar[frozenset[str]] = frozenset({"name", "identifier"})

    def create(self, ctx: ProviderContext, address: str, props: Props) -> Created:
        p = ConfigRuleProps.parse(props, address)
        existing = self.read(ctx, address, p.name, props)
        if existing is not None and ownership(ctx, existing["observed"]["tags"]) != "ours":
            # PutConfigRule would silently overwrite it: never take over someone else's rule
            raise StrandsDeployError(
                f"an AWS Config rule named {p.name} exists and is not this environment's",
                where=address,
                fix="delete or rename that rule, or rename the project or environment",
            )
        call(
            address,
            _config(ctx),
            "put_config_rule",
            resource_name=p.name,
            ConfigRule=_rule_body(p),
            Tags=tag_list(p.tags),
        )
        return Created(
            p.name, require(self.read(ctx, address, p.name, props), address, f"Config rule {p.name}")
        )

    def read(self, ctx: ProviderContext, address: str, physical_id: str, props: Props) -> Outputs | None:
        config = _config(ctx)
        try:
            resp = call(address, config, "describe_config_rules", ConfigRuleNames=[physical_id])
        except AwsCallError as err:
            if err.code in NO_RULE:
                return None
            raise
        rules = [r for r in resp.get("ConfigRules") or [] if r.get("ConfigRuleState") != "DELETING"]
        if not rules:
            return None
        rule = rules[0]
        arn = str(rule["ConfigRuleArn"])
        tags = tag_dict(call(address, config, "list_tags_for_resource", ResourceArn=arn).get("Tags"))
        scope = rule.get("Scope") or {}
        params = rule.get("InputParameters")
        observed: dict[str, Any] = {
            "name": physical_id,
            "identifier": (rule.get("Source") or {}).get("SourceIdentifier"),
            "input_parameters": json.loads(params) if params else {},
            "tags": tags,
        }
        if scope:  # (moto answers an empty Scope for a tag scope: then it is not compared)
            observed["scope_tag_key"] = scope.get("TagKey")
            observed["scope_tag_value"] = scope.get("TagValue")
        return {"name": physical_id, "arn": arn, "id": rule.get("ConfigRuleId"), "observed": observed}

    def update(
        self,
        ctx: ProviderContext,
        address: str,
        physical_id: str,
        old: Props,
        new: Props,
        outputs: Outputs,
    ) -> Outputs:
        before, after = ConfigRuleProps.parse_recorded(old), ConfigRuleProps.parse(new, address)
        config = _config(ctx)
        if _rule_body(before) != _rule_body(after):
            # the tags go along: a PutConfigRule without them may drop the rule's tags
            call(address, config, "put_config_rule", ConfigRule=_rule_body(after), Tags=tag_list(after.tags))
        to_set, to_remove = tag_changes(before.tags, after.tags)
        arn = (
            outputs.get("arn")
            or require(self.read(ctx, address, physical_id, new), address, "Config rule")["arn"]
        )
        if to_set:
            call(address, config, "tag_resource", ResourceArn=arn, Tags=tag_list(to_set))
        if to_remove:
            call(address, config, "untag_resource", ResourceArn=arn, TagKeys=to_remove)
        return require(self.read(ctx, address, physical_id, new), address, f"Config rule {physical_id}")

    def delete(
        self, ctx: ProviderContext, address: str, physical_id: str, props: Props, outputs: Outputs
    ) -> None:
        try:
            call(address, _config(ctx), "delete_config_rule", ConfigRuleName=physical_id)
        except AwsCallError as err:
            if err.code not in NO_RULE:
                raise

    def find(self, ctx: ProviderContext, address: str, props: Props) -> Created | None:
        p = ConfigRuleProps.parse(props, address)
        live = self.read(ctx, address, p.name, props)
        if live is None or not owned(ctx, p.tags, live["observed"]["tags"]):
            return None
        return Created(p.name, live)

    def drift(self, props: Props, live: Outputs) -> dict[str, tuple[Any, Any]]:
        p = ConfigRuleProps.parse_recorded(props)
        observed = live.get("observed", {})
        out: dict[str, tuple[Any, Any]] = {}
        for key in ("identifier", "input_parameters", "scope_tag_key", "scope_tag_value", "tags"):
            want = getattr(p, key)
            if key in observed and observed[key] != want:
                out[key] = (observed[key], want)
        return out
