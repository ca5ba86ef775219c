"""Plan: desired resources (the graph) against recorded ones (the state) and, after a refresh,
live ones (what AWS has now).

The plan is the program. Each :class:`Change` carries everything the engine needs to act: the
desired properties (resolved where known, references where known only after apply), what exists
(``before``, ``physical_id``), the decision and why. The engine executes a plan as it is and never
goes back to the graph, so what a user reviewed (or saved with ``plan --out``) is what runs. A plan
also records the state serial and lineage it was computed against, and the project, environment,
account and region it is for: applying it to anything else is refused.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from strands_deploy.errors import StrandsDeployError
from strands_deploy.planning.values import decode, encode, is_deferred, resolve_known
from strands_deploy.providers.base import Provider
from strands_deploy.state.model import ResourceState, State
from strands_deploy.synth.graph import UNKNOWN, Graph, Ref

PLAN_FORMAT = 1
HIDDEN_KEYS = frozenset({"fingerprint"})  # never shown: "value changed" instead
UNKNOWN_TEXT = "(known after apply)"


class Action(StrEnum):
    CREATE = "create"
    ADOPT = "adopt"  # exists in AWS with this project's tags, not in the state: record, then update
    UPDATE = "update"
    REPLACE = "replace"
    DELETE = "delete"
    NOOP = "no-op"


@dataclass
class Change:
    address: str
    type: str
    action: Action
    props: dict[str, Any] = field(default_factory=dict)  # desired (plan values)
    diff: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    reason: str | None = None
    agent: str | None = None
    dependencies: list[str] = field(default_factory=list)
    physical_id: str | None = None  # the recorded resource (update, replace, delete)
    before: dict[str, Any] | None = None  # what exists: recorded inputs, with live values overlaid

    def to_json(self) -> dict[str, Any]:
        """For display and ``plan --json``: references as text, hidden values masked."""
        return {
            "address": self.address,
            "type": self.type,
            "action": str(self.action),
            "diff": {k: {"before": display(b, k), "after": display(a, k)} for k, (b, a) in self.diff.items()},
            **({"reason": self.reason} if self.reason else {}),
        }

    def to_document(self) -> dict[str, Any]:
        """Everything the engine needs, for a saved plan."""
        return {
            "address": self.address,
            "type": self.type,
            "action": str(self.action),
            "props": encode(self.props),
            "diff": {k: [encode(b), encode(a)] for k, (b, a) in self.diff.items()},
            "reason": self.reason,
            "agent": self.agent,
            "dependencies": self.dependencies,
            "physical_id": self.physical_id,
            "before": self.before,
        }

    @classmethod
    def from_document(cls, d: dict[str, Any]) -> Change:
        return cls(
            address=str(d["address"]),
            type=str(d["type"]),
            action=Action(d["action"]),
            props=decode(d.get("props") or {}),
            diff={k: (decode(v[0]), decode(v[1])) for k, v in (d.get("diff") or {}).items()},
            reason=d.get("reason"),
            agent=d.get("agent"),
            dependencies=[str(x) for x in d.get("dependencies") or []],
            physical_id=d.get("physical_id"),
            before=d.get("before"),
        )


@dataclass
class Plan:
    environment: str
    changes: list[Change]
    refreshed: bool = False
    # what the refresh read: "all" (plan), "changes" (deploy: what it changes, in full, plus a
    # batched check of functions and alarms) or "none" (--refresh=false)
    refresh_scope: str = "none"
    project: str | None = None
    account: str | None = None
    region: str | None = None
    serial: int = 0  # the state serial and lineage the plan was computed against
    lineage: str | None = None
    destroy: bool = False
    untracked: list[dict[str, str]] = field(default_factory=list)  # live, ours, not in the state
    targets: list[str] = field(default_factory=list)
    warnings: list[dict[str, str | None]] = field(default_factory=list)  # what/where/fix, for review
    # what plan and deploy show beside the changes (policy findings, the monthly cost change) and
    # what blocks the deploy (``blocked``: policy errors, a budget exceeded): see services.review_plan
    review: dict[str, Any] | None = None

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
            "destroy": self.destroy,
            "refresh": self.refresh_scope,
            "changes": [c.to_json() for c in self.actionable],
            "summary": self.summary(),
            "untracked": self.untracked,
            "warnings": self.warnings,
            **({"review": self.review} if self.review is not None else {}),
        }

    def to_document(self) -> dict[str, Any]:
        from strands_deploy import __version__

        return {
            "format": PLAN_FORMAT,
            "tool_version": __version__,
            "project": self.project,
            "environment": self.environment,
            "account": self.account,
            "region": self.region,
            "state": {"serial": self.serial, "lineage": self.lineage},
            "destroy": self.destroy,
            "refreshed": self.refreshed,
            "refresh_scope": self.refresh_scope,
            "targets": self.targets,
            "untracked": self.untracked,
            "warnings": self.warnings,
            **({"review": self.review} if self.review is not None else {}),
            "changes": [c.to_document() for c in self.changes],
        }

    @classmethod
    def from_document(cls, d: dict[str, Any]) -> Plan:
        state = d.get("state") or {}
        return cls(
            environment=str(d["environment"]),
            changes=[Change.from_document(c) for c in d.get("changes") or []],
            refreshed=bool(d.get("refreshed")),
            refresh_scope=str(d.get("refresh_scope") or ("all" if d.get("refreshed") else "none")),
            project=d.get("project"),
            account=d.get("account"),
            region=d.get("region"),
            serial=int(state.get("serial", 0)),
            lineage=state.get("lineage"),
            destroy=bool(d.get("destroy")),
            untracked=list(d.get("untracked") or []),
            targets=list(d.get("targets") or []),
            warnings=list(d.get("warnings") or []),
            review=d.get("review") if isinstance(d.get("review"), dict) else None,
        )


def display(value: Any, key: str = "") -> Any:
    """A plan value for people: references as ``(known after apply)``, hidden values masked."""
    if key in HIDDEN_KEYS:
        return None if value is None else "(hidden)"
    if is_deferred(value) and not isinstance(value, (dict, list)):
        return UNKNOWN_TEXT
    if isinstance(value, dict):
        return {k: display(v, k) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [display(v) for v in value]
    return value


def matches(address: str, targets: Iterable[str]) -> bool:
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


def check_targets(targets: set[str], known: Iterable[str]) -> None:
    """A --target/--agent that matches no address is an error with a suggestion, never 'No changes'."""
    addresses = sorted(set(known))
    for t in sorted(targets):
        if not any(matches(a, [t]) for a in addresses):
            prefixes = sorted({".".join(a.split(".")[:n]) for a in addresses for n in (2, 3)})
            close = difflib.get_close_matches(t, prefixes, n=3, cutoff=0.5)
            raise StrandsDeployError(
                f"--target {t!r} matches no resource of this environment",
                t,
                f"did you mean {' or '.join(repr(c) for c in close)}?"
                if close
                else "run `strands-deploy graph` or `strands-deploy list` to see the addresses",
            )


class _Planner:
    def __init__(
        self,
        graph: Graph,
        state: State,
        providers: Callable[[str], Provider],
        live: dict[str, dict[str, Any] | None] | None,
        adoptable: Callable[[str], bool],
    ) -> None:
        self.graph, self.state, self.providers, self.live = graph, state, providers, live
        self.adoptable = adoptable
        self.known: dict[str, dict[str, Any]] = {}

    def lookup(self, ref: Ref) -> Any:
        outs = self.known.get(ref.address)
        if outs is None:
            return UNKNOWN
        return outs.get(ref.attr, UNKNOWN)

    def change_for(self, address: str, selected: bool) -> Change:
        res = self.graph.resources[address]
        provider = self.providers(res.type)
        record = self.state.resources.get(address)
        desired = resolve_known(res.props, self.lookup)
        change = Change(
            address,
            res.type,
            Action.NOOP,
            props=desired,
            agent=res.agent,
            dependencies=sorted(res.dependencies()),
        )
        if record is not None:
            change.physical_id = record.physical_id
            change.before = dict(record.inputs)
        live_outputs = self.live.get(address, {}) if self.live is not None and record is not None else {}
        if not selected:
            pass
        elif record is None:
            adopt = self.adoptable(address)
            change.action = Action.ADOPT if adopt else Action.CREATE
            if adopt:
                change.reason = (
                    "exists in AWS with this project's tags but not in the state: adopted, then updated"
                )
            change.diff = {k: (None, v) for k, v in desired.items()}
        elif self.live is not None and live_outputs is None:
            change.action = Action.CREATE
            change.reason = "deleted outside strands-deploy"
            change.physical_id, change.before = None, None
            change.diff = {k: (None, v) for k, v in desired.items()}
        elif record.type != res.type:
            change.action = Action.REPLACE
            change.reason = f"type changed from {record.type}"
            change.diff = {k: (record.inputs.get(k), v) for k, v in desired.items()}
        else:
            self._compare(change, provider, record, desired, live_outputs)
        self._remember(change, provider, record)
        return change

    def _compare(
        self,
        change: Change,
        provider: Provider,
        record: ResourceState,
        desired: dict[str, Any],
        live: dict[str, Any] | None,
    ) -> None:
        diff = {
            k: (record.inputs.get(k), desired.get(k))
            for k in sorted(set(desired) | set(record.inputs))
            if is_deferred(desired.get(k)) or record.inputs.get(k) != desired.get(k)
        }
        if record.status == "tainted":
            change.action = Action.REPLACE
            change.reason = "tainted: a previous create did not finish"
        elif diff:
            replace = set(diff) & provider.replace_on
            change.action = Action.REPLACE if replace else Action.UPDATE
            if replace:
                change.reason = f"{', '.join(sorted(replace))} cannot change in place"
        elif live:
            drift = provider.drift(record.inputs, live)
            if drift:
                change.action = Action.UPDATE
                change.reason = "changed outside strands-deploy"
                diff = dict(drift)
                # "before" is what exists: the provider then sends the properties that drifted
                change.before = {
                    **record.inputs,
                    **{k: b for k, (b, _) in drift.items() if k in record.inputs},
                }
        change.diff = diff

    def _remember(self, change: Change, provider: Provider, record: ResourceState | None) -> None:
        if change.action == Action.NOOP and record is not None:
            self.known[change.address] = dict(record.outputs)
        elif change.action == Action.UPDATE and record is not None:
            stable = provider.stable_outputs
            self.known[change.address] = {k: v for k, v in record.outputs.items() if k in stable}
        else:
            self.known[change.address] = {}


def make_plan(
    graph: Graph,
    state: State,
    *,
    providers: Callable[[str], Provider] | None = None,
    live: dict[str, dict[str, Any] | None] | None = None,
    targets: set[str] | None = None,
    adoptable: Callable[[str], bool] | None = None,
) -> Plan:
    """Compare desired with recorded (and live, when refreshed) resources.

    ``targets`` limits the plan to matching addresses (an address or a prefix such as
    ``agent.support``) plus what they depend on; nothing outside them is deleted.
    ``adoptable(address)`` says whether a resource missing from the state exists in AWS with
    this project's tags (from discovery); such a resource is adopted instead of created.
    """
    if providers is None:
        from strands_deploy.providers.registry import get_provider

        providers = get_provider
    selected = set(graph.resources)
    if targets:
        check_targets(targets, [*graph.resources, *state.resources])
        selected = _closure(graph, {a for a in graph.resources if matches(a, targets)})
    planner = _Planner(graph, state, providers, live, adoptable or (lambda address: False))
    changes = [planner.change_for(a, a in selected) for a in graph.topological_order()]
    for address, record in sorted(state.resources.items()):
        if address in graph.resources or (targets and not matches(address, targets)):
            continue
        changes.append(delete_change(address, record))
    return Plan(
        environment=state.environment,
        changes=changes,
        refreshed=live is not None,
        serial=state.serial,
        lineage=state.lineage,
        targets=sorted(targets or []),
    )


def delete_change(address: str, record: ResourceState) -> Change:
    return Change(
        address,
        record.type,
        Action.DELETE,
        diff={k: (v, None) for k, v in record.inputs.items()},
        agent=record.agent,
        dependencies=list(record.dependencies),
        physical_id=record.physical_id,
        before=dict(record.inputs),
    )


def make_destroy_plan(state: State) -> Plan:
    """What ``destroy`` deletes: every recorded resource (in reverse dependency order when run)."""
    return Plan(
        environment=state.environment,
        changes=[delete_change(a, r) for a, r in sorted(state.resources.items())],
        serial=state.serial,
        lineage=state.lineage,
        destroy=True,
    )
