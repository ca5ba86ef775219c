"""One rollout of one agent, step by step over the ``live`` alias's weights.

The old version stays the alias's primary and the new one takes ``AdditionalVersionWeights``;
each step is held for ``hold`` seconds while the gates are read every ``check_every`` seconds
(and once more at the end of the hold). Any breach moves all traffic back to the old version in
one UpdateAlias. Every transition is written to the state before the next one starts, so
``rollout status`` shows it from another shell and ``rollout resume`` continues it after a crash.
Time comes from an injected :class:`Clock`: tests pass a fake one and never sleep.

Invariant: the rollout only ever *adds* weight while its record says ``running``; an ``abort`` or
``rollback`` from another shell changes the alias and the record itself, and this runner stops
at its next check when it sees the record is no longer its own running rollout.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from strands_deploy.config.rollout_schema import RolloutConfig
from strands_deploy.providers import lambda_alias as alias_ops
from strands_deploy.providers.base import ProviderContext
from strands_deploy.rollout import green_url
from strands_deploy.rollout import record as rec
from strands_deploy.rollout.gates import Verdict, judge
from strands_deploy.rollout.hooks import run_hook
from strands_deploy.rollout.metrics import alarms_in_alarm, version_stats
from strands_deploy.rollout.notify import Notifier
from strands_deploy.rollout.record import RolloutRecord
from strands_deploy.state.model import State

GREEN_SUFFIX = "-green"
ENDINGS = ("promoted", "rolled-back", "aborted", "failed")  # events that end a rollout


# Rehearsals (CI, tests): with this set to a folder, each wait of a rollout lasts until a file
# named `tick` appears in it (then removed) instead of the wall-clock time, and the clock then
# moves on by the wait: whoever drives the traffic decides when a hold has passed.
CLOCK_ENV = "STRANDS_ROLLOUT_CLOCK"
TICK_POLL = 0.02  # seconds between looks for the tick file


class Clock:
    """Wall time and sleeping (cut short by ``cancel``: Ctrl-C answers at once); a test passes a
    fake whose ``sleep`` advances ``now``, or a process is driven through :data:`CLOCK_ENV`."""

    def __init__(self, cancel: threading.Event | None = None, ticks: Path | None = None) -> None:
        self.cancel = cancel or threading.Event()
        folder = os.environ.get(CLOCK_ENV)
        self.ticks = ticks or (Path(folder) if folder else None)
        self.offset = 0.0  # the waits a tick ended early, added to the wall time

    def now(self) -> float:
        return time.time() + self.offset

    def sleep(self, seconds: float) -> None:
        if self.ticks is None:
            self.cancel.wait(seconds)
            return
        tick = self.ticks / "tick"
        while not self.cancel.is_set():
            try:
                tick.unlink()
            except FileNotFoundError:
                self.cancel.wait(TICK_POLL)
                continue
            self.offset += seconds
            return


Save = Callable[[Callable[[State], Any]], State]  # apply a change under the lock; the fresh state


@dataclass
class RolloutDeps:
    """What a rollout uses, passed in (a test passes a fake clock, a local webhook, a save over a
    local state file)."""

    ctx: ProviderContext
    save: Save
    read: Callable[[], State]  # the state as it is now (a request from another shell shows here)
    notifier: Notifier
    root: Path
    environment: str
    clock: Clock = field(default_factory=Clock)
    on_event: Callable[[RolloutRecord, dict[str, Any]], None] = lambda r, e: None
    # runs the agent's eval suite against a version: None when it passed, else why not
    run_evals: Callable[[str, str, str], str | None] | None = None
    alarm_names: list[str] = field(default_factory=list)
    price: tuple[float, float] = (3.0, 15.0)
    cancel: threading.Event | None = None
    # how a rollout ended, for the audit trail (`strands-deploy history`): (command, result, why)
    audit: Callable[[str, str, str], None] = lambda command, result, detail: None


def alias_address(agent: str) -> str:
    return f"agent.{agent}.alias"


class Rollout:
    def __init__(self, deps: RolloutDeps, config: RolloutConfig) -> None:
        self.deps = deps
        self.config = config

    # -- persistence -------------------------------------------------------------------------
    def _event(self, record: RolloutRecord, kind: str, detail: str = "", notify: bool = True) -> None:
        item = record.event(kind, detail)
        self._save(record)
        self.deps.on_event(record, item)
        if kind in ENDINGS:
            self.deps.audit(f"rollout {record.agent}", kind, f"version {record.new_version}: {detail}")
        if notify:
            for problem in self.deps.notifier.send(kind, record.agent, detail, version=record.new_version):
                record.event("notify-failed", problem)
                self.deps.on_event(record, record.history[-1])

    def _save(self, record: RolloutRecord) -> None:
        self.deps.save(lambda s: rec.put_current(s.rollouts, record))

    def _still_mine(self, record: RolloutRecord) -> bool:
        fresh = rec.current(self.deps.read().rollouts, record.agent)
        return fresh is not None and fresh.started == record.started and fresh.status == "running"

    # -- the rollout --------------------------------------------------------------------------
    def start(
        self, agent: str, function: str, alias: str, old: str, new: str, who: str | None
    ) -> RolloutRecord:
        record = RolloutRecord(
            agent=agent,
            function=function,
            alias=alias,
            strategy=self.config.strategy,
            old_version=old,
            new_version=new,
            steps=self.config.weights(),
            who=who,
        )
        self._event(record, "started", f"version {new} (serving: {old}), {record.strategy}")
        context = {
            "agent": agent,
            "function": function,
            "version": new,
            "previous": old,
            "phase": "before_traffic",
        }
        if self.config.hooks.before_traffic:
            problem = run_hook(self.deps.root, self.config.hooks.before_traffic, context)
            if problem:
                return self._fail(record, f"before_traffic hook: {problem}")
        if self.config.gates.evals and self.deps.run_evals is not None:
            problem = self.deps.run_evals(self.config.gates.evals, function, new)
            if problem:
                return self._fail(record, f"eval suite {self.config.gates.evals}: {problem}")
        if record.strategy == "blue-green":
            return self._green(record)
        return self.drive(record)

    def _green(self, record: RolloutRecord) -> RolloutRecord:
        """Blue-green: the new version behind ``…-green`` (and its own Function URL when the
        agent has one), waiting for ``promote`` or ``abort``."""
        agent, function, new = record.agent, record.function, record.new_version
        record.green_alias = record.alias + GREEN_SUFFIX
        alias_ops.ensure_alias(self.deps.ctx, alias_address(agent), function, record.green_alias, new)
        record.status = "waiting"
        self._save(record)  # the alias exists: an interrupted run still discards it on abort
        url, note = green_url.create(self.deps.ctx, self.deps.read(), record)
        record.green_url = url
        where = f"alias {record.green_alias}" + (f" ({url})" if url else "")
        self._event(record, "green", f"version {new} is on {where}: test it, then promote" + note)
        return record

    def drive(self, record: RolloutRecord) -> RolloutRecord:
        """Hold each remaining step, then promote (also what ``rollout resume`` runs)."""
        clock = self.deps.clock
        for index in range(record.step, len(record.steps)):
            if not self._still_mine(record):
                return record
            record.step, record.weight = index, record.steps[index]
            alias_ops.set_routing(
                self.deps.ctx,
                alias_address(record.agent),
                record.function,
                record.alias,
                record.old_version,
                {record.new_version: record.weight},
            )
            self._event(record, "step", f"{record.weight:.0%} of traffic to version {record.new_version}")
            started = clock.now()
            deadline = started + self.config.hold_for()
            while True:
                remaining = deadline - clock.now()
                if remaining > 0:
                    clock.sleep(min(self.config.check_every, remaining))
                if self.deps.cancel is not None and self.deps.cancel.is_set():
                    return record  # left running: resume, abort or roll back from any shell
                if not self._still_mine(record):
                    return record
                verdict = self.check(record, started)
                if not verdict.ok:
                    return self.roll_back(record, "; ".join(verdict.breaches), status="rolled-back")
                if clock.now() >= deadline:
                    break
        return self.promote(record)

    def check(self, record: RolloutRecord, since: float) -> Verdict:
        cw = self.deps.ctx.client("cloudwatch")
        stats = version_stats(
            cw, record.function, record.alias, record.new_version, since, self.deps.clock.now()
        )
        wanted = self.config.gates.alarms
        names = [n for n in self.deps.alarm_names if any(n.endswith(f"-{k}") or n == k for k in wanted)]
        names += [a.rsplit(":", 1)[-1] for a in wanted if a.startswith("arn:")]
        return judge(self.config.gates, stats, alarms_in_alarm(cw, names), self.deps.price)

    # -- endings --------------------------------------------------------------------------------
    def promote(self, record: RolloutRecord) -> RolloutRecord:
        ctx = self.deps.ctx
        alias_ops.set_routing(
            ctx, alias_address(record.agent), record.function, record.alias, record.new_version
        )
        self._discard_green(record)
        record.weight, record.status, record.finished = 1.0, "promoted", rec.now_iso()
        self.deps.save(lambda s: _settle(s, record, record.new_version, "promoted"))
        self._event(record, "promoted", f"version {record.new_version} serves 100%")
        alias_ops.prune_versions(ctx, alias_address(record.agent), record.function, {record.old_version})
        if self.config.hooks.after_traffic:
            context = {"agent": record.agent, "function": record.function, "version": record.new_version}
            problem = run_hook(
                self.deps.root, self.config.hooks.after_traffic, {**context, "phase": "after_traffic"}
            )
            if problem:
                self._event(record, "hook-failed", f"after_traffic hook: {problem}", notify=False)
        return record

    def roll_back(self, record: RolloutRecord, reason: str, status: str = "rolled-back") -> RolloutRecord:
        ctx = self.deps.ctx
        alias_ops.set_routing(
            ctx, alias_address(record.agent), record.function, record.alias, record.old_version
        )
        self._discard_green(record)
        record.weight, record.status, record.reason, record.finished = 0.0, status, reason, rec.now_iso()
        self.deps.save(lambda s: _settle(s, record, record.old_version, status))
        self._event(record, status, reason)
        return record

    def _discard_green(self, record: RolloutRecord) -> None:
        """Blue-green's ``…-green`` alias and its URL, once promoted or aborted."""
        if not record.green_alias:
            return
        green_url.delete(self.deps.ctx, record)
        alias_ops.delete_alias(
            self.deps.ctx, alias_address(record.agent), record.function, record.green_alias
        )

    def _fail(self, record: RolloutRecord, reason: str) -> RolloutRecord:
        """Before any traffic moved: the alias is untouched."""
        record.status, record.reason, record.finished = "failed", reason, rec.now_iso()
        self.deps.save(lambda s: _settle(s, record, record.old_version, "failed"))
        self._event(record, "failed", reason)
        return record


def _settle(state: State, record: RolloutRecord, serving: str, outcome: str) -> None:
    """The record, the version's outcome, and the alias's resource record: ``version`` is what
    serves; after anything but a promotion the recorded revision is cleared, so the next deploy
    publishes (or finds) the new code again and starts a new rollout."""
    rec.put_current(state.rollouts, record)
    rec.set_outcome(state.rollouts, record.agent, record.new_version, outcome)
    alias = state.resources.get(alias_address(record.agent))
    if alias is not None:
        alias.outputs = {**alias.outputs, "version": serving}
        alias.outputs = {k: v for k, v in alias.outputs.items() if k != "candidate"}
        if outcome != "promoted":
            alias.inputs = {**alias.inputs, "revision": None}
