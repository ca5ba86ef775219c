"""Synthesis and the providers agree on every property: each resource synthesised from a project that
uses every feature validates against its provider's typed model once its references are resolved."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from strands_deploy.config.loader import load_project
from strands_deploy.errors import StrandsDeployError
from strands_deploy.providers.base import PropsModel
from strands_deploy.providers.lambda_function import FunctionProps
from strands_deploy.providers.registry import get_provider, known_types
from strands_deploy.providers.table import TableProps
from strands_deploy.synth import synthesize
from strands_deploy.synth.graph import Graph, Join, Ref, resolve
from strands_deploy.synth.props import build
from tests.helpers import write_project

SECRET = "CANARY-value-never-in-props"

RICH = """\
project: acme
region: eu-west-1
tags: {team: agents}
defaults: {memory: 1024, timeout: 120, alarms: true}
agents:
  support:
    path: agents/support
    description: answers tickets
    memory: 2048
    environment: {TONE: friendly}
    expose: url
    auth: AWS_IAM
    cors: {allow_origins: ["https://example.com"]}
    sessions: true
    tracing: true
    reserved_concurrency: 5
    provisioned_concurrency: 2
    role: own
    model: [us.anthropic.claude-sonnet-4-20250514-v1:0, anthropic.claude-3-haiku-20240307-v1:0]
    link: [tickets, docs, jobs, events, api-key, config]
    permissions:
      - {Effect: Allow, Action: ["s3:GetObject"], Resource: ["arn:aws:s3:::shared-docs/*"]}
  worker:
    path: agents/worker
    expose: http
    auth: none
    stages: {v1: {alias: 3}, v2: {tier: gold}}
    role: shared
    trigger: jobs
    runtime: python3.11
    architecture: x86_64
    timeout: 300
    link: [tickets]
    alarms: {notify: [{sns: "arn:aws:sns:eu-west-1:111122223333:pager"}, {email: oncall@example.com}]}
  quiet:
    path: agents/quiet
    alarms: false
    requirements: none.txt
    sessions: {ttl_days: 7}
    triggers: [{bucket: docs, prefix: in/}, {schedule: "rate(1 hour)"}, {pattern: {source: [my.app]}}, {table: tickets}]
  gate:
    path: agents/gate
    role: shared
    expose: http
    auth: jwt
    jwt: {issuer: "https://issuer.example.com/", audience: [client-1]}
    link: [{to: tickets, access: read}, {to: jobs, access: write}]
resources:
  tickets: {type: table, key: id, key_type: S, sort_key: created, sort_key_type: N}
  docs: {type: bucket, versioning: true, retain: true}
  jobs: {type: queue, dlq: true, visibility_timeout: 600}
  events: {type: topic}
  api-key: {type: secret, from_env: API_KEY}
  config: {type: parameter, from_file: config.txt, secure: false}
environments:
  dev:
    tags: {stage: dev}
    alarms: {notify: [{email: ops@example.com}, {webhook: {secret: api-key}}]}
    budget: {monthly_usd: 100000, notify: [{email: finance@example.com}], anomaly_alerts: true}
    security: {config_rules: [LAMBDA_FUNCTION_PUBLIC_ACCESS_PROHIBITED, IAM_PASSWORD_POLICY], security_hub: true, guardduty: true}
"""


def rich_graph(tmp_path: Path) -> Graph:
    agents = {
        "support": "agent = 1\n",
        "worker": "agent = 2\n",
        "quiet": "agent = 3\n",
        "gate": "agent = 4\n",
    }
    root = write_project(tmp_path / "project", RICH, agents=agents)
    (root / "agents" / "quiet" / "none.txt").write_text("")  # no requirements: no layer
    (root / "config.txt").write_text("from a file\n")
    return synthesize(
        load_project(root),
        "dev",
        target="aws",
        account="111122223333",
        secret_value=lambda s: SECRET,
        fingerprint_key=b"k" * 32,
    )


def placeholder(ref: Ref) -> Any:
    """A plausible value for any output: an ARN for ARNs, a string otherwise (every output that
    synthesis references is a string)."""
    if ref.attr.endswith("arn"):
        return f"arn:aws:placeholder:eu-west-1:111122223333:{ref.address}"
    return f"{ref.attr}-of-{ref.address}"


def test_every_synthesised_resource_matches_its_providers_model(tmp_path: Path) -> None:
    graph = rich_graph(tmp_path)
    # the fixture exercises every resource type, so a type added without a model fails here
    assert {r.type for r in graph} == set(known_types())
    for resource in graph:
        provider = get_provider(resource.type)
        model = getattr(provider, "props_model", None)
        assert isinstance(model, type) and issubclass(model, PropsModel), resource.type
        resolved = resolve(resource.props, placeholder)
        model.parse(resolved, resource.address)  # raises on a missing, unknown or mistyped property
        # what the planner compares to decide on a replacement are properties of the model
        assert provider.replace_on <= set(model.model_fields), resource.type


def test_the_fixture_uses_every_feature(tmp_path: Path) -> None:
    graph = rich_graph(tmp_path)
    addresses = set(graph.resources)
    assert {
        "agent.support.role",  # own role
        "shared.execution-role",  # shared role
        "agent.support.url",
        "agent.worker.route",
        "agent.gate.authorizer",  # auth: jwt
        "shared.http-api",
        "shared.sessions",
        "agent.worker.trigger-jobs",
        "agent.support.alarm-duration",
    } <= addresses
    # agents with identical requirements share one layer
    assert any(a.startswith("shared.deps-") for a in addresses), sorted(addresses)
    assert "agent.quiet.deps" not in addresses and "agent.quiet.alarm-errors" not in addresses
    table = graph.resources["resource.tickets.table"].props
    assert (table["range_key"], table["range_key_type"]) == ("created", "N")
    fn = graph.resources["agent.support.function"].props
    assert fn["tracing"] == "Active" and fn["reserved_concurrency"] == 5
    assert graph.resources["agent.worker.function"].props["reserved_concurrency"] == 10  # public: capped
    assert graph.resources["agent.gate.route"].props["authorization"] == "JWT"
    assert graph.resources["agent.worker.route"].props["authorization"] == "NONE"
    assert graph.resources["agent.support.url"].props["auth"] == "AWS_IAM"
    assert graph.resources["shared.sessions"].props["expire_days"] == 30  # the longest ttl wins
    assert table["retain"] is True and table["deletion_protection"] is True
    sids = {s.get("Sid") for s in graph.resources["agent.support.policy"].props["document"]["Statement"]}
    assert {"Sessions", "Tracing", "LinkTickets", "LinkApiKey", "LinkConfig", None} <= sids
    assert "Trigger" in {
        s.get("Sid") for s in graph.resources["agent.worker.policy"].props["document"]["Statement"]
    }


def test_secret_props_hold_a_source_and_a_fingerprint_never_the_value(tmp_path: Path) -> None:
    graph = rich_graph(tmp_path)
    for address in ("resource.api-key.secret", "resource.config.parameter"):
        props = graph.resources[address].props
        assert SECRET not in repr(props)
        assert {"source", "fingerprint"} <= set(props)
    assert graph.resources["resource.api-key.secret"].props["source"] == {"env": "API_KEY"}


def test_build_rejects_unknown_and_missing_properties() -> None:
    with pytest.raises(StrandsDeployError, match="unknown property 'hash_keys'"):
        build(TableProps, name="t", hash_keys="id")
    with pytest.raises(StrandsDeployError, match="missing property 'hash_key'"):
        build(TableProps, name="t")
    with pytest.raises(StrandsDeployError, match="hash_key_type"):
        build(TableProps, name="t", hash_key="id", hash_key_type="X")


def test_build_validates_plain_values_and_defers_references() -> None:
    code = {"path": "agents/a", "hash": "h", "entry": "agent.py:agent"}
    fields: dict[str, Any] = {
        "name": "fn",
        "role_arn": Ref("shared.execution-role", "arn"),
        "runtime": "python3.12",
        "handler": "h.handler",
        "memory": 512,
        "timeout": 30,
        "environment": {"A": "1", "B": Join((Ref("x", "arn"), "/*"))},
        "layers": [Ref("agent.a.deps", "arn")],
        "code": code,
    }
    props = build(FunctionProps, **fields)
    assert props == fields  # a plain dict, references left in place
    assert props["role_arn"] == Ref("shared.execution-role", "arn")
    # a reference where a number is expected is checked when it is resolved, not now
    build(FunctionProps, **{**fields, "memory": Ref("x", "memory")})
    # but a plain value of the wrong type fails now, nested ones too
    with pytest.raises(StrandsDeployError, match="memory"):
        build(FunctionProps, **{**fields, "memory": "lots"})
    with pytest.raises(StrandsDeployError, match="code.hash"):
        build(FunctionProps, **{**fields, "code": {"path": "agents/a"}})


def test_parse_refuses_a_misspelt_property_with_a_message() -> None:
    with pytest.raises(StrandsDeployError) as info:
        TableProps.parse({"name": "t", "hash_key": "id", "pitr_enabled": True}, "resource.t.table")
    assert info.value.where == "resource.t.table"
    assert "pitr_enabled" in info.value.what


def test_recorded_props_with_unobserved_values_parse_without_raising() -> None:
    """The inputs recorded for an adopted resource hold None for what a read cannot observe."""
    from strands_deploy.providers.bucket import BucketProps
    from strands_deploy.providers.secret import SecretProps

    bucket = BucketProps.parse_recorded({"name": "b", "versioning": True, "retain": None, "tags": {}})
    assert bucket.retain is True  # the default: an unknown `retain` never empties a bucket
    secret = SecretProps.parse_recorded({"name": "s", "source": None, "fingerprint": None, "old": 1})
    assert secret.fingerprint != "f1" and secret.source != {"env": "X"}  # so the update sends the value
    fn = FunctionProps.parse_recorded({"name": "f", "code": None, "memory": "lots"})
    assert fn.code is None and fn.memory is None and fn.name == "f"  # required and unknown: None


def test_alarm_notifications_and_declared_inline_policies(tmp_path: Path) -> None:
    """Issue 11 items 10 and 12: alarms notify where configured; roles declare their policies."""
    g = rich_graph(tmp_path)
    topic = Ref("shared.alarms", "arn")
    support = g.resources["agent.support.alarm-errors"].props
    assert support["alarm_actions"] == [topic] and support["ok_actions"] == [topic]  # the environment's
    worker = g.resources["agent.worker.alarm-errors"].props["alarm_actions"]
    assert worker == ["arn:aws:sns:eu-west-1:111122223333:pager", topic]  # the agent's own targets
    subs = {r.props["protocol"]: r.props for r in g if r.type == "aws.sns.subscription"}
    assert subs["email"]["endpoint"] in ("ops@example.com", "oncall@example.com")
    assert len([r for r in g if r.type == "aws.sns.subscription"]) == 3  # two emails, one webhook
    assert subs["lambda"]["endpoint"] == Ref("shared.notify-api-key.function", "arn")
    forwarder = g.resources["shared.notify-api-key.policy"].props["document"]["Statement"]
    assert forwarder[1]["Resource"] == [Ref("resource.api-key.secret", "arn")]  # that secret only
    assert g.resources["agent.support.role"].props["inline_policies"] == ["acme-dev-support"]
    shared = g.resources["shared.execution-role"].props["inline_policies"]
    assert sorted(shared) == ["acme-dev-gate", "acme-dev-worker"]
