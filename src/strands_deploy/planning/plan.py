"""Plan: desired resources (the graph) against recorded ones (the state) and, after a refresh,
live ones (what AWS has now). A plan is plain data: one renderer prints it, the engine applies it,
tests compare it."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from strands_deploy.providers.registry import get_provider
from strands_deploy.state.model import State
from strands_deploy.synth.graph import UNKNOWN, Graph, Ref, contains_unknown, resolve, to_jsonable


class Action(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    REPLACE = "replace"
    DELETE = "delete"
    NOOP = "no-op"


@dataclass
class Change:
    address: str
    type: str
    action: Action
    diff: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    reason: str | None = None
    agent: str | None = None
    dependencies: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "address": self.address,
            "type": self.type,
            "action": str(self.action),
            "diff": {
                k: {"before": to_jsonable(b), "after": to_jsonable(a)} for k, (b, a) in self.diff.items()
            },
            **({"reason": self.reason} if self.reason else {}),
        }


@dataclass
class Plan:
    environment: str
    changes: list[Change]
    refreshed: bool = False

    @property
    def actionable(self) -> list[Change]:
        return [c for c in self.changes if c.action != Action.NOOP]

    def has_changes(self) -> bool:
        return bool(self.actionable)

    def summary(self) -> dict[str, int]:
        out = {a.value: 0 for a in Action}
        for c in self.changes:
            out[c.action.value] += 1
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "environment": self.environment,
            "changes": [c.to_json() for c in self.actionable],
            "summary": self.summary(),
        }


def _matches(address: str, targets: set[str]) -> bool:
    return any(address == t or address.startswith(t + ".") for t in targets)


def _closure(graph: Graph, roots: set[str]) -> set[str]:
    out: set[str] = set()
    stack = list(roots)
    while stack:
        a = stack.pop()
        if a in out or a not in graph:
            continue
        out.add(a)
        stack.extend(graph.resources[a].dependencies())
    return out


def make_plan(
    graph: Graph,
    state: State,
    *,
    live: dict[str, dict[str, Any] | None] | None = None,
    targets: set[str] | None = None,
) -> Plan:
    """Compare desired with recorded (and live, when refreshed) resources.

    ``targets`` limits the plan to matching addresses (an address or a prefix such as
    ``agent.support``) plus what they depend on; nothing outside them is deleted.
    """
    selected = set(graph.resources)
    if targets:
        selected = _closure(graph, {a for a in graph.resources if _matches(a, targets)})
    known: dict[str, dict[str, Any]] = {}
    actions: dict[str, Action] = {}
    changes: list[Change] = []

    for address in graph.topological_order():
        res = graph.resources[address]
        provider = get_provider(res.type)
        record = state.resources.get(address)

        def lookup(ref: Ref) -> Any:
            outs = known.get(ref.address)
            if outs is None:
                return UNKNOWN
            return outs.get(ref.attr, UNKNOWN)

        desired = resolve(res.props, lookup)
        deps = sorted(res.dependencies())
        change = Change(address, res.type, Action.NOOP, agent=res.agent, dependencies=deps)
        live_outputs = live.get(address, {}) if live is not None and record is not None else {}
        if address not in selected:
            change.action = Action.NOOP
        elif record is None:
            change.action = Action.CREATE
            change.diff = {k: (None, v) for k, v in desired.items()}
        elif live is not None and live_outputs is None:
            change.action = Action.CREATE
            change.reason = "deleted outside strands-deploy"
            change.diff = {k: (None, v) for k, v in desired.items()}
        elif record.type != res.type:
            change.action = Action.REPLACE
            change.reason = f"type changed from {record.type}"
            change.diff = {k: (record.inputs.get(k), v) for k, v in desired.items()}
        else:
            diff = {
                k: (record.inputs.get(k), desired.get(k))
                for k in sorted(set(desired) | set(record.inputs))
                if contains_unknown(desired.get(k)) or record.inputs.get(k) != desired.get(k)
            }
            if record.status == "tainted":
                change.action = Action.REPLACE
                change.reason = "tainted: a previous create did not finish"
            elif diff:
                replace = set(diff) & provider.replace_on
                change.action = Action.REPLACE if replace else Action.UPDATE
                if replace:
                    change.reason = f"{', '.join(sorted(replace))} cannot change in place"
            elif live_outputs:
                drift = provider.drift(record.inputs, live_outputs)
                if drift:
                    change.action = Action.UPDATE
                    change.reason = "changed outside strands-deploy"
                    diff = {k: (before, after) for k, (before, after) in drift.items()}
            change.diff = diff
        actions[address] = change.action
        if change.action == Action.NOOP and record is not None:
            known[address] = dict(record.outputs)
        elif change.action == Action.UPDATE and record is not None:
            known[address] = {k: v for k, v in record.outputs.items() if k in provider.stable_outputs}
        else:
            known[address] = {}
        changes.append(change)

    for address, record in sorted(state.resources.items()):
        if address in graph.resources:
            continue
        if targets and not _matches(address, targets):
            continue
        changes.append(
            Change(
                address,
                record.type,
                Action.DELETE,
                diff={k: (v, None) for k, v in record.inputs.items()},
                agent=record.agent,
                dependencies=list(record.dependencies),
            )
        )
    return Plan(environment=state.environment, changes=changes, refreshed=live is not None)
