"""Composition root: builds the AWS context, state backend, provider context and engine for one
project and environment, and runs the operations the commands ask for (plan, deploy, destroy).

Commands call these functions and render what they return; nothing here prints.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from strands_deploy.aws.calllog import MONITOR as aws_calls  # noqa: F401 - `-v` and the slow-call spinner
from strands_deploy.aws.session import LOCAL_ACCOUNT, AwsContext, AwsSettings
from strands_deploy.config.loader import LOCAL_ENV, Project, load_project
from strands_deploy.config.schema import EnvironmentConfig
from strands_deploy.engine.events import EventSink, null_sink
from strands_deploy.errors import StrandsDeployError
from strands_deploy.state.backend import LockInfo, StateBackend
from strands_deploy.state.model import State

if TYPE_CHECKING:  # typing only, keeps start-up light
    from strands_deploy.engine.apply import ApplyResult, Engine
    from strands_deploy.planning.plan import Plan
    from strands_deploy.providers.base import ProviderContext
    from strands_deploy.synth.graph import Graph


@dataclass
class Services:
    project: Project
    env_name: str
    env: EnvironmentConfig
    backend: StateBackend
    start_local: bool = True
    concurrency: int = 16
    # The provider lookup; tests pass a wrapper here (fault injection), never a patch.
    providers: Callable[[str], Any] | None = None
    lock_timeout: float = 0.0  # seconds to wait for a lock held by another command
    on_lock_wait: Any = None  # called (holder, seconds_left) while waiting: a front end's countdown
    command_line: str | None = None  # the command as typed, for the audit trail
    store: Any = None  # the StateStore of the running deploy/destroy
    notes: list[str] = field(default_factory=list)  # things the front end should mention
    _background: list[threading.Thread] = field(default_factory=list)
    _aws: AwsContext | None = None
    _account: str | None = None
    _identity: str | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def root(self) -> Path:
        return self.project.root

    @property
    def is_local(self) -> bool:
        return self.env_name == LOCAL_ENV

    @property
    def target(self) -> str:
        return "local" if self.is_local and not self.env.endpoint else "aws"

    @property
    def region(self) -> str:
        return self.project.region(self.env_name)

    @property
    def aws(self) -> AwsContext:
        with self._lock:
            if self._aws is None:
                endpoint = self.env.endpoint
                if self.is_local and not endpoint:
                    if not self.start_local:
                        raise StrandsDeployError(
                            "the local cloud is not running",
                            "environment local",
                            "run `strands-deploy local start`",
                        )
                    from strands_deploy.local.control import ensure_running

                    script = self.root / self.env.model_script if self.env.model_script else None
                    endpoint = ensure_running(self.root, model_script=script)
                self._aws = AwsContext(
                    AwsSettings(
                        region=self.region,
                        endpoint_url=endpoint,
                        profile=self.env.profile,
                        account=self.env.account,
                        local=self.is_local,
                    )
                )
            return self._aws

    def account(self) -> str:
        """The account id resources are named with; for AWS, checks credentials (one STS call)."""
        if self._account is not None:
            return self._account
        if self.is_local:
            self._account = self.env.account or LOCAL_ACCOUNT
            return self._account
        from strands_deploy.aws.identity import caller_identity

        account, self._identity = caller_identity(self.aws, self.env_name, self.env.profile)
        self.backend.identity = self._identity
        if self.env.account and account != self.env.account:
            raise StrandsDeployError(
                f"the credentials are for account {account}, but environment {self.env_name!r} is account "
                f"{self.env.account}",
                f"environments.{self.env_name}.account",
                "switch to the right profile (environments.<env>.profile) or fix `account`",
            )
        self._account = account
        return account

    def secret_value(self, source: dict[str, str]) -> str:
        if "env" in source:
            value = os.environ.get(source["env"])
            if value is None:
                raise StrandsDeployError(
                    f"environment variable {source['env']} is not set",
                    "a secret or parameter's from_env",
                    f"export {source['env']}=... before deploying",
                )
            return value
        path = self.root / source.get("file", "")
        try:
            return path.read_text().rstrip("\n")
        except OSError as e:
            raise StrandsDeployError(
                f"cannot read secret file {path}: {e.strerror}",
                str(path),
                "create the file or fix `from_file`",
            ) from None

    def identity(self) -> str | None:
        """Who is calling (the AWS ARN; None on the embedded local cloud): recorded in locks,
        state versions and the audit trail."""
        if not self.is_local or self.env.endpoint:
            self.account()
        return self._identity

    def read_state(self) -> State:
        """The environment's state, checked against this project (an empty one when there is none)."""
        state = self.backend.read()
        if state is None:
            self._refuse_unmigrated()
            return State(environment=self.env_name)
        self.check_binding(state)
        return state

    def local_cloud_gone(self, state: State) -> str | None:
        """On the embedded local cloud: a note when it was emptied (reset, or started without its
        snapshot) after the state was last written, so the recorded resources are gone."""
        if self.target != "local" or not state.resources or not state.written:
            return None
        from strands_deploy.local.control import emptied_at

        emptied = emptied_at(self.root)
        deployed_to = state.written.get("cloud")
        if emptied is None or deployed_to is None or emptied == deployed_to:
            return None
        return (
            f"the local cloud was emptied at {emptied[:19]}Z (reset, or started without its snapshot) "
            "since the last deploy: the resources listed here are gone; run `strands-deploy deploy`"
        )

    def _refuse_unmigrated(self) -> None:
        """The configured backend holds no state but the other one does: stop before a deploy
        would start the environment over."""
        from strands_deploy.stateops.backends import refuse_unmigrated

        if self.target == "local":
            return  # the embedded local cloud never has remote state
        same = (self.env.state.region or self.region) == self.region
        refuse_unmigrated(self.project, self.env_name, self.backend.location, self.aws if same else None)

    def check_binding(self, state: State) -> None:
        """A state belongs to one project, environment, account and region: refuse any other."""
        project = self.project.name
        if state.project is not None and state.project != project:
            raise StrandsDeployError(
                f"the state of environment {self.env_name!r} belongs to project {state.project!r}, "
                f"but strands.yaml is project {project!r}; nothing was read or changed",
                self.backend.location,
                "if you copied this project folder to start a new one, delete the copied "
                f"{self.backend.location} so the new project starts with an empty state; if you "
                "renamed the project, put the old name back (a rename recreates every resource)",
            )
        for what, recorded, current in (
            ("region", state.region, self.region),
            ("account", state.account, self._account if self._account else None),
        ):
            if recorded is not None and current is not None and recorded != current:
                raise StrandsDeployError(
                    f"the state of environment {self.env_name!r} records resources in {what} "
                    f"{recorded}, but the configuration now points to {current}",
                    self.backend.location,
                    f"put the {what} back in strands.yaml (or switch credentials); to move the "
                    f"environment, destroy it in {recorded} first",
                )

    def bind(self, state: State) -> None:
        """Check, then record, the project, account and region in the state (written with the
        next change; a state from before these fields existed is bound on its first write).
        On the embedded local cloud, also the cloud's current life (see ``local_cloud_gone``)."""
        if self.target == "local" and hasattr(self.backend, "cloud"):
            from strands_deploy.local.control import emptied_at

            _ = self.aws  # the cloud is running (started if needed) before its life is read
            self.backend.cloud = emptied_at(self.root)
        self._bind(state)

    def _bind(self, state: State) -> None:
        self.account()  # resolved first, so the account is checked too
        self.check_binding(state)
        state.project = self.project.name
        state.region = self.region
        state.account = self._account

    def synth(self, agents: list[str] | None = None, *, check_code: bool = True) -> Graph:
        """The resource graph. ``check_code``: report the agents' code problems (syntax errors,
        missing entry symbols) first; read-only commands skip it so they work on broken code."""
        from strands_deploy.config.loader import _suggest, code_problems
        from strands_deploy.errors import ConfigError
        from strands_deploy.synth import synthesize

        for a in agents or []:
            if a not in self.project.agents:
                raise StrandsDeployError(
                    f"unknown agent {a!r}",
                    str(self.project.source),
                    _suggest(a, set(self.project.agents), "check the agent names in strands.yaml"),
                )
        if check_code:
            from strands_deploy.packaging.imports import import_problems

            problems = code_problems(self.project, agents or None)
            problems += import_problems(self.project, agents or None)
            if problems:
                raise ConfigError(problems)
        return synthesize(
            self.project,
            self.env_name,
            target=self.target,
            account=self.account(),
            secret_value=self.secret_value,
            fingerprint_key=self.backend.secrets_key(),
        )

    def provider_context(self, *, delete_data: bool = False) -> ProviderContext:
        """``delete_data``: retained data stores are deleted with their data (destroy only)."""
        from strands_deploy.providers.base import ProviderContext

        return ProviderContext(
            aws=self.aws,
            project=self.project.name,
            environment=self.env_name,
            project_dir=self.root,
            cache_dir=self.root / ".strands" / "cache",
            tags={**self.project.config.tags, **self.env.tags},
            secret_value=self.secret_value,
            target=self.target,
            delete_data=delete_data,
            account=self._account,
        )

    def provider_lookup(self) -> Callable[[str], Any]:
        from strands_deploy.providers.registry import get_provider

        return self.providers or get_provider

    def engine(
        self,
        store: Any,
        sink: EventSink = null_sink,
        cancel: threading.Event | None = None,
        *,
        delete_data: bool = False,
    ) -> Engine:
        from strands_deploy.engine.apply import Engine

        return Engine(
            self.provider_context(delete_data=delete_data),
            store,
            sink=sink,
            concurrency=self.concurrency,
            cancel=cancel,
            providers=self.provider_lookup(),
        )

    def stamp(self, plan: Plan) -> None:
        """Record what the plan is for: applying it anywhere else is refused."""
        plan.project = self.project.name
        plan.region = self.region
        plan.account = self.account()

    def check_saved_plan(self, plan: Plan, state: State) -> None:
        """A saved plan runs only against what it was computed from: same project, environment,
        account, region, state (serial and lineage) and agent code."""
        from strands_deploy.planning.saved import check_fresh

        check_fresh(plan, state, self, lambda: self.synth(check_code=False))

    def release_lock(self) -> None:
        """Release the lock this process holds, if any (for an immediate exit)."""
        self.backend.unlock()

    @contextmanager
    def locked(self, command: str, lock: bool = True) -> Iterator[LockInfo | None]:
        """Hold the state lock (waiting up to ``lock_timeout`` seconds for it); a remote lock is
        refreshed by a heartbeat while held."""
        if not lock:
            yield None
            return
        from strands_deploy.stateops.lockwait import Heartbeat, acquire

        if self.env.state.backend != "local":
            self.identity()  # a remote lock names its holder's AWS identity (local: user@host, pid)
        held = acquire(self.backend, command, self.lock_timeout, self.on_lock_wait)
        try:
            with Heartbeat(self.backend, held, self.backend.heartbeat_interval):
                yield held
        finally:
            try:
                self.backend.unlock(held)
            finally:
                self.wait_background()

    def audit(self, command: str, result: str, *, plan: Plan | None = None, **fields: Any) -> None:
        """Append an audit record (who, when, command, result, plan digest...) next to the state."""
        from strands_deploy.stateops.audit import digest, record

        if plan is not None:
            fields.update(plan_digest=digest(plan.to_document()), changes=plan.summary())
        self.backend.append_audit(
            record(
                environment=self.env_name,
                command=self.command_line or command,
                who=self.identity(),
                result=result,
                **fields,
            )
        )

    def audit_quietly(self, command: str, result: str, **fields: Any) -> None:
        """``audit``, for after the work is done, in the background (it overlaps the release of
        the lock; ``locked`` waits for it): a failure to record becomes a note for the front end
        (the work itself happened and its state is saved), never an error over it."""

        def run() -> None:
            try:
                self.audit(command, result, **fields)
            except StrandsDeployError as e:
                self.notes.append(f"the audit record could not be saved ({e.where}): {e.what}")

        thread = threading.Thread(target=run, name="audit-record")
        thread.start()
        self._background.append(thread)

    def wait_background(self) -> None:
        while self._background:
            self._background.pop().join()

    def backend_serial(self) -> int | None:
        return self.store.state.serial if self.store is not None else None


def open_services(
    project_dir: Path,
    env_name: str = LOCAL_ENV,
    *,
    start_local: bool = True,
    lock_timeout: float = 0.0,
    on_lock_wait: Any = None,
) -> Services:
    from strands_deploy.stateops.backends import make_backend

    project = load_project(project_dir).for_environment(env_name)
    env = project.environment(env_name)
    services = Services(
        project=project,
        env_name=env_name,
        env=env,
        backend=None,  # type: ignore[arg-type]  # set just below
        start_local=start_local,
        lock_timeout=lock_timeout,
        on_lock_wait=on_lock_wait,
    )
    # a state bucket in the environment's own region shares its session and clients (a second
    # boto3 session costs ~0.1 s of start-up); the embedded local cloud never has remote state
    same = env.state.backend == "s3" and (env.state.region or services.region) == services.region
    services.backend = make_backend(project, env_name, aws=services.aws if same else None)
    return services


def _targets(agents: list[str] | None, targets: list[str] | None) -> set[str] | None:
    out = set(targets or [])
    out.update(f"agent.{a}" for a in agents or [])
    return out or None


@dataclass
class PlanOutcome:
    plan: Plan
    recovered_pending: int = 0


def _discover(services: Services) -> list[dict[str, str]]:
    from strands_deploy.aws.discovery import tagged_resources

    return [r.to_json() for r in tagged_resources(services.aws, services.project.name, services.env_name)]


def make_plan(
    services: Services,
    *,
    agents: list[str] | None = None,
    targets: list[str] | None = None,
    refresh: bool = True,
    store: Any = None,
    discover: bool = True,
    scope: str = "all",
    review: bool = False,
) -> PlanOutcome:
    """Synthesize, refresh (reads only) and plan. With a refresh and ``discover``, live resources
    of this project that the state does not record are found by their tags: adopted when the
    graph has them, reported as untracked otherwise. (``deploy`` discovers only when the state is
    empty; otherwise a create that collides adopts at apply time, with no extra call.)

    ``scope`` of the refresh: ``"all"`` reads every recorded resource (``plan``); ``"changes"``
    (``deploy``) reads in full only what the plan changes, after a cheap batched check of the rest
    (functions and alarms, a few list calls) that finds what changed outside the tool there. Reads
    run while the configuration is synthesized.

    ``review``: also the policy findings and the monthly cost change (``plan.review``) when the
    plan changes anything."""
    from concurrent.futures import ThreadPoolExecutor

    from strands_deploy.planning.untracked import classify
    from strands_deploy.state.store import StateStore

    # the state first: a state that cannot be used (another project, not migrated) stops the
    # plan before synthesis creates anything (such as the secrets' fingerprint key)
    state = store.state if store is not None else services.read_state()
    # The embedded local cloud answers reads in milliseconds: its plans always read everything.
    if services.target == "local":
        refresh, scope = True, "all"
    engine = services.engine(store or StateStore(services.backend, state)) if refresh else None
    pool = ThreadPoolExecutor(max_workers=3)
    try:
        found = pool.submit(_discover, services) if engine is not None and discover else None
        read_all = engine is not None and scope == "all" and bool(state.resources)
        full = pool.submit(engine.refresh) if engine is not None and read_all else None
        # deploy: the batched check of everything recorded starts now, while synthesis runs
        checking = scope == "changes" and engine is not None and bool(state.resources)
        checked = (
            pool.submit(engine.check, list(state.resources)) if checking and engine is not None else None
        )
        graph = services.synth(agents)
        discovery = classify(found.result() if found is not None else [], graph, state)
        planner = _Planning(services, graph, state, _targets(agents, targets), discovery.is_adoptable)
        planner.early_review = (
            (lambda first: pool.submit(review_plan, services, graph, state, first, agents))
            if review
            else None
        )
        if full is not None:
            plan = planner.plan(full.result(), "all")
        elif engine is not None and state.resources:
            plan = planner.plan_reading_changes(engine, pool, checked)
        else:
            plan = planner.plan({} if engine is not None else None, "all" if engine is not None else "none")
        # taken before the pool lets go of what has not started (a review still queued is cancelled)
        early = planner.reviewed(plan) if review and plan.has_changes() else None
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    plan.untracked = discovery.untracked
    plan.warnings = [w.to_dict() for w in graph.warnings]
    services.stamp(plan)
    if review and plan.has_changes():  # nothing changes: nothing new to judge or price
        plan.review = early or review_plan(services, graph, state, plan, agents)
    return PlanOutcome(plan, len(state.pending))


@dataclass
class _Planning:
    """One plan computation: the graph and state fixed, the live view growing."""

    services: Services
    graph: Graph
    state: State
    targets: set[str] | None
    adoptable: Callable[[str], bool]
    # deploy: the review of the plan made from the state alone starts while AWS is read; it is
    # used when the final plan makes the same changes (see ``reviewed``)
    early_review: Callable[[Plan], Any] | None = None
    _early: tuple[list[tuple[str, str]], Any] | None = None

    def reviewed(self, plan: Plan) -> dict[str, Any] | None:
        """The early review when ``plan`` changes exactly what the early plan changed, else None."""
        if self._early is None or self._early[0] != _actions(plan) or self._early[1].cancelled():
            return None
        result: dict[str, Any] = self._early[1].result()
        return result

    def plan(self, live: dict[str, dict[str, Any] | None] | None, scope: str) -> Plan:
        from strands_deploy.planning.plan import make_plan as plan_

        plan = plan_(
            self.graph,
            self.state,
            providers=self.services.provider_lookup(),
            live=live,
            targets=self.targets,
            adoptable=self.adoptable,
        )
        plan.refresh_scope = scope
        return plan

    def plan_reading_changes(self, engine: Engine, pool: Any, checked: Any = None) -> Plan:
        """Plan from the state; read in full what that plan changes, beside the cheap check of
        everything (``checked``: started before synthesis); plan again with both (a full read
        wins over the check); read in full what only the check saw changing; plan again. A
        resource deploy updates is always read first, so an out-of-band change to it is seen
        (and shown) rather than silently overwritten."""
        recorded = self.state.resources
        first = self.plan(None, "none")
        engine.prepare(first.changes)  # zips and layers build while AWS is read
        if self.early_review is not None and first.has_changes():
            self._early = (_actions(first), self.early_review(first))
        changing = self._changing(first, recorded)
        if checked is None:
            checked = pool.submit(engine.check, [a for a in recorded if a not in changing])
        full = engine.refresh(sorted(changing)) if changing else {}
        live = {**checked.result(), **full}
        read = set(changing)
        plan = self.plan(live, "changes")
        # What the check saw changing is now read in full; a resource found deleted outside the
        # tool is re-created with its recorded dependencies read too (a wiped account lost those
        # as well: a function's role, say). Each round reads only what it has not read yet.
        for _ in range(3):
            more = self._changing(plan, recorded, with_dependencies=True) - read
            if not more:
                break
            live.update(engine.refresh(sorted(more)))
            read |= more
            plan = self.plan(live, "changes")
        return plan

    def _changing(self, plan: Plan, recorded: dict[str, Any], *, with_dependencies: bool = False) -> set[str]:
        from strands_deploy.planning.plan import Action

        acting = (Action.UPDATE, Action.REPLACE, Action.CREATE)
        out = {c.address for c in plan.changes if c.action in acting and c.address in recorded}
        if with_dependencies:
            gone = [c for c in plan.changes if c.action == Action.CREATE and c.address in recorded]
            todo = [d for c in gone for d in c.dependencies]
            while todo:
                address = todo.pop()
                if address in recorded and address not in out:
                    out.add(address)
                    todo += (
                        self.graph.resources[address].dependencies()
                        if address in self.graph.resources
                        else []
                    )
        return out


def make_destroy_plan(services: Services) -> Plan:
    from strands_deploy.planning.plan import make_destroy_plan as destroy_plan

    plan = destroy_plan(services.read_state())
    services.stamp(plan)
    return plan


@dataclass
class DeployOutcome:
    plan: Plan
    result: ApplyResult
    recovered: list[str]
    writes: int


@dataclass
class DeployRequest:
    """What one ``deploy`` is asked to do (see :func:`deploy`)."""

    agents: list[str] | None = None
    targets: list[str] | None = None
    refresh: bool = True
    refresh_scope: str = "changes"  # see make_plan's ``scope``
    saved_plan: Plan | None = None
    plan_path: Path | None = None  # the saved plan's file: its approvals sit beside it
    accept_cost: str | None = None  # the reason a forecast over budget is accepted


def deploy(
    services: Services,
    *,
    agents: list[str] | None = None,
    targets: list[str] | None = None,
    refresh: bool = True,
    sink: EventSink = null_sink,
    cancel: threading.Event | None = None,
    confirm: Any = None,
    saved_plan: Plan | None = None,
    refresh_scope: str = "changes",
    plan_path: Path | None = None,
    accept_cost: str | None = None,
) -> DeployOutcome | None:
    """Lock, recover interrupted operations, plan (or take a saved plan), review (policy errors
    and a budget exceeded stop it, see :func:`review_plan`), confirm, apply. Returns None if not
    confirmed. An environment with ``require_approval`` runs only a saved plan approved by someone
    other than its maker (``plan_path``)."""
    request = DeployRequest(agents, targets, refresh, refresh_scope, saved_plan, plan_path, accept_cost)
    with services.locked("deploy") as held:
        state = services.read_state()
        before = state.serial
        try:
            _require_approval(services, request)
            outcome = _deploy_locked(services, state, held, request, sink, cancel, confirm)
        except StrandsDeployError as e:
            services.audit_quietly("deploy", "error", serial_before=before, detail=e.what)
            raise
        if outcome is not None:
            accepted = request.accept_cost and ((outcome.plan.review or {}).get("blocked") or {}).get(
                "budget"
            )
            services.audit_quietly(
                "deploy",
                _result_word(outcome.plan, outcome.result),
                plan=outcome.plan,
                serial_before=before,
                serial_after=services.backend_serial(),
                **({"detail": f"cost over budget accepted: {request.accept_cost}"} if accepted else {}),
            )
        return outcome


def _require_approval(services: Services, request: DeployRequest) -> None:
    if not getattr(services.env, "require_approval", False):
        return
    where = f"environments.{services.env_name}.require_approval"
    if request.saved_plan is None or request.plan_path is None:
        raise StrandsDeployError(
            f"environment {services.env_name!r} deploys only an approved saved plan; nothing was changed",
            where,
            "strands-deploy plan --out plan.json, then someone else runs `strands-deploy approve plan.json`, "
            "then strands-deploy deploy --plan plan.json",
        )
    from strands_deploy.policy.approvals import require_approved

    require_approved(request.plan_path, request.saved_plan, services.identity())


def _result_word(plan: Plan, result: ApplyResult) -> str:
    if result.ok:
        return "ok" if plan.has_changes() or result.recovered else "no-changes"
    return "failed"


def _deploy_locked(
    services: Services,
    state: State,
    held: LockInfo | None,
    request: DeployRequest,
    sink: EventSink,
    cancel: threading.Event | None,
    confirm: Any,
) -> DeployOutcome | None:
    from strands_deploy.engine.apply import ApplyResult
    from strands_deploy.state.store import StateStore

    saved_plan = request.saved_plan
    if saved_plan is not None:
        services.check_saved_plan(saved_plan, state)
        if state.serial == 0 and saved_plan.lineage:
            state.lineage = saved_plan.lineage  # a new state continues the plan's lineage
    services.bind(state)
    store = StateStore(services.backend, state, lock=held)
    services.store = store
    engine = services.engine(store, sink, cancel)
    recovered = engine.recover() if state.pending else []
    if saved_plan is not None:
        plan = saved_plan
    else:
        plan = make_plan(
            services,
            agents=request.agents,
            targets=request.targets,
            refresh=request.refresh,
            store=store,
            discover=not state.resources,
            scope=request.refresh_scope if request.refresh else "none",
            review=True,
        ).plan
    blocker = review_blocker(plan, request.accept_cost) if plan.has_changes() else None
    if blocker is not None:
        raise blocker
    engine.prepare(plan.changes)  # local builds start now (while a confirmation waits, too)
    if confirm is not None and plan.has_changes() and not confirm(plan):
        return None
    if not plan.has_changes():
        if recovered:
            store.flush()
        return DeployOutcome(plan, ApplyResult(recovered=recovered), recovered, store.writes)
    result = engine.apply(plan)
    result.recovered = recovered
    if result.ok:
        _record_versions(services, store)
    return DeployOutcome(plan, result, recovered, store.writes)


def destroy(
    services: Services,
    *,
    sink: EventSink = null_sink,
    cancel: threading.Event | None = None,
    confirm: Any = None,
    saved_plan: Plan | None = None,
    delete_data: bool = False,
) -> tuple[Plan, ApplyResult] | None:
    """Lock, recover, refuse if retained tables or buckets hold data (unless ``delete_data``), show
    the destroy plan for confirmation, delete. None if not confirmed."""
    from strands_deploy.engine.apply import ApplyResult
    from strands_deploy.planning.plan import make_destroy_plan as destroy_plan
    from strands_deploy.state.store import StateStore

    with services.locked("destroy") as held:
        state = services.read_state()
        before = state.serial
        try:
            if saved_plan is not None:
                services.check_saved_plan(saved_plan, state)
            store = services.store = StateStore(services.backend, state, lock=held)
            engine = services.engine(store, sink, cancel, delete_data=delete_data)
            if state.pending:
                engine.recover()
            plan = saved_plan or destroy_plan(state)
            services.stamp(plan)
            if not plan.has_changes():
                return plan, ApplyResult()
            if not delete_data:
                _refuse_to_delete_data(services, plan, store.state)
            if confirm is not None and not confirm(plan):
                return None
            result = engine.destroy(plan)
        except StrandsDeployError as e:
            services.audit_quietly("destroy", "error", serial_before=before, detail=e.what)
            raise
        services.audit_quietly(
            "destroy",
            _result_word(plan, result),
            plan=plan,
            serial_before=before,
            serial_after=store.state.serial,
        )
        return plan, result


def _refuse_to_delete_data(services: Services, plan: Plan, state: State) -> None:
    """Before anything is deleted: a StrandsDeployError listing every retained data store of the
    destroy plan that holds data (each provider counts its own, see ``Provider.contents``)."""
    from concurrent.futures import ThreadPoolExecutor

    from strands_deploy.planning.plan import Action
    from strands_deploy.providers.base import contents_text

    ctx = services.provider_context()
    lookup = services.provider_lookup()
    deletes = []
    for change in plan.changes:
        record = state.resources.get(change.address)
        if change.action != Action.DELETE or record is None or not record.physical_id:
            continue
        deletes.append((change.address, record.physical_id, record.inputs, lookup(record.type)))

    def count(item: tuple[str, str, dict[str, Any], Any]) -> int | None:
        address, physical_id, inputs, provider = item
        result: int | None = provider.contents(ctx, address, physical_id, inputs)
        return result

    with ThreadPoolExecutor(max_workers=max(1, min(8, len(deletes)))) as pool:
        counts = list(pool.map(count, deletes))
    full = [
        f"{address} ({physical_id}): {contents_text(n, provider.contents_noun)}"
        for (address, physical_id, _, provider), n in zip(deletes, counts, strict=True)
        if n
    ]
    if full:
        raise StrandsDeployError(
            f"destroy would delete data, so nothing was deleted: {len(full)} retained data "
            "store(s) are not empty:\n    " + "\n    ".join(full),
            f"environment {services.env_name}",
            "pass --delete-data to delete them with their data, or set `retain: false` on them in "
            "strands.yaml and deploy first, or empty them first",
        )


# -- bootstrap ci-role ----------------------------------------------------------------------------
# --- progressive delivery (strands_deploy.rollout): wiring only, the logic lives in rollout/ ---


# The use cases of the features beside plan and deploy live in submodules; their entry points are
# re-exported here (front ends call `services.X`). Imported last: they use Services, defined above.
from strands_deploy.services.ci import bootstrap_ci_role  # noqa: E402
from strands_deploy.services.cost import (  # noqa: E402
    OFFLINE_ACCOUNT,
    actual_cost,
    cost_forecast,
    cost_graph,
    cost_plan_delta,
    cost_prices,
    offline_graph,
    update_prices,
)
from strands_deploy.services.policy import approve_plan, check_policy, compliance_data, policy_graph  # noqa: E402
from strands_deploy.services.review import _actions, review_blocker, review_plan  # noqa: E402
from strands_deploy.services.rollouts import (  # noqa: E402
    _record_versions,
    rollout_config,
    rollout_deps,
    rollout_who,
    run_rollouts,
)

__all__ = [
    "OFFLINE_ACCOUNT",
    "DeployOutcome",
    "DeployRequest",
    "PlanOutcome",
    "Services",
    "actual_cost",
    "approve_plan",
    "bootstrap_ci_role",
    "check_policy",
    "compliance_data",
    "cost_forecast",
    "cost_graph",
    "cost_plan_delta",
    "cost_prices",
    "deploy",
    "destroy",
    "make_destroy_plan",
    "make_plan",
    "offline_graph",
    "open_services",
    "policy_graph",
    "review_blocker",
    "review_plan",
    "rollout_config",
    "rollout_deps",
    "rollout_who",
    "run_rollouts",
    "update_prices",
]
