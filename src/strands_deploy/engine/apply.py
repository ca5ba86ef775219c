"""Apply a plan, destroy an environment, and resolve operations an interrupted run left pending.

This is the only layer that changes AWS. Every call is journaled: the operation is recorded as
pending (durably) before the provider is called, and the result is recorded as soon as it lands.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from strands_deploy.engine.events import Event, EventSink, null_sink
from strands_deploy.engine.scheduler import WalkResult, walk
from strands_deploy.errors import StrandsDeployError
from strands_deploy.planning.plan import Action, Change, Plan
from strands_deploy.providers.base import Provider, ProviderContext
from strands_deploy.providers.registry import get_provider
from strands_deploy.state.model import ResourceState
from strands_deploy.state.store import StateStore
from strands_deploy.synth.graph import UNKNOWN, Graph, Ref, contains_unknown, resolve


@dataclass
class ApplyResult:
    applied: list[str] = field(default_factory=list)
    failed: dict[str, StrandsDeployError] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    not_started: list[str] = field(default_factory=list)
    cancelled: bool = False
    recovered: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failed and not self.skipped and not self.not_started and not self.cancelled

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "applied": self.applied,
            "failed": {a: e.to_dict() for a, e in self.failed.items()},
            "skipped": self.skipped,
            "not_started": self.not_started,
            "cancelled": self.cancelled,
            "recovered": self.recovered,
        }


def as_error(address: str, exc: BaseException) -> StrandsDeployError:
    if isinstance(exc, StrandsDeployError):
        if exc.where is None:
            exc.where = address
        return exc
    try:
        from strands_deploy.aws.errors import convert  # providers' AWS error mapping

        return convert(exc, address, "")
    except Exception:
        return StrandsDeployError(
            f"{type(exc).__name__}: {exc}", address, "run again with --debug for details"
        )


class Engine:
    def __init__(
        self,
        ctx: ProviderContext,
        store: StateStore,
        *,
        sink: EventSink = null_sink,
        concurrency: int = 16,
        cancel: threading.Event | None = None,
        providers: Callable[[str], Provider] = get_provider,
    ) -> None:
        self.ctx = ctx
        self.store = store
        self.sink = sink
        self.concurrency = concurrency
        self.cancel = cancel or threading.Event()
        self.providers = providers

    # -- helpers ------------------------------------------------------------------------------
    def _emit(
        self, kind: str, address: str, action: str, message: str = "", started: float | None = None
    ) -> None:
        self.sink(Event(kind, address, action, message, time.monotonic() - started if started else 0.0))

    def _lookup(self, ref: Ref) -> Any:
        outputs = self.store.outputs(ref.address)
        if outputs is None or ref.attr not in outputs:
            return UNKNOWN
        return outputs[ref.attr]

    def _critical_path(
        self, nodes: set[str], deps: dict[str, set[str]], types: dict[str, str]
    ) -> dict[str, float]:
        """For each node, the expected seconds of the longest chain from it to the end."""
        dependents: dict[str, list[str]] = {n: [] for n in nodes}
        for n in nodes:
            for d in deps[n] & nodes:
                dependents[d].append(n)
        height: dict[str, float] = {}

        def h(n: str) -> float:
            if n not in height:
                below = max((h(m) for m in dependents[n]), default=0.0)
                height[n] = self.providers(types[n]).expected_seconds + below
            return height[n]

        for n in nodes:
            h(n)
        return height

    def _collect(self, walk_result: WalkResult, result: ApplyResult) -> None:
        result.applied.extend(walk_result.done)
        for address, exc in walk_result.failed.items():
            result.failed[address] = as_error(address, exc)
        result.skipped.update(walk_result.skipped)
        result.not_started.extend(walk_result.not_started)
        result.cancelled = result.cancelled or self.cancel.is_set()

    # -- apply --------------------------------------------------------------------------------
    def apply(self, plan: Plan, graph: Graph) -> ApplyResult:
        result = ApplyResult()
        changes = {c.address: c for c in plan.changes}
        todo = {a for a, c in changes.items() if c.action in (Action.CREATE, Action.UPDATE, Action.REPLACE)}
        deps = {a: graph.resources[a].dependencies() for a in todo}

        def run(address: str) -> None:
            self._apply_one(changes[address], graph)

        def on_skip(address: str, cause: str) -> None:
            self._emit("skipped", address, changes[address].action.value, f"{cause} failed")

        types = {a: graph.resources[a].type for a in todo}
        walked = walk(
            todo,
            deps,
            run,
            concurrency=self.concurrency,
            cancel=self.cancel,
            on_skip=on_skip,
            priority=self._critical_path(todo, deps, types),
            groups=types,
            group_limits={t: n for t in set(types.values()) if (n := self.providers(t).max_in_flight)},
        )
        self._collect(walked, result)

        deletes = [c for c in plan.changes if c.action == Action.DELETE]
        if deletes and not self.cancel.is_set():
            self._collect(self._delete_many([c.address for c in deletes], block_on_failure=True), result)
        elif deletes:
            result.not_started.extend(c.address for c in deletes)
        return result

    def _apply_one(self, change: Change, graph: Graph) -> None:
        res = graph.resources[change.address]
        provider = self.providers(res.type)
        props = resolve(res.props, self._lookup)
        if contains_unknown(props):
            raise StrandsDeployError(
                f"{change.address}: a referenced output is missing after its dependencies ran",
                change.address,
                "run deploy again; report a bug if this repeats",
            )
        deps = sorted(res.dependencies())
        started = time.monotonic()
        action = change.action.value
        self._emit("start", change.address, action)
        record = self.store.get(change.address)
        if change.action == Action.UPDATE and record is not None:
            op = self.store.begin(
                change.address, res.type, "update", props, record.physical_id, res.agent, deps
            )
            # "before" is what exists: the recorded inputs, overlaid with live values where a refresh
            # found the resource changed outside the tool (so the provider sends those properties)
            before = {**record.inputs, **{k: b for k, (b, _) in change.diff.items() if k in record.inputs}}
            try:
                outputs = provider.update(
                    self.ctx, change.address, record.physical_id, before, props, record.outputs
                )
            except BaseException:
                self.store.abandon(op)  # the old record still describes what exists
                self._emit("failed", change.address, action, started=started)
                raise
            self.store.finish(
                op,
                change.address,
                ResourceState(res.type, record.physical_id, props, outputs, deps, res.agent),
            )
            self._emit("done", change.address, action, started=started)
            return
        op = self.store.begin(
            change.address, res.type, action, props, record.physical_id if record else None, res.agent, deps
        )
        try:
            if change.action == Action.REPLACE and record is not None:
                old_provider = self.providers(record.type)
                old_provider.delete(
                    self.ctx, change.address, record.physical_id, record.inputs, record.outputs
                )
            created = provider.create(self.ctx, change.address, props)
        except BaseException as exc:
            self._record_failed_create(change.address, res.type, provider, props, deps, res.agent, op, exc)
            self._emit("failed", change.address, action, started=started)
            raise
        self.store.finish(
            op,
            change.address,
            ResourceState(res.type, created.physical_id, props, created.outputs, deps, res.agent),
        )
        self._emit("done", change.address, action, started=started)

    def _record_failed_create(
        self,
        address: str,
        type_: str,
        provider: Provider,
        props: dict[str, Any],
        deps: list[str],
        agent: str | None,
        op: str,
        exc: BaseException,
    ) -> None:
        """A create failed: if the resource exists anyway (half-created), record it as tainted so the
        next plan replaces it; otherwise forget the pending operation."""
        try:
            found = provider.find(self.ctx, address, props)
        except Exception:
            found = None
        if found is not None:
            self.store.finish(
                op,
                address,
                ResourceState(type_, found.physical_id, props, found.outputs, deps, agent, status="tainted"),
            )
        else:

            def change(s: Any) -> None:
                s.pending.pop(op, None)
                s.resources.pop(address, None)  # a replace deleted the old one already

            self.store.mutate(change)

    # -- destroy ------------------------------------------------------------------------------
    def destroy(self, addresses: list[str] | None = None) -> ApplyResult:
        result = ApplyResult()
        targets = addresses if addresses is not None else list(self.store.state.resources)
        # keep going past failures: destroy reports every failure at the end
        self._collect(self._delete_many(targets, block_on_failure=False), result)
        return result

    def _delete_many(self, addresses: list[str], *, block_on_failure: bool) -> WalkResult:
        nodes = set(addresses)
        # reverse edges: X can go once everything (being deleted) that depends on X is gone
        deps: dict[str, set[str]] = {a: set() for a in nodes}
        for a in nodes:
            record = self.store.get(a)
            for d in record.dependencies if record else []:
                if d in nodes:
                    deps[d].add(a)

        def run(address: str) -> None:
            self._delete_one(address)

        return walk(
            nodes,
            deps,
            run,
            concurrency=self.concurrency,
            cancel=self.cancel,
            block_on_failure=block_on_failure,
        )

    def _delete_one(self, address: str) -> None:
        record = self.store.get(address)
        if record is None:
            return
        provider = self.providers(record.type)
        started = time.monotonic()
        self._emit("start", address, "delete")
        op = self.store.begin(
            address,
            record.type,
            "delete",
            record.inputs,
            record.physical_id,
            record.agent,
            record.dependencies,
        )
        try:
            provider.delete(self.ctx, address, record.physical_id, record.inputs, record.outputs)
        except BaseException:
            self.store.abandon(op)
            self._emit("failed", address, "delete", started=started)
            raise
        self.store.finish(op, address, None)
        self._emit("done", address, "delete", started=started)

    # -- recovery -----------------------------------------------------------------------------
    def recover(self) -> list[str]:
        """Resolve operations an interrupted run left pending: adopt what was created (found by its
        name and tags), forget what never came to be, drop records of what was deleted."""
        pending = list(self.store.state.pending.values())
        recovered: list[str] = []

        def one(op_id: str) -> None:
            op = self.store.state.pending[op_id]
            provider = self.providers(op.type)
            record = self.store.get(op.address)
            if op.action in ("create", "replace"):
                found = provider.find(self.ctx, op.address, op.inputs)
                if found is not None:
                    new = ResourceState(
                        op.type, found.physical_id, op.inputs, found.outputs, op.dependencies, op.agent
                    )
                    self.store.finish(op_id, op.address, new)
                else:

                    def change(s: Any) -> None:
                        s.pending.pop(op_id, None)
                        if op.action == "replace":
                            s.resources.pop(op.address, None)

                    self.store.mutate(change)
            elif op.action == "delete" and record is not None:
                live = provider.read(self.ctx, op.address, record.physical_id, record.inputs)
                self.store.finish(op_id, op.address, None if live is None else record)
            else:  # update: the record keeps the old inputs, so the next plan updates again
                self.store.abandon(op_id)
            recovered.append(op.address)

        walked = walk({p.id for p in pending}, {}, one, concurrency=self.concurrency)
        for op_id, exc in walked.failed.items():
            raise as_error(op_id, exc)
        return recovered

    # -- refresh ------------------------------------------------------------------------------
    def refresh(self, addresses: list[str] | None = None) -> dict[str, dict[str, Any] | None]:
        """Read every recorded resource from AWS at once (bounded). Reads only; never writes.

        Types whose provider can describe many resources in one call are read in one task."""
        out: dict[str, dict[str, Any] | None] = {}
        lock = threading.Lock()
        targets = addresses if addresses is not None else list(self.store.state.resources)
        tasks: dict[str, list[str]] = {}
        for address in targets:
            record = self.store.get(address)
            if record is None:
                continue
            key = f"type:{record.type}" if self.providers(record.type).batch_reads else address
            tasks.setdefault(key, []).append(address)

        def one(task: str) -> None:
            records = [(a, r) for a in tasks[task] if (r := self.store.get(a)) is not None]
            provider = self.providers(records[0][1].type)
            if len(records) == 1 and not provider.batch_reads:
                address, record = records[0]
                live = {address: provider.read(self.ctx, address, record.physical_id, record.inputs)}
            else:
                live = provider.read_many(self.ctx, [(a, r.physical_id, r.inputs) for a, r in records])
            with lock:
                out.update(live)

        walked = walk(set(tasks), {}, one, concurrency=self.concurrency)
        for task, exc in walked.failed.items():
            raise as_error(tasks[task][0], exc)
        return out
