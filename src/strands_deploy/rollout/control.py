"""Rollout operations from any shell: start after an apply, status, resume, abort, promote,
rollback, versions. Each reads the record from the state and writes through ``deps.save``."""

from __future__ import annotations

from typing import Any

from strands_deploy.config.rollout_schema import RolloutConfig
from strands_deploy.errors import StrandsDeployError
from strands_deploy.providers import lambda_alias as alias_ops
from strands_deploy.rollout import record as rec
from strands_deploy.rollout.record import RolloutRecord
from strands_deploy.rollout.runner import Rollout, RolloutDeps, alias_address
from strands_deploy.state.model import State


def _alias_record(state: State, agent: str) -> Any:
    record = state.resources.get(alias_address(agent))
    if record is None:
        raise StrandsDeployError(
            f"agent {agent!r} is not deployed in this environment",
            "the state",
            "run `strands-deploy deploy` first",
        )
    return record


def _function_of(record: Any) -> tuple[str, str]:
    parts = str(record.physical_id).split(":")
    return parts[6], parts[7]


def record_versions(state: State, agents: list[str], who: str | None) -> None:
    """After an apply: each agent's alias that published records its version(s) in the history."""
    for agent in agents:
        alias = state.resources.get(alias_address(agent))
        if alias is None:
            continue
        function = state.resources.get(f"agent.{agent}.function")
        code = ((function.inputs.get("code") or {}).get("hash") if function else None) or None
        candidate = alias.outputs.get("candidate")
        version = str(candidate or alias.outputs.get("version") or "")
        if not version or any(v.get("version") == version for v in rec.versions(state.rollouts, agent)):
            continue
        rec.add_version(
            state.rollouts,
            agent,
            {
                "version": version,
                "deployed": rec.now_iso(),
                "who": who,
                "code_hash": code,
                "outcome": "pending" if candidate else "deployed",
            },
        )


def pending(state: State) -> list[tuple[str, str, str, str, str]]:
    """(agent, function, alias, old version, new version) of every alias holding a candidate."""
    out = []
    for _address, r in sorted(state.resources.items()):
        if r.type != "aws.lambda.alias" or not r.outputs.get("candidate") or r.agent is None:
            continue
        function, alias = _function_of(r)
        out.append((r.agent, function, alias, str(r.outputs["version"]), str(r.outputs["candidate"])))
    return out


def start_all(
    deps: RolloutDeps, state: State, configs: dict[str, RolloutConfig], who: str | None
) -> list[RolloutRecord]:
    """Run the rollout of every agent whose new version the apply published and held."""
    results = []
    for agent, function, alias, old, new in pending(state):
        results.append(Rollout(deps, configs[agent]).start(agent, function, alias, old, new, who))
    return results


def status(state: State, agent: str | None = None) -> list[RolloutRecord]:
    names = [agent] if agent else sorted(state.rollouts)
    return [r for r in (rec.current(state.rollouts, n) for n in names) if r is not None]


def _active(state: State, agent: str, verb: str) -> RolloutRecord:
    record = rec.current(state.rollouts, agent)
    if record is None or not record.active:
        raise StrandsDeployError(
            f"agent {agent!r} has no rollout in progress to {verb}",
            "the state",
            "see `strands-deploy rollout status`",
        )
    return record


def resume(deps: RolloutDeps, state: State, agent: str, config: RolloutConfig) -> RolloutRecord:
    record = _active(state, agent, "resume")
    if record.status == "waiting":
        raise StrandsDeployError(
            f"the blue-green rollout of {agent!r} waits for a decision",
            "the state",
            f"run `strands-deploy promote {agent}` or `strands-deploy abort {agent}`",
        )
    return Rollout(deps, config).drive(record)


def abort(deps: RolloutDeps, state: State, agent: str, who: str | None) -> RolloutRecord:
    record = _active(state, agent, "abort")
    return Rollout(deps, RolloutConfig()).roll_back(record, f"aborted by {who or 'a user'}", status="aborted")


def promote(deps: RolloutDeps, state: State, agent: str, config: RolloutConfig) -> RolloutRecord:
    record = _active(state, agent, "promote")
    return Rollout(deps, config).promote(record)


def rollback(deps: RolloutDeps, state: State, agent: str, to: str | None, who: str | None) -> RolloutRecord:
    """Move all traffic to ``to`` (default: the version before the one serving) in one call."""
    alias_record = _alias_record(state, agent)
    function, alias = _function_of(alias_record)
    live = alias_ops.alias_state(deps.ctx, alias_address(agent), function, alias)
    serving = live["version"] if live else str(alias_record.outputs.get("version"))
    active = rec.current(state.rollouts, agent)
    if active is not None and active.active and to in (None, active.old_version):
        return Rollout(deps, RolloutConfig()).roll_back(active, f"rolled back by {who or 'a user'}")
    target = to or _previous(state, agent, serving)
    if target is None:
        raise StrandsDeployError(
            f"no earlier version of {agent!r} is known to roll back to",
            "the state's version history",
            "name one with --to VERSION (see `strands-deploy versions`)",
        )
    if not alias_ops.version_exists(deps.ctx, alias_address(agent), function, target):
        raise StrandsDeployError(
            f"version {target} of {function} does not exist (pruned, or never published)",
            f"agent {agent}",
            "pick a version listed by `strands-deploy versions`",
        )
    record = RolloutRecord(agent, function, alias, "rollback", serving, target, status="running", who=who)
    alias_ops.set_routing(deps.ctx, alias_address(agent), function, alias, target)
    record.status, record.weight, record.finished = "rolled-back", 1.0, rec.now_iso()
    record.reason = f"manual rollback from version {serving} to {target} by {who or 'a user'}"
    record.event("rolled-back", record.reason)

    def change(s: State) -> None:
        rec.put_current(s.rollouts, record)
        rec.set_outcome(s.rollouts, agent, serving, "rolled-back")
        a = s.resources.get(alias_address(agent))
        if a is not None:
            a.outputs = {k: v for k, v in {**a.outputs, "version": target}.items() if k != "candidate"}
            a.inputs = {**a.inputs, "revision": None}  # the next deploy publishes the code again

    deps.save(change)
    deps.audit(f"rollback {agent}", "rolled-back", record.reason)
    deps.notifier.send("rolled-back", agent, record.reason, version=target)
    return record


def _previous(state: State, agent: str, serving: str) -> str | None:
    good = [
        v["version"]
        for v in rec.versions(state.rollouts, agent)
        if v.get("outcome") in ("deployed", "promoted")
    ]
    earlier = [
        v
        for v in good
        if v != serving and (not v.isdigit() or not serving.isdigit() or int(v) < int(serving))
    ]
    if earlier:  # the latest good one before the serving version (the history's order aside)
        numbered = [v for v in earlier if v.isdigit()]
        return max(numbered, key=int) if numbered else earlier[-1]
    if serving.isdigit() and int(serving) > 1:
        return str(int(serving) - 1)
    return None


def versions(deps: RolloutDeps | None, state: State, agent: str) -> dict[str, Any]:
    """The version history with what serves now (read live when ``deps`` is given)."""
    alias_record = _alias_record(state, agent)
    function, alias = _function_of(alias_record)
    live = alias_ops.alias_state(deps.ctx, alias_address(agent), function, alias) if deps else None
    serving = live["version"] if live else str(alias_record.outputs.get("version"))
    weights = live["weights"] if live else {}
    rows = []
    for v in rec.versions(state.rollouts, agent):
        share = weights.get(v["version"], 0.0)
        if v["version"] == serving:
            share = 1.0 - sum(weights.values())
        rows.append({**v, "traffic": round(share, 4)})
    return {
        "agent": agent,
        "function": function,
        "alias": alias,
        "serving": serving,
        "weights": weights,
        "versions": rows,
    }
