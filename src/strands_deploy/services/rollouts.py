"""Progressive delivery wiring (the logic lives in ``strands_deploy.rollout``): the versions a
deploy published, and the rollouts that run after an apply."""

from __future__ import annotations

import copy
import dataclasses
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from strands_deploy.errors import StrandsDeployError
from strands_deploy.services import Services
from strands_deploy.state.model import State

if TYPE_CHECKING:
    pass


def _record_versions(services: Services, store: Any) -> None:
    """The versions the apply published, with who and the code hash, in the state's version
    history (``versions``, ``rollback``): one more write, under the deploy's lock, only when an
    alias published."""
    from strands_deploy.rollout import control

    agents = list(services.project.config.agents)
    # recording reads the resources and writes only `rollouts`: a probe with a copy of those
    # (not a copy of the whole state, megabytes at a thousand agents) says whether anything is new
    probe = dataclasses.replace(store.state, rollouts=copy.deepcopy(store.state.rollouts))
    control.record_versions(probe, agents, None)
    if probe.rollouts != store.state.rollouts:
        who = rollout_who(services)
        store.mutate(lambda s: control.record_versions(s, agents, who))


def rollout_config(services: Services, agent: str) -> Any:
    from strands_deploy.config.rollout_schema import effective_rollout

    return effective_rollout(
        services.project.config, services.env_name, services.project.config.agents[agent]
    )


def rollout_deps(
    services: Services, *, on_event: Any = None, clock: Any = None, cancel: threading.Event | None = None
) -> Any:
    """What a rollout uses: the provider context, state reads and locked writes, notifications,
    the eval runner. ``clock``: tests pass a fake one."""
    from strands_deploy.rollout import evals as ev
    from strands_deploy.rollout.gates import price_per_million
    from strands_deploy.rollout.notify import Notifier
    from strands_deploy.rollout.runner import Clock, RolloutDeps
    from strands_deploy.state.store import StateStore

    def save(change: Callable[[State], Any]) -> State:
        services.lock_timeout = max(services.lock_timeout, 30.0)
        with services.locked("rollout") as held:
            store = StateStore(services.backend, services.read_state(), lock=held)
            store.mutate(change)
            return store.state

    def secret(name: str) -> str:
        res = services.project.config.resources.get(name)
        if res is None or res.type != "secret" or not (res.from_env or res.from_file):
            raise StrandsDeployError(
                f"notification secret {name!r} is not a secret resource with from_env or from_file",
                "rollout.notify",
                f"declare `resources: {{{name}: {{type: secret, from_env: VAR}}}}`",
            )
        return services.secret_value({"env": res.from_env} if res.from_env else {"file": res.from_file or ""})

    def run_evals(suite: str, function: str, version: str) -> str | None:
        loaded = ev.load_suite(services.root / suite)
        ctx = services.provider_context()
        judge = (
            ev.bedrock_judge(ev.client_of(ctx, "bedrock-runtime"), loaded.judge_model)
            if loaded.judge_model
            else None
        )
        result = ev.run_suite(loaded, ev.lambda_invoker(ctx.client("lambda"), function, version), judge)
        ev.save_results(services.root, function, version, result)
        return None if result.passed else result.summary()

    state = services.read_state()
    ctx = services.provider_context()
    return RolloutDeps(
        ctx=ctx,
        save=save,
        read=services.read_state,
        notifier=Notifier([], services.env_name, secret, ctx.client("sns")),
        root=services.root,
        environment=services.env_name,
        clock=clock or Clock(cancel),
        on_event=on_event or (lambda r, e: None),
        run_evals=run_evals,
        alarm_names=[r.physical_id for r in state.resources.values() if r.type == "aws.cloudwatch.alarm"],
        price=price_per_million(None),
        cancel=cancel,
        audit=lambda command, result, detail: services.audit_quietly(command, result, detail=detail),
    )


def rollout_who(services: Services) -> str:
    import getpass
    import socket

    return services.identity() or f"{getpass.getuser()}@{socket.gethostname()}"


def run_rollouts(
    services: Services, *, on_event: Any = None, clock: Any = None, cancel: Any = None
) -> list[Any]:
    """After a successful apply: record the published versions, then run the rollout of every
    agent whose alias holds a new version (``traffic: hold``). Runs outside the deploy's lock."""
    from strands_deploy.rollout import control
    from strands_deploy.rollout.runner import Rollout

    who = rollout_who(services)
    agents = list(services.project.config.agents)
    state = services.store.state if services.store is not None else services.read_state()
    if not control.pending(state):
        return []  # no alias holds a new version (the deploy recorded the versions it published)
    deps = rollout_deps(services, on_event=on_event, clock=clock, cancel=cancel)
    state = deps.save(lambda s: control.record_versions(s, agents, who))
    results = []
    for agent, function, alias, old, new in control.pending(state):
        config = rollout_config(services, agent)
        deps.notifier.targets = config.notify
        results.append(Rollout(deps, config).start(agent, function, alias, old, new, who))
    return results
