"""Trigger constructs: each ``triggers:`` entry of an agent becomes what invokes its ``live`` alias.

============  ============================================================================
queue         ``aws.lambda.event_source`` (queue → alias); role statement on the queue
table         the table's stream switched on, ``aws.lambda.event_source`` (stream → alias,
              LATEST); role statement on the table's streams
topic         ``aws.lambda.permission`` (sns) + ``aws.sns.subscription`` (protocol lambda)
bucket        ``aws.lambda.permission`` (s3) + an entry in the bucket's one
              ``aws.s3.notification`` (``resource.<bucket>.notification``, shared by agents)
schedule      ``aws.lambda.permission`` (events) + ``aws.events.rule`` with the schedule
pattern       ``aws.lambda.permission`` (events) + ``aws.events.rule`` with the pattern
============  ============================================================================

Queues and streams are polled by Lambda with the agent's role (role statements); SNS, S3 and
EventBridge push, so they get resource-policy statements on the alias scoped to their source
(never role statements). The function learns its triggers from ``STRANDS_TRIGGERS`` (see
:func:`triggers_env`), the runtime's contract for turning an event into a prompt.

Addresses are ``agent.<name>.trigger-<key>``: ``key`` is the source resource's name (a schedule
or pattern: ``schedule``/``pattern``), with ``-2``, ``-3``... for a second trigger on the same
source; ``trigger: jobs`` is ``triggers: [{queue: jobs}]`` and keeps its address.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from strands_deploy.config.schema import AgentConfig, TriggerConfig
from strands_deploy.providers.bucket_notification import NotificationProps
from strands_deploy.providers.event_source import EventSourceProps
from strands_deploy.providers.events_rule import RuleProps
from strands_deploy.providers.lambda_permission import PermissionProps
from strands_deploy.providers.subscription import SubscriptionProps
from strands_deploy.providers.table import TableProps
from strands_deploy.synth.context import SynthContext
from strands_deploy.synth.graph import Ref, Resource
from strands_deploy.synth.links import known_outputs, partition, resource_address
from strands_deploy.synth.naming import physical_name
from strands_deploy.synth.props import build

# trigger kind → the strands.yaml resource type it names (schedules and patterns name none)
SOURCE_TYPES = {"queue": "queue", "topic": "topic", "bucket": "bucket", "table": "table"}
BUCKET_EVENTS = {"created": "s3:ObjectCreated:*", "removed": "s3:ObjectRemoved:*"}
STREAM_ACTIONS = [
    "dynamodb:DescribeStream",
    "dynamodb:GetRecords",
    "dynamodb:GetShardIterator",
    "dynamodb:ListStreams",
]
QUEUE_ACTIONS = [
    "sqs:ReceiveMessage",
    "sqs:DeleteMessage",
    "sqs:GetQueueAttributes",
    "sqs:ChangeMessageVisibility",
]


def agent_triggers(agent: AgentConfig) -> list[TriggerConfig]:
    """The agent's triggers, the ``trigger: <queue>`` shorthand first."""
    out = [TriggerConfig(queue=agent.trigger, batch_size=1)] if agent.trigger else []
    return out + list(agent.triggers)


@dataclass(frozen=True)
class Trigger:
    """One trigger with its stable key (``jobs``, ``schedule``, ``docs-2``) and the key of its
    source (``docs`` for both of two triggers on one bucket: they share one permission)."""

    config: TriggerConfig
    key: str
    base: str

    @property
    def kind(self) -> str:
        return self.config.kind


def keyed(agent: AgentConfig) -> list[Trigger]:
    seen: dict[str, int] = {}
    out = []
    for t in agent_triggers(agent):
        base = str(t.source) if t.kind in SOURCE_TYPES else t.kind
        seen[base] = seen.get(base, 0) + 1
        key = base if seen[base] == 1 else f"{base}-{seen[base]}"
        out.append(Trigger(t, key, base if t.kind in SOURCE_TYPES else key))
    return out


def rule_name(ctx: SynthContext, agent: str, key: str) -> str:
    return physical_name(ctx.project.config.project, ctx.env, f"{agent}-{key}", "rule")


def _source(ctx: SynthContext, t: Trigger) -> tuple[str, str]:
    """(address, physical name) of the resource a queue/topic/bucket/table trigger names."""
    rtype = SOURCE_TYPES[t.kind]
    address = resource_address(str(t.config.source), rtype)
    return address, str(ctx.graph.resources[address].props["name"])


def _known_arn(ctx: SynthContext, t: Trigger) -> str:
    rtype = SOURCE_TYPES[t.kind]
    return known_outputs(rtype, _source(ctx, t)[1], ctx.region, ctx.account)["arn"]


def source_name(ctx: SynthContext, agent: str, t: Trigger) -> str:
    """The physical name of what sends the events: queue, topic, bucket, table or rule."""
    if t.kind in SOURCE_TYPES:
        return _source(ctx, t)[1]
    return rule_name(ctx, agent, t.key)


def triggers_env(ctx: SynthContext, agent: str, config: AgentConfig) -> dict[str, str]:
    """``STRANDS_TRIGGERS``: compact JSON ``[{"kind", "source", "prompt"}]``, one entry per trigger,
    for the runtime to find the prompt template of an event's source. Empty without triggers."""
    entries = [
        {"kind": t.kind, "source": source_name(ctx, agent, t), "prompt": t.config.prompt}
        for t in keyed(config)
    ]
    if not entries:
        return {}
    return {"STRANDS_TRIGGERS": json.dumps(entries, separators=(",", ":"))}


def trigger_statements(ctx: SynthContext, config: AgentConfig) -> list[dict[str, Any]]:
    """Role statements of the polled sources: the queues, and the tables' streams. (Pushing sources
    get resource-policy statements on the alias instead.) Known ARNs: the policy does not wait."""
    triggers = keyed(config)
    queues = sorted({_known_arn(ctx, t) for t in triggers if t.kind == "queue"})
    streams = sorted({f"{_known_arn(ctx, t)}/stream/*" for t in triggers if t.kind == "table"})
    out: list[dict[str, Any]] = []
    if queues:
        out.append({"Sid": "Trigger", "Effect": "Allow", "Action": QUEUE_ACTIONS, "Resource": queues})
    if streams:
        out.append(
            {"Sid": "TriggerStreams", "Effect": "Allow", "Action": STREAM_ACTIONS, "Resource": streams}
        )
    return out


def synth_triggers(
    ctx: SynthContext, agent: str, config: AgentConfig, alias: Resource, tags: dict[str, str]
) -> None:
    """Add each trigger's resources to the graph (see the module docstring)."""
    for t in keyed(config):
        build_trigger = _BUILDERS[t.kind]
        build_trigger(ctx, agent, t, alias, tags)


def _add(
    ctx: SynthContext, agent: str, suffix: str, rtype: str, props: dict[str, Any], **kw: Any
) -> Resource:
    return ctx.graph.add(Resource(f"agent.{agent}.{suffix}", rtype, props, agent=agent, **kw))


def _permission(
    ctx: SynthContext, agent: str, t: Trigger, alias: Resource, principal: str, source_arn: Any, **kw: Any
) -> Resource:
    """The alias's statement for one source (one per source: two triggers on one bucket share it)."""
    address = f"agent.{agent}.trigger-{t.base}-permission"
    if address in ctx.graph.resources:
        return ctx.graph.resources[address]
    props = build(
        PermissionProps,
        function_name=Ref(alias.address, "arn"),
        principal=principal,
        source_arn=source_arn,
        **kw,
    )
    return _add(ctx, agent, f"trigger-{t.base}-permission", "aws.lambda.permission", props)


def _queue(ctx: SynthContext, agent: str, t: Trigger, alias: Resource, tags: dict[str, str]) -> None:
    """Queue → alias, ``batch_size`` messages per invocation."""
    address, _ = _source(ctx, t)
    props = build(
        EventSourceProps,
        function_name=Ref(alias.address, "arn"),
        source_arn=Ref(address, "arn"),
        batch_size=t.config.batch_size,
    )
    _add(ctx, agent, f"trigger-{t.key}", "aws.lambda.event_source", props)


def _table(ctx: SynthContext, agent: str, t: Trigger, alias: Resource, tags: dict[str, str]) -> None:
    """The table's stream on; stream → alias from the latest record on."""
    address, _ = _source(ctx, t)
    table = ctx.graph.resources[address]
    if not table.props.get("stream"):
        table.props = build(TableProps, **{**table.props, "stream": True})
    props = build(
        EventSourceProps,
        function_name=Ref(alias.address, "arn"),
        source_arn=Ref(address, "stream_arn"),
        batch_size=t.config.batch_size,
        starting_position="LATEST",
    )
    _add(ctx, agent, f"trigger-{t.key}", "aws.lambda.event_source", props)


def _topic(ctx: SynthContext, agent: str, t: Trigger, alias: Resource, tags: dict[str, str]) -> None:
    """SNS may invoke the alias for this topic; the alias subscribes to the topic."""
    topic_arn = _known_arn(ctx, t)
    permission = _permission(ctx, agent, t, alias, "sns.amazonaws.com", topic_arn)
    address, _ = _source(ctx, t)
    props = build(
        SubscriptionProps,
        topic_arn=Ref(address, "arn"),
        protocol="lambda",
        endpoint=Ref(alias.address, "arn"),
    )
    _add(ctx, agent, f"trigger-{t.key}", "aws.sns.subscription", props, depends_on={permission.address})


def _bucket(ctx: SynthContext, agent: str, t: Trigger, alias: Resource, tags: dict[str, str]) -> None:
    """S3 may invoke the alias for this bucket (and account); the bucket's notification
    document gets this trigger's entry (one document per bucket, shared by every agent)."""
    address, bucket = _source(ctx, t)
    permission = _permission(
        ctx, agent, t, alias, "s3.amazonaws.com", _known_arn(ctx, t), source_account=ctx.account
    )
    entry = {
        "id": f"strands-{agent}-{t.key}",
        "function_arn": Ref(alias.address, "arn"),
        "events": [BUCKET_EVENTS[e] for e in dict.fromkeys(t.config.events)],
        "prefix": t.config.prefix,
        "suffix": t.config.suffix,
    }
    notification = address.rsplit(".", 1)[0] + ".notification"
    if notification not in ctx.graph.resources:
        props = build(NotificationProps, bucket=Ref(address, "name"), functions=[entry])
        ctx.graph.add(Resource(notification, "aws.s3.notification", props, depends_on={permission.address}))
        return
    shared = ctx.graph.resources[notification]
    shared.props = build(
        NotificationProps, bucket=shared.props["bucket"], functions=[*shared.props["functions"], entry]
    )
    shared.depends_on.add(permission.address)


def _rule(ctx: SynthContext, agent: str, t: Trigger, alias: Resource, tags: dict[str, str]) -> None:
    """An EventBridge rule (schedule or pattern, default bus) targeting the alias, once EventBridge
    may invoke it (the permission names the rule's deterministic ARN, so it comes first)."""
    name = rule_name(ctx, agent, t.key)
    arn = f"arn:{partition(ctx.region)}:events:{ctx.region}:{ctx.account}:rule/{name}"
    permission = _permission(ctx, agent, t, alias, "events.amazonaws.com", arn)
    what = f"schedule {t.config.schedule}" if t.kind == "schedule" else "event pattern"
    props = build(
        RuleProps,
        name=name,
        schedule=t.config.schedule.strip() if t.config.schedule else None,
        pattern=t.config.pattern,
        target_arn=Ref(alias.address, "arn"),
        description=f"strands-deploy: {what} of agent {agent}",
        tags=tags,
    )
    _add(ctx, agent, f"trigger-{t.key}", "aws.events.rule", props, depends_on={permission.address})


_BUILDERS = {
    "queue": _queue,
    "table": _table,
    "topic": _topic,
    "bucket": _bucket,
    "schedule": _rule,
    "pattern": _rule,
}
