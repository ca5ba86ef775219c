"""Simulate a trigger: build the event an AWS service would send the agent, and invoke its ``live``
alias with it synchronously (as ``invoke`` does), on the local cloud or on AWS.

The event names the physical resources of the agent's configured triggers, read from the state
(the bucket, topic, queue, rule or table stream), so what the agent sees is what the real source
would send it; options override the sample's contents (``--key``, ``--message``, ``--detail``...).

Kinds: ``s3:put``, ``s3:delete``, ``sns``, ``sqs``, ``schedule``, ``event``, ``ddb:insert``,
``ddb:modify``, ``ddb:remove``.
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote_plus

from strands_deploy.config.schema import AgentConfig
from strands_deploy.errors import StrandsDeployError
from strands_deploy.operate.deployment import Deployment, find_agent
from strands_deploy.operate.invoke import invoke_live
from strands_deploy.synth.links import partition, resource_address
from strands_deploy.synth.triggers import Trigger, keyed

KINDS = ("s3:put", "s3:delete", "sns", "sqs", "schedule", "event", "ddb:insert", "ddb:modify", "ddb:remove")
OPTION_OF = {"bucket": "--bucket", "topic": "--topic", "queue": "--queue", "table": "--table"}


@dataclass(frozen=True)
class SimulateOptions:
    """What the sample event holds; None: a sample value (or the agent's trigger's source)."""

    key: str | None = None  # s3: the object key
    bucket: str | None = None  # s3: a bucket name (default: the agent's bucket trigger's)
    size: int = 1024  # s3: the object's size
    message: str | None = None  # sns
    subject: str | None = None  # sns
    topic: str | None = None  # sns: a topic ARN or name
    body: str | None = None  # sqs
    queue: str | None = None  # sqs: a queue ARN or name
    detail: dict[str, Any] | None = None  # event
    source: str | None = None  # event
    detail_type: str | None = None  # event
    keys: dict[str, Any] | None = None  # ddb: the item's key attributes (plain JSON)
    new: dict[str, Any] | None = None  # ddb: the new image's other attributes
    old: dict[str, Any] | None = None  # ddb: the old image's other attributes
    table: str | None = None  # ddb: a table name


@dataclass
class Simulation:
    agent: str
    kind: str
    event: dict[str, Any]
    answer: Any = None
    function_error: str | None = None
    sources: dict[str, str] = field(default_factory=dict)  # what the event names: bucket, topic...


@dataclass(frozen=True)
class _Env:
    """What every sample needs: where the agent runs."""

    region: str
    account: str
    partition: str

    def arn(self, service: str, resource: str, region: bool = True, account: bool = True) -> str:
        r = self.region if region else ""
        a = self.account if account else ""
        return f"arn:{self.partition}:{service}:{r}:{a}:{resource}"


def _now() -> float:
    return time.time()


def _iso(ts: float, millis: bool = True) -> str:
    text = datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")
    return (text[:-3] if millis else text[:-7]) + "Z"


def simulate(
    deployment: Deployment, agent: str, kind: str, options: SimulateOptions | None = None
) -> Simulation:
    """Build the ``kind`` event for ``agent`` and invoke its ``live`` alias with it.

    Every failure — unknown kind or agent, a trigger the agent does not have, an AWS error, the
    agent's own error — is a :class:`StrandsDeployError`."""
    sim = build_event(deployment, agent, kind, options or SimulateOptions())
    env_name = deployment.env_name
    sim.answer, sim.function_error = invoke_live(deployment, agent, sim.event)
    if sim.function_error:
        info = sim.answer if isinstance(sim.answer, dict) else {}
        raise StrandsDeployError(
            f"agent {agent!r} failed on the {kind} event: {info.get('errorType') or sim.function_error}: "
            f"{info.get('errorMessage') or sim.answer}",
            where=f"agent.{agent}",
            fix=f"see strands-deploy logs {agent} --env {env_name}",
        )
    return sim


def build_event(deployment: Deployment, agent: str, kind: str, options: SimulateOptions) -> Simulation:
    """The sample event (no AWS call but reading the state)."""
    if kind not in KINDS:
        raise StrandsDeployError(
            f"unknown event kind {kind!r}",
            fix=f"use one of: {', '.join(KINDS)}",
        )
    cfg = find_agent(deployment.project, agent)
    env = _Env(
        region=deployment.project.region(deployment.env_name),
        account=_account(deployment),
        partition=partition(deployment.project.region(deployment.env_name)),
    )
    family, _, action = kind.partition(":")
    builder = _BUILDERS[family]
    event, sources = builder(_Lookup(deployment, agent, cfg, env), env, options, action)
    return Simulation(agent, kind, event, sources=sources)


def _account(deployment: Deployment) -> str:
    """The account of the deployment, from the ARN of the agent's function in the state."""
    state = deployment.read_state()
    if state.account:
        return str(state.account)
    for record in state.resources.values():
        arn = str(record.outputs.get("arn") or "")
        if arn.startswith("arn:") and arn.split(":")[4]:
            return arn.split(":")[4]
    return "123456789012"


class _Lookup:
    """The agent's triggers and their deployed sources (from the state)."""

    def __init__(self, deployment: Deployment, agent: str, cfg: AgentConfig, env: _Env) -> None:
        self.deployment = deployment
        self.agent = agent
        self.cfg = cfg
        self.env = env

    def trigger(self, kind: str) -> Trigger | None:
        return next((t for t in keyed(self.cfg) if t.kind == kind), None)

    def outputs(self, address: str) -> dict[str, Any]:
        record = self.deployment.read_state().resources.get(address)
        return dict(record.outputs) if record is not None else {}

    def source(self, kind: str, given: str | None) -> tuple[Trigger | None, dict[str, Any]]:
        """The trigger of ``kind`` and its source's outputs; ``given`` (a name or ARN) wins."""
        t = self.trigger(kind)
        if given:
            return t, {"name": given.rsplit(":", 1)[-1], "arn": given if given.startswith("arn:") else None}
        if t is None:
            option = OPTION_OF.get(kind)
            raise StrandsDeployError(
                f"agent {self.agent!r} has no {kind} trigger",
                where=f"agent.{self.agent}",
                fix=(f"pass {option} NAME, or " if option else "")
                + f"add `triggers: [{{{kind}: ...}}]` to the agent in strands.yaml",
            )
        address = (
            resource_address(str(t.config.source), kind)
            if kind in ("queue", "topic", "bucket", "table")
            else f"agent.{self.agent}.trigger-{t.key}"
        )
        outputs = self.outputs(address)
        if not outputs:
            raise StrandsDeployError(
                f"the {kind} that triggers agent {self.agent!r} is not deployed in environment "
                f"{self.deployment.env_name!r}",
                where=address,
                fix=f"run strands-deploy deploy --env {self.deployment.env_name}",
            )
        return t, outputs


# -- samples -------------------------------------------------------------------------------------
def _s3(look: _Lookup, env: _Env, o: SimulateOptions, action: str) -> tuple[dict[str, Any], dict[str, str]]:
    if action not in ("put", "delete"):
        raise StrandsDeployError(f"unknown S3 event s3:{action}", fix="use s3:put or s3:delete")
    t, src = look.source("bucket", o.bucket)
    bucket = str(src.get("name"))
    key = o.key or (t.config.prefix if t else "") + "sample" + ((t.config.suffix if t else "") or ".txt")
    now = _now()
    obj: dict[str, Any] = {"key": quote_plus(key, safe="/"), "sequencer": f"{int(now * 1000):016X}"}
    if action == "put":
        obj.update(size=o.size, eTag=hashlib.md5(key.encode(), usedforsecurity=False).hexdigest())
    record = {
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": env.region,
        "eventTime": _iso(now),
        "eventName": "ObjectCreated:Put" if action == "put" else "ObjectRemoved:Delete",
        "userIdentity": {"principalId": "strands-deploy-simulate"},
        "requestParameters": {"sourceIPAddress": "127.0.0.1"},
        "responseElements": {
            "x-amz-request-id": uuid.uuid4().hex[:16].upper(),
            "x-amz-id-2": uuid.uuid4().hex,
        },
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": f"strands-{look.agent}-{t.key}" if t else "simulate",
            "bucket": {
                "name": bucket,
                "ownerIdentity": {"principalId": "strands-deploy-simulate"},
                "arn": f"arn:{env.partition}:s3:::{bucket}",
            },
            "object": obj,
        },
    }
    return {"Records": [record]}, {"bucket": bucket, "key": key}


def _sns(look: _Lookup, env: _Env, o: SimulateOptions, action: str) -> tuple[dict[str, Any], dict[str, str]]:
    t, src = look.source("topic", o.topic)
    topic_arn = str(src.get("arn") or env.arn("sns", str(src.get("name"))))
    subscription = look.outputs(f"agent.{look.agent}.trigger-{t.key}") if t and not o.topic else {}
    record = {
        "EventSource": "aws:sns",
        "EventVersion": "1.0",
        "EventSubscriptionArn": str(subscription.get("arn") or f"{topic_arn}:{uuid.uuid4()}"),
        "Sns": {
            "Type": "Notification",
            "MessageId": str(uuid.uuid4()),
            "TopicArn": topic_arn,
            "Subject": o.subject,
            "Message": o.message if o.message is not None else "Hello from strands-deploy simulate",
            "Timestamp": _iso(_now()),
            "SignatureVersion": "1",
            "Signature": "simulated",
            "SigningCertUrl": "",
            "UnsubscribeUrl": "",
            "MessageAttributes": {},
        },
    }
    return {"Records": [record]}, {"topic": topic_arn}


def _sqs(look: _Lookup, env: _Env, o: SimulateOptions, action: str) -> tuple[dict[str, Any], dict[str, str]]:
    _, src = look.source("queue", o.queue)
    queue_arn = str(src.get("arn") or env.arn("sqs", str(src.get("name"))))
    body = o.body if o.body is not None else "Hello from strands-deploy simulate"
    now_ms = str(int(_now() * 1000))
    record = {
        "messageId": str(uuid.uuid4()),
        "receiptHandle": uuid.uuid4().hex,
        "body": body,
        "attributes": {
            "ApproximateReceiveCount": "1",
            "SentTimestamp": now_ms,
            "SenderId": "strands-deploy-simulate",
            "ApproximateFirstReceiveTimestamp": now_ms,
        },
        "messageAttributes": {},
        "md5OfBody": hashlib.md5(body.encode(), usedforsecurity=False).hexdigest(),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": env.region,
    }
    return {"Records": [record]}, {"queue": queue_arn}


def _schedule(
    look: _Lookup, env: _Env, o: SimulateOptions, action: str
) -> tuple[dict[str, Any], dict[str, str]]:
    _, src = look.source("schedule", None)
    rule_arn = str(src.get("arn") or env.arn("events", f"rule/{src.get('name')}"))
    event = _bus_event(env, "aws.events", "Scheduled Event", {}, [rule_arn])
    return event, {"rule": rule_arn}


def _event(
    look: _Lookup, env: _Env, o: SimulateOptions, action: str
) -> tuple[dict[str, Any], dict[str, str]]:
    t = look.trigger("pattern")
    pattern = (t.config.pattern if t else None) or {}
    source = o.source or _first(pattern.get("source")) or "strands-deploy.simulate"
    detail_type = o.detail_type or _first(pattern.get("detail-type")) or "Simulated Event"
    detail = o.detail if o.detail is not None else {}
    sources = {"source": source, "detail-type": detail_type}
    if t is not None:
        rule = look.outputs(f"agent.{look.agent}.trigger-{t.key}")
        if rule.get("arn"):
            sources["rule"] = str(rule["arn"])
    return _bus_event(env, source, detail_type, detail, []), sources


def _first(values: Any) -> str | None:
    """The first plain string a pattern's field matches (``["a", "b"]`` → ``a``)."""
    if isinstance(values, list):
        return next((v for v in values if isinstance(v, str)), None)
    return None


def _bus_event(env: _Env, source: str, detail_type: str, detail: Any, resources: list[str]) -> dict[str, Any]:
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": detail_type,
        "source": source,
        "account": env.account,
        "time": _iso(_now(), millis=False),
        "region": env.region,
        "resources": resources,
        "detail": detail,
    }


def _ddb(look: _Lookup, env: _Env, o: SimulateOptions, action: str) -> tuple[dict[str, Any], dict[str, str]]:
    names = {"insert": "INSERT", "modify": "MODIFY", "remove": "REMOVE"}
    if action not in names:
        raise StrandsDeployError(
            f"unknown DynamoDB event ddb:{action}", fix="use ddb:insert, ddb:modify or ddb:remove"
        )
    t, src = look.source("table", o.table)
    table = str(src.get("name"))
    stream_arn = str(src.get("stream_arn") or env.arn("dynamodb", f"table/{table}/stream/simulated"))
    keys = o.keys if o.keys is not None else _sample_key(look, t)
    images: dict[str, Any] = {"Keys": typed(keys)}
    if action in ("insert", "modify"):
        images["NewImage"] = typed({**keys, **(o.new or {})})
    if action in ("modify", "remove"):
        images["OldImage"] = typed({**keys, **(o.old or {})})
    now = _now()
    record = {
        "eventID": uuid.uuid4().hex,
        "eventName": names[action],
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": env.region,
        "dynamodb": {
            "ApproximateCreationDateTime": int(now),
            **images,
            "SequenceNumber": str(int(now * 1000)),
            "SizeBytes": len(json.dumps(images)),
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        },
        "eventSourceARN": stream_arn,
    }
    return {"Records": [record]}, {"table": table}


def _sample_key(look: _Lookup, t: Trigger | None) -> dict[str, Any]:
    """``{<key attribute>: "sample"}`` from the table's declaration."""
    resources = look.deployment.project.config.resources
    res = resources.get(str(t.config.source)) if t is not None else None
    if res is None or not res.key:
        return {"id": "sample"}
    out: dict[str, Any] = {res.key: 1 if res.key_type == "N" else "sample"}
    if res.sort_key:
        out[res.sort_key] = 1 if res.sort_key_type == "N" else "sample"
    return out


def typed(item: dict[str, Any]) -> dict[str, Any]:
    """Plain JSON → DynamoDB's typed attribute values (``{"id": "a"}`` → ``{"id": {"S": "a"}}``)."""
    return {str(k): _typed_value(v) for k, v in item.items()}


def _typed_value(value: Any) -> dict[str, Any]:
    if value is None:
        return {"NULL": True}
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, (int, float)):
        return {"N": str(value)}
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, list):
        return {"L": [_typed_value(v) for v in value]}
    if isinstance(value, dict):
        return {"M": typed(value)}
    return {"S": str(value)}


_BUILDERS = {"s3": _s3, "sns": _sns, "sqs": _sqs, "schedule": _schedule, "event": _event, "ddb": _ddb}
