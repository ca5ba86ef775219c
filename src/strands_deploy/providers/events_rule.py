"""aws.events.rule: an EventBridge rule on the default bus, a schedule (``rate(...)``/``cron(...)``)
or an event pattern, with one target: the agent's ``live`` alias.

The rule's one target has the id ``target_id``; targets with other ids (added by hand) are
removed, so the rule invokes exactly what the configuration says. The permission letting
EventBridge invoke the alias is its own resource (``aws.lambda.permission``). Tags are set at
creation and kept in sync. Physical id: the rule's name.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

from strands_deploy.aws.arns import partition_for
from strands_deploy.aws.errors import call, call_or_none, ignore_not_found
from strands_deploy.errors import StrandsDeployError
from strands_deploy.providers._common import owned, require, tag_changes, tag_dict, tag_list
from strands_deploy.providers.base import Created, Outputs, Props, PropsModel, Provider, ProviderContext


class RuleProps(PropsModel):
    name: str
    schedule: str | None = None  # rate(5 minutes) | cron(0 9 * * ? *)
    pattern: dict[str, Any] | None = None  # an event pattern
    target_arn: str  # the alias ARN the rule invokes
    target_id: str = "agent"
    description: str = ""
    enabled: bool = True
    tags: dict[str, str] = {}


def _events(ctx: ProviderContext) -> Any:
    return ctx.client("events")


class RuleProvider(Provider):
    type_name: ClassVar[str] = "aws.events.rule"
    props_model: ClassVar[type[PropsModel]] = RuleProps
    replace_on: ClassVar[frozenset[str]] = frozenset({"name"})

    def _arn(self, ctx: ProviderContext, name: str) -> str:
        region = ctx.aws.region
        account = ctx.aws.settings.account or "*"
        return f"arn:{partition_for(region)}:events:{region}:{account}:rule/{name}"

    def create(self, ctx: ProviderContext, address: str, props: Props) -> Created:
        p = RuleProps.parse(props, address)
        events = _events(ctx)
        kwargs = self._rule_kwargs(p, address)
        if p.tags:  # in the create call: an interrupted create leaves a rule `find` adopts
            kwargs["Tags"] = tag_list(p.tags)
        call(address, events, "put_rule", resource_name=p.name, **kwargs)
        self._put_target(ctx, address, p)
        return Created(p.name, require(self.read(ctx, address, p.name, props), address, f"rule {p.name}"))

    @staticmethod
    def _rule_kwargs(p: RuleProps, address: str) -> dict[str, Any]:
        if (p.schedule is None) == (p.pattern is None):
            raise StrandsDeployError(
                "an EventBridge rule needs exactly one of a schedule and a pattern",
                where=address,
                fix="this is a bug in strands-deploy: report it",
            )
        kwargs: dict[str, Any] = {
            "Name": p.name,
            "State": "ENABLED" if p.enabled else "DISABLED",
            "Description": p.description,
        }
        if p.schedule is not None:
            kwargs["ScheduleExpression"] = p.schedule
        else:
            kwargs["EventPattern"] = json.dumps(p.pattern, sort_keys=True)
        return kwargs

    def _put_target(self, ctx: ProviderContext, address: str, p: RuleProps) -> None:
        events = _events(ctx)
        call(address, events, "put_targets", Rule=p.name, Targets=[{"Id": p.target_id, "Arn": p.target_arn}])
        others = [t["Id"] for t in self._targets(ctx, address, p.name) if t.get("Id") != p.target_id]
        if others:
            call(address, events, "remove_targets", Rule=p.name, Ids=others)

    def _targets(self, ctx: ProviderContext, address: str, name: str) -> list[dict[str, Any]]:
        resp = call_or_none(address, _events(ctx), "list_targets_by_rule", Rule=name)
        return list((resp or {}).get("Targets", []))

    def read(self, ctx: ProviderContext, address: str, physical_id: str, props: Props) -> Outputs | None:
        events = _events(ctx)
        rule = call_or_none(address, events, "describe_rule", Name=physical_id)
        if rule is None:
            return None
        arn = str(rule.get("Arn") or self._arn(ctx, physical_id))
        tags = call_or_none(address, events, "list_tags_for_resource", ResourceARN=arn) or {}
        targets = self._targets(ctx, address, physical_id)
        pattern = rule.get("EventPattern")
        return {
            "arn": arn,
            "name": physical_id,
            "observed": {
                "name": physical_id,
                "schedule": rule.get("ScheduleExpression"),
                "pattern": json.loads(pattern) if pattern else None,
                "enabled": rule.get("State") == "ENABLED",
                "description": rule.get("Description") or "",
                "targets": {str(t.get("Id")): str(t.get("Arn")) for t in targets},
                "tags": tag_dict(tags.get("Tags")),
            },
        }

    def update(
        self, ctx: ProviderContext, address: str, physical_id: str, old: Props, new: Props, outputs: Outputs
    ) -> Outputs:
        before, after = RuleProps.parse_recorded(old), RuleProps.parse(new, address)
        events = _events(ctx)
        rule_fields = ("schedule", "pattern", "enabled", "description")
        if any(getattr(before, f) != getattr(after, f) for f in rule_fields):
            call(address, events, "put_rule", **self._rule_kwargs(after, address))
        if (before.target_arn, before.target_id) != (after.target_arn, after.target_id):
            self._put_target(ctx, address, after)
        to_set, to_remove = tag_changes(before.tags, after.tags)
        arn = str(outputs.get("arn") or self._arn(ctx, physical_id))
        if to_set:
            call(address, events, "tag_resource", ResourceARN=arn, Tags=tag_list(to_set))
        if to_remove:
            call(address, events, "untag_resource", ResourceARN=arn, TagKeys=to_remove)
        return require(self.read(ctx, address, physical_id, new), address, f"rule {physical_id}")

    def delete(
        self, ctx: ProviderContext, address: str, physical_id: str, props: Props, outputs: Outputs
    ) -> None:
        events = _events(ctx)
        ids = [str(t["Id"]) for t in self._targets(ctx, address, physical_id)]
        if ids:  # a rule with targets cannot be deleted
            ignore_not_found(address, events, "remove_targets", Rule=physical_id, Ids=ids)
        ignore_not_found(address, events, "delete_rule", Name=physical_id)

    def find(self, ctx: ProviderContext, address: str, props: Props) -> Created | None:
        p = RuleProps.parse(props, address)
        outputs = self.read(ctx, address, p.name, props)
        if outputs is None or not owned(ctx, p.tags, outputs["observed"]["tags"]):
            return None
        if outputs["observed"]["targets"] != {p.target_id: p.target_arn}:  # create stopped half-way
            self._put_target(ctx, address, p)
            outputs = require(self.read(ctx, address, p.name, props), address, f"rule {p.name}")
        return Created(p.name, outputs)

    def drift(self, props: Props, live: Outputs) -> dict[str, tuple[Any, Any]]:
        p = RuleProps.parse_recorded(props)
        observed = live.get("observed") or {}
        want: dict[str, Any] = {
            "schedule": p.schedule,
            "pattern": p.pattern,
            "enabled": p.enabled,
            "description": p.description,
            "tags": p.tags,
        }
        out = {k: (observed.get(k), v) for k, v in want.items() if k in observed and observed[k] != v}
        targets = observed.get("targets")
        if targets is not None and targets != {p.target_id: p.target_arn}:
            out["target_arn"] = (targets, p.target_arn)
        return out
