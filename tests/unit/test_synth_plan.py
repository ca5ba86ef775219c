from __future__ import annotations

from pathlib import Path
from typing import Any

from strands_deploy.config.loader import load_project
from strands_deploy.planning.plan import Action, make_plan
from strands_deploy.state.model import ResourceState, State
from strands_deploy.synth import synthesize
from strands_deploy.synth.graph import Graph, Ref, resolve
from strands_deploy.synth.naming import physical_name
from tests.helpers import BASIC as BASIC_NO_AUTH
from tests.helpers import write_project

# an endpoint on an AWS environment states who may call it
BASIC = BASIC_NO_AUTH.replace("    expose: url\n", "    expose: url\n    auth: iam\n")


def graph_for(root: Path, env: str = "dev") -> Graph:
    project = load_project(root)
    return synthesize(
        project,
        env,
        target="aws",
        account="111122223333",
        secret_value=lambda s: "v",
        fingerprint_key=b"k" * 32,
    )


def test_addresses_and_names(tmp_path: Path) -> None:
    g = graph_for(write_project(tmp_path, BASIC))
    assert {
        "agent.support.role",
        "shared.sessions",
        "agent.support.logs",
        "agent.support.policy",
        "agent.support.deps",
        "agent.support.function",
        "agent.support.alias",
        "agent.support.url",
        "agent.support.alarm-errors",
        "agent.support.alarm-throttles",
        "agent.support.alarm-duration",
        "resource.tickets.table",
        "resource.docs.bucket",
        "resource.jobs.queue",
        "shared.artifacts",  # an AWS environment: large code and layers are uploaded through it
    } == set(g.resources)
    fn = g.resources["agent.support.function"]
    assert fn.props["name"] == "acme-dev-support"
    assert fn.props["memory"] == 2048
    assert fn.props["environment"]["TONE"] == "friendly"
    assert (
        fn.props["environment"]["STRANDS_LINK_TICKETS_TABLE"] == "acme-dev-tickets"
    )  # known before it exists
    alias = g.resources["agent.support.alias"]
    assert {"resource.tickets.table", "resource.docs.bucket"} <= alias.dependencies()
    assert "resource.tickets.table" not in fn.dependencies()  # the function does not wait for the table
    assert fn.props["environment"]["STRANDS_SESSIONS_BUCKET"] == Ref("shared.sessions", "name")
    order = g.topological_order()
    assert order.index("agent.support.policy") < order.index("agent.support.function")
    assert order.index("agent.support.logs") < order.index("agent.support.function")
    assert (
        order.index("agent.support.function")
        < order.index("agent.support.alias")
        < order.index("agent.support.url")
    )


def test_long_names_are_shortened_with_hash() -> None:
    name = physical_name("a-very-long-project-name", "production", "x" * 60, "function")
    assert len(name) == 64
    assert name != physical_name("a-very-long-project-name", "production", "x" * 59 + "y", "function")


def test_links_grant_only_linked_arns(tmp_path: Path) -> None:
    text = BASIC.replace("resources:", "  other:\n    path: agents/other\n    link: [jobs]\nresources:")
    root = write_project(tmp_path, text, agents={"support": "agent = 1\n", "other": "agent = 1\n"})
    g = graph_for(root)

    def linked(agent: str) -> set[str]:
        doc = g.resources[f"agent.{agent}.policy"].props["document"]
        arns = {
            r for st in doc["Statement"] if st["Sid"].startswith(("Link", "List")) for r in st["Resource"]
        }
        return arns

    assert linked("support") == {
        "arn:aws:dynamodb:us-east-1:111122223333:table/acme-dev-tickets",
        "arn:aws:dynamodb:us-east-1:111122223333:table/acme-dev-tickets/index/*",
        "arn:aws:s3:::acme-dev-docs-111122223333",
        "arn:aws:s3:::acme-dev-docs-111122223333/*",
    }
    assert linked("other") == {"arn:aws:sqs:us-east-1:111122223333:acme-dev-jobs"}


def _state_from(g: Graph, env: str = "dev") -> State:
    """A state as if everything had been applied: outputs are fake but consistent."""
    state = State(environment=env)
    outputs: dict[str, dict[str, Any]] = {}
    for a in g.topological_order():
        r = g.resources[a]
        out = {"arn": f"arn:{a}", "name": f"name:{a}", "revision": "r1", "api_id": "api", "url": "u"}
        outputs[a] = out
        inputs = resolve(r.props, lambda ref: outputs[ref.address][ref.attr])
        state.resources[a] = ResourceState(r.type, f"id:{a}", inputs, out, sorted(r.dependencies()), r.agent)
    return state


def test_plan_create_then_noop(tmp_path: Path) -> None:
    g = graph_for(write_project(tmp_path, BASIC))
    plan = make_plan(g, State(environment="dev"))
    assert plan.summary()["create"] == len(g)
    state = _state_from(g)
    again = make_plan(g, state)
    assert not again.has_changes(), [c.to_json() for c in again.actionable]


def test_code_change_updates_function_and_alias_only(tmp_path: Path) -> None:
    root = write_project(tmp_path, BASIC)
    state = _state_from(graph_for(root))
    (root / "agents" / "support" / "agent.py").write_text("agent = 2\n")
    plan = make_plan(graph_for(root), state)
    changed = {c.address: c for c in plan.actionable}
    assert set(changed) == {"agent.support.function", "agent.support.alias"}
    assert changed["agent.support.function"].action == Action.UPDATE
    assert list(changed["agent.support.function"].diff) == ["code"]
    # known only after apply: the plan keeps the reference for the engine to fill
    assert changed["agent.support.alias"].diff["revision"][1] == Ref("agent.support.function", "revision")


def test_replace_and_delete_and_drift(tmp_path: Path) -> None:
    root = write_project(tmp_path, BASIC)
    state = _state_from(graph_for(root))
    text = BASIC.replace("tickets: {type: table, key: id}", "tickets: {type: table, key: ticket_id}").replace(
        "  jobs: {type: queue}\n", ""
    )
    (root / "strands.yaml").write_text(text)
    plan = make_plan(graph_for(root), state)
    actions = {c.address: c.action for c in plan.actionable}
    assert actions["resource.tickets.table"] == Action.REPLACE
    assert actions["resource.jobs.queue"] == Action.DELETE
    live: dict[str, dict[str, Any] | None] = {
        a: {"arn": r.outputs["arn"]} for a, r in state.resources.items()
    }
    live["resource.docs.bucket"] = None
    drift = make_plan(graph_for(root), state, live=live)
    bucket = next(c for c in drift.changes if c.address == "resource.docs.bucket")
    assert bucket.action == Action.CREATE and bucket.reason == "deleted outside strands-deploy"


def test_targets_limit_plan(tmp_path: Path) -> None:
    text = BASIC.replace("resources:", "  other:\n    path: agents/other\nresources:")
    root = write_project(tmp_path, text, agents={"support": "agent = 1\n", "other": "agent = 1\n"})
    plan = make_plan(graph_for(root), State(environment="dev"), targets={"agent.other"})
    addresses = {c.address for c in plan.actionable}
    assert "agent.other.function" in addresses and "agent.other.role" in addresses
    assert not any(a.startswith("agent.support") for a in addresses)


def test_plan_json_has_no_secret(tmp_path: Path) -> None:
    text = "project: acme\nresources:\n  key: {type: secret, from_env: API_KEY}\n"
    root = write_project(tmp_path, text, agents={})
    project = load_project(root)
    g = synthesize(
        project,
        "dev",
        target="aws",
        account="1",
        secret_value=lambda s: "CANARY-s3cr3t",
        fingerprint_key=b"k" * 32,
    )
    import json

    assert "CANARY" not in json.dumps(make_plan(g, State(environment="dev")).to_json())
