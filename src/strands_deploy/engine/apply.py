"""Apply a plan, destroy an environment, and resolve operations an interrupted run left pending.

This is the only layer that changes AWS. It executes the plan as it is: every input comes from
the plan's changes (references filled from the state as dependencies finish), never from the
graph. Every call is journaled: the operation is recorded as pending (durably) before the provider
is called, and the result is recorded as soon as it lands.

Invariants (each has a test in tests/unit/engine):
- A resource this run did not create is never tainted, replaced or deleted because a create
  collided with it: a resource with this project's and environment's tags is *adopted* (recorded,
  then updated in place); anything else is reported and left alone.
- Before deleting (or replacing) a resource, its live tags are checked: a resource tagged for
  another project or environment is never touched.
- A replace deletes the old resource first; if that fails, the old record stays.
- When the state cannot be saved (disk full, lock lost), no new AWS call starts and the failure
  reaches every caller whose change was not saved.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from strands_deploy.engine.events import Event, EventSink, null_sink
from strands_deploy.engine.scheduler import WalkResult, walk
from strands_deploy.errors import ProblemsError, StrandsDeployError
from strands_deploy.planning.plan import Action, Change, Plan
from strands_deploy.providers.base import Created, Provider, ProviderContext
from strands_deploy.providers.registry import get_provider
from strands_deploy.state.model import ResourceState
from strands_deploy.state.store import StateStore
from strands_deploy.synth.graph import UNKNOWN, Ref, contains_unknown, resolve

APPLY_ACTIONS = (Action.CREATE, Action.ADOPT, Action.UPDATE, Action.REPLACE)


@dataclass
class ApplyResult:
    applied: list[str] = field(default_factory=list)
    failed: dict[str, StrandsDeployError] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    not_started: list[str] = field(default_factory=list)
    cancelled: bool = False
    recovered: list[str] = field(default_factory=list)
    adopted: list[str] = field(default_factory=list)
    # the state could not be saved (disk full, read-only, lock lost): the run stopped
    fatal: StrandsDeployError | None = None

    @property
    def ok(self) -> bool:
        return (
            not self.failed
            and not self.skipped
            and not self.not_started
            and not self.cancelled
            and self.fatal is None
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "applied": self.applied,
            "adopted": self.adopted,
            "failed": {a: e.to_dict() for a, e in self.failed.items()},
            "skipped": self.skipped,
            "not_started": self.not_started,
            "cancelled": self.cancelled,
            "recovered": self.recovered,
            **({"fatal": self.fatal.to_dict()} if self.fatal else {}),
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


def already_exists(exc: BaseException) -> bool:
    from strands_deploy.aws.errors import is_already_exists

    return is_already_exists(exc)


def adopted_inputs(props: dict[str, Any], outputs: dict[str, Any]) -> dict[str, Any]:
    """The inputs to record for a resource found in AWS: what a read observed, and ``None`` for
    what it cannot observe (so the update that follows sends every such property)."""
    observed = outputs.get("observed") or {}
    return {k: observed.get(k) for k in props}


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
        self._adopted: list[str] = []
        self._prepared: set[str] = set()
        # a failed state write stops the run: no new AWS call may start without a journal
        store.on_failure(lambda exc: self.cancel.set())

    def prepare(self, changes: list[Change]) -> None:
        """Start the local work of the creates and updates (building zips and layers) in the
        background, so it overlaps the reads that come before apply; each operation later finds
        it done or waits for it. Best effort: a failure here is met again, and reported, by the
        operation itself."""
        todo = [
            c
            for c in changes
            if c.action in (Action.CREATE, Action.UPDATE, Action.REPLACE) and c.address not in self._prepared
        ]
        self._prepared.update(c.address for c in todo)

        def run() -> None:
            for change in todo:
                if self.cancel.is_set():
                    return
                try:
                    self.providers(change.type).prepare(self.ctx, change.address, dict(change.props))
                except Exception:  # noqa: BLE001 - the operation itself reports it
                    continue

        if todo:
            threading.Thread(target=run, name="prepare", daemon=True).start()

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
        """For each node, the expected seconds of the longest chain from it to the end; for a type
        whose creates are rate-limited (``calls_per_second``), at least the time its whole group
        takes to drain: 300 alarms at 3 a second need 100 s, so they start first, not last."""
        dependents: dict[str, list[str]] = {n: [] for n in nodes}
        for n in nodes:
            for d in deps[n] & nodes:
                dependents[d].append(n)
        counts: dict[str, int] = {}
        for n in nodes:
            counts[types[n]] = counts.get(types[n], 0) + 1
        drain = {t: counts[t] / rate for t in counts if (rate := self.providers(t).calls_per_second)}
        height: dict[str, float] = {}

        def h(n: str) -> float:
            if n not in height:
                below = max((h(m) for m in dependents[n]), default=0.0)
                own = self.providers(types[n]).expected_seconds + below
                height[n] = max(own, drain.get(types[n], 0.0))
            return height[n]

        for n in nodes:
            h(n)
        return height

    def _collect(self, walk_result: WalkResult, result: ApplyResult) -> None:
        result.applied.extend(walk_result.done)
        fatal = self.store.failure
        for address, exc in walk_result.failed.items():
            if fatal is not None and exc is fatal:
                result.not_started.append(address)  # its change could not be journaled
                continue
            result.failed[address] = as_error(address, exc)
        result.skipped.update(walk_result.skipped)
        result.not_started.extend(walk_result.not_started)
        result.fatal = fatal
        result.cancelled = result.cancelled or (self.cancel.is_set() and fatal is None)
        result.adopted = list(self._adopted)

    # -- apply --------------------------------------------------------------------------------
    def apply(self, plan: Plan) -> ApplyResult:
        """Execute ``plan``: creates, adoptions, updates and replaces in dependency order, then
        deletes in reverse order. Nothing is recomputed: every input comes from the plan."""
        if plan.destroy:
            return self.destroy(plan)
        result = ApplyResult()
        changes = {c.address: c for c in plan.changes}
        todo = {a for a, c in changes.items() if c.action in APPLY_ACTIONS}
        deps = {a: set(changes[a].dependencies) for a in todo}
        types = {a: changes[a].type for a in todo}

        def on_skip(address: str, cause: str) -> None:
            self._emit("skipped", address, changes[address].action.value, f"{cause} failed")

        walked = walk(
            todo,
            deps,
            lambda address: self._apply_one(changes[address]),
            concurrency=self.concurrency,
            cancel=self.cancel,
            on_skip=on_skip,
            priority=self._critical_path(todo, deps, types),
            groups=types,
            group_limits={t: n for t in set(types.values()) if (n := self.providers(t).max_in_flight)},
        )
        self._save()
        self._collect(walked, result)
        deletes = [c.address for c in plan.changes if c.action == Action.DELETE]
        if deletes and not self.cancel.is_set():
            walked = self._delete_many(deletes, block_on_failure=True)
            self._save()
            self._collect(walked, result)
        elif deletes:
            result.not_started.extend(deletes)
        return result

    def _save(self) -> None:
        """Make the results recorded without waiting (``finish(durable=False)``) durable. A failed
        write is the store's failure, which ``_collect`` reports; it is not raised here."""
        with contextlib.suppress(StrandsDeployError):
            self.store.flush()

    def _resolved(self, change: Change) -> dict[str, Any]:
        props: dict[str, Any] = resolve(change.props, self._lookup)
        if contains_unknown(props):
            raise StrandsDeployError(
                "a referenced output is missing after its dependencies ran",
                change.address,
                "run `strands-deploy plan` and deploy again; report a bug if this repeats",
            )
        return props

    def _apply_one(self, change: Change) -> None:
        props = self._resolved(change)
        started = time.monotonic()
        action = change.action.value
        self._emit("start", change.address, action)
        try:
            if change.action == Action.UPDATE and change.physical_id is not None:
                self._update(change, props, change.before or {}, change.physical_id)
            else:
                if change.action == Action.REPLACE and change.physical_id is not None:
                    self._delete_recorded(change.address, "replace")
                self._create_or_adopt(change, props)
        except BaseException:
            self._emit("failed", change.address, action, started=started)
            raise
        self._emit("done", change.address, action, started=started)

    def _update(
        self, change: Change, props: dict[str, Any], before: dict[str, Any], physical_id: str
    ) -> None:
        record = self.store.get(change.address)
        outputs = dict(record.outputs) if record is not None else {}
        provider = self.providers(change.type)
        op = self.store.begin(
            change.address, change.type, "update", props, physical_id, change.agent, change.dependencies
        )
        try:
            new_outputs = provider.update(self.ctx, change.address, physical_id, before, props, outputs)
        except BaseException:
            self.store.abandon(op)  # the old record still describes what exists
            raise
        self.store.finish(
            op,
            change.address,
            ResourceState(change.type, physical_id, props, new_outputs, change.dependencies, change.agent),
            durable=False,  # made durable by the next begin or by _save (see StateStore.finish)
        )

    # -- create and adopt ---------------------------------------------------------------------
    def _create_or_adopt(self, change: Change, props: dict[str, Any]) -> None:
        provider = self.providers(change.type)
        if change.action == Action.ADOPT or provider.random_id:
            # ids AWS assigns (HTTP APIs, event source mappings) can be found only by tags/name:
            # look first, so a lost create response or a lost state never leaves a duplicate
            found = provider.find(self.ctx, change.address, props)
            if found is not None:
                self._adopt(change, props, found)
                return
        op = self.store.begin(
            change.address, change.type, "create", props, None, change.agent, change.dependencies
        )
        try:
            created = provider.create(self.ctx, change.address, props)
        except Exception as exc:
            self._after_failed_create(change, props, provider, op, exc)
            return
        self.store.finish(
            op,
            change.address,
            ResourceState(
                change.type, created.physical_id, props, created.outputs, change.dependencies, change.agent
            ),
            durable=False,
        )

    def _after_failed_create(
        self, change: Change, props: dict[str, Any], provider: Provider, op: str, exc: Exception
    ) -> None:
        """A create failed. If the name was taken by a resource of ours (a lost state, a lost
        response), adopt it. If the call got far enough to create something, record what exists so
        the next run updates it in place. Never taint or drop what this run did not create."""
        try:
            found = provider.find(self.ctx, change.address, props)
        except Exception:
            # cannot tell what exists: keep the pending operation for the next run's recovery
            raise exc from None
        if found is None:
            self.store.abandon(op)
            if already_exists(exc):
                raise as_error(change.address, exc) from None
            raise exc
        if already_exists(exc):
            self._adopt(change, props, found, op=op)
            return
        self._record_found(change, props, found, op)
        raise exc

    def _record_found(self, change: Change, props: dict[str, Any], found: Created, op: str | None) -> None:
        record = ResourceState(
            change.type,
            found.physical_id,
            adopted_inputs(props, found.outputs),
            found.outputs,
            change.dependencies,
            change.agent,
        )
        if op is None:
            self.store.mutate(lambda s: s.resources.__setitem__(change.address, record))
        else:
            self.store.finish(op, change.address, record)

    def _adopt(self, change: Change, props: dict[str, Any], found: Created, op: str | None = None) -> None:
        """Record a resource of this project found in AWS, then bring it to the plan's properties
        in place. Properties that cannot change in place are reported, never replaced here."""
        self._record_found(change, props, found, op)
        self._adopted.append(change.address)
        provider = self.providers(change.type)
        before = adopted_inputs(props, found.outputs)
        observed = found.outputs.get("observed") or {}
        conflicts = sorted(k for k in provider.replace_on if k in observed and before.get(k) != props.get(k))
        if conflicts:
            raise StrandsDeployError(
                f"an existing {change.type} of this project was adopted, but its "
                f"{', '.join(conflicts)} differ from the configuration and cannot change in place; "
                "it was recorded and left as it is",
                change.address,
                "review `strands-deploy plan`: it shows the replacement (which deletes the resource "
                "and its data) for you to confirm, or change strands.yaml to match it",
            )
        self._update(change, props, before, found.physical_id)

    # -- delete -------------------------------------------------------------------------------
    def _delete_recorded(self, address: str, reason: str) -> None:
        """Delete the recorded resource at ``address`` after checking it is ours; journaled."""
        record = self.store.get(address)
        if record is None:
            return
        provider = self.providers(record.type)
        if "tags" in record.inputs and not self._exists_and_ours(provider, address, record):
            self.store.mutate(lambda s: s.resources.pop(address, None))  # already gone
            return
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
            self.store.abandon(op)  # the old record still describes what exists
            raise
        self.store.finish(op, address, None, durable=False)

    def _exists_and_ours(self, provider: Provider, address: str, record: ResourceState) -> bool:
        """Read the live resource: False when it is gone; an error when another project or
        environment owns it (its strands tags), so it is never deleted or replaced by this one."""
        from strands_deploy.providers._common import ownership

        live = provider.read(self.ctx, address, record.physical_id, record.inputs)
        if live is None:
            return False
        tags = (live.get("observed") or {}).get("tags")
        if ownership(self.ctx, tags) == "foreign":
            owner = f"{(tags or {}).get('strands:project')}/{(tags or {}).get('strands:environment')}"
            raise StrandsDeployError(
                f"the live resource {record.physical_id} is tagged for {owner}, not for "
                f"{self.ctx.project}/{self.ctx.environment}: it was not deleted or replaced",
                address,
                "this state records a resource of another project or environment (a copied state "
                "file?): restore this environment's own state, or delete the resource by hand",
            )
        return True

    def destroy(self, plan: Plan | None = None) -> ApplyResult:
        """Delete what ``plan`` lists (every recorded resource when None), dependents first,
        going on past failures and reporting every one at the end."""
        result = ApplyResult()
        if plan is None:
            targets = list(self.store.state.resources)
        else:
            targets = [c.address for c in plan.changes if c.action == Action.DELETE]
        walked = self._delete_many(targets, block_on_failure=False)
        self._save()
        self._collect(walked, result)
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
        return walk(
            nodes,
            deps,
            self._delete_one,
            concurrency=self.concurrency,
            cancel=self.cancel,
            block_on_failure=block_on_failure,
        )

    def _delete_one(self, address: str) -> None:
        started = time.monotonic()
        self._emit("start", address, "delete")
        try:
            self._delete_recorded(address, "delete")
        except BaseException:
            self._emit("failed", address, "delete", started=started)
            raise
        self._emit("done", address, "delete", started=started)

    # -- recovery -----------------------------------------------------------------------------
    def recover(self) -> list[str]:
        """Resolve operations an interrupted run left pending: adopt what was created (found by its
        name and tags), forget what never came to be, drop records of what was deleted. An
        operation whose outcome cannot be read stays pending; every failure is reported."""
        pending = list(self.store.state.pending.values())
        recovered: list[str] = []
        lock = threading.Lock()
        addresses = {p.id: p.address for p in pending}

        def one(op_id: str) -> None:
            self._recover_one(op_id)
            with lock:
                recovered.append(addresses[op_id])

        walked = walk(set(addresses), {}, one, concurrency=self.concurrency)
        if walked.failed:
            problems = [as_error(addresses[op_id], exc) for op_id, exc in sorted(walked.failed.items())]
            raise ProblemsError(
                f"{len(problems)} operation(s) of an interrupted run could not be resolved", problems
            )
        return sorted(recovered)

    def _recover_one(self, op_id: str) -> None:
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
                return

            def forget(s: Any) -> None:
                s.pending.pop(op_id, None)
                if op.action == "replace":  # pre-0.2 journal: the old resource was deleted first
                    s.resources.pop(op.address, None)

            self.store.mutate(forget)
        elif op.action == "delete" and record is not None:
            live = provider.read(self.ctx, op.address, record.physical_id, record.inputs)
            self.store.finish(op_id, op.address, None if live is None else record)
        else:  # update: the record keeps the old inputs, so the next plan updates again
            self.store.abandon(op_id)

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

        self._read_all(tasks, one)
        return out

    def check(self, addresses: list[str]) -> dict[str, dict[str, Any] | None]:
        """Deploy's cheap look at recorded resources it does not change: one task per type whose
        provider has a ``check_many`` (a few list calls for all of them); other types are not
        read. Reads only; the outputs' ``observed`` hold only what the lists show."""
        out: dict[str, dict[str, Any] | None] = {}
        lock = threading.Lock()
        tasks: dict[str, list[str]] = {}
        for address in addresses:
            record = self.store.get(address)
            if record is not None:
                tasks.setdefault(record.type, []).append(address)

        def one(task: str) -> None:
            records = [(a, r) for a in tasks[task] if (r := self.store.get(a)) is not None]
            items = [(a, r.physical_id, r.inputs) for a, r in records]
            found = self.providers(task).check_many(self.ctx, items)
            if found is not None:
                with lock:
                    out.update(found)

        self._read_all(tasks, one)
        return out

    def _read_all(self, tasks: dict[str, list[str]], one: Callable[[str], None]) -> None:
        walked = walk(set(tasks), {}, one, concurrency=self.concurrency)
        if walked.failed:
            problems = [as_error(tasks[t][0], exc) for t, exc in sorted(walked.failed.items())]
            if len(problems) == 1:
                raise problems[0]
            raise ProblemsError(f"{len(problems)} resources could not be read", problems)
