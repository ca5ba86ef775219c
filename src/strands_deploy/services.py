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

from strands_deploy.aws.session import LOCAL_ACCOUNT, AwsContext, AwsSettings
from strands_deploy.config.loader import LOCAL_ENV, Project, load_project
from strands_deploy.config.schema import EnvironmentConfig
from strands_deploy.engine.events import EventSink, null_sink
from strands_deploy.errors import StrandsDeployError
from strands_deploy.state.backend import LocalFileBackend, StateBackend
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
    _aws: AwsContext | None = None
    _account: str | None = None
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
        from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

        try:
            account = self.aws.account_id()
        except NoCredentialsError:
            raise StrandsDeployError(
                f"no AWS credentials found for environment {self.env_name!r}",
                f"environments.{self.env_name}",
                f"run `aws configure{' --profile ' + self.env.profile if self.env.profile else ''}` or "
                "`aws sso login`, or set AWS_PROFILE",
            ) from None
        except ClientError as e:
            code = e.response.get("Error", {}).get("Code", "")
            raise StrandsDeployError(
                f"AWS rejected the credentials of environment {self.env_name!r} ({code})",
                f"environments.{self.env_name}",
                "refresh them (`aws sso login` or new access keys) and try again",
            ) from None
        except BotoCoreError as e:
            raise StrandsDeployError(
                f"cannot reach AWS for environment {self.env_name!r}: {e}",
                f"environments.{self.env_name}",
                "check the region, the endpoint and your network",
            ) from None
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

    def read_state(self) -> State:
        return self.backend.read() or State(environment=self.env_name)

    def synth(self, agents: list[str] | None = None) -> Graph:
        from strands_deploy.synth import synthesize

        for a in agents or []:
            if a not in self.project.agents:
                from strands_deploy.config.loader import _suggest

                raise StrandsDeployError(
                    f"unknown agent {a!r}",
                    str(self.project.source),
                    _suggest(a, set(self.project.agents), "check the agent names in strands.yaml"),
                )
        return synthesize(
            self.project,
            self.env_name,
            target=self.target,
            account=self.account(),
            secret_value=self.secret_value,
        )

    def provider_context(self) -> ProviderContext:
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
        )

    def engine(
        self, store: Any, sink: EventSink = null_sink, cancel: threading.Event | None = None
    ) -> Engine:
        from strands_deploy.engine.apply import Engine
        from strands_deploy.providers.registry import get_provider

        return Engine(
            self.provider_context(),
            store,
            sink=sink,
            concurrency=self.concurrency,
            cancel=cancel,
            providers=self.providers or get_provider,
        )

    def release_lock(self) -> None:
        """Release the lock this process holds, if any (for an immediate exit)."""
        self.backend.unlock()

    @contextmanager
    def locked(self, command: str, lock: bool = True) -> Iterator[None]:
        if not lock:
            yield
            return
        held = self.backend.lock(command)
        try:
            yield
        finally:
            self.backend.unlock(held)


def open_services(project_dir: Path, env_name: str = LOCAL_ENV, *, start_local: bool = True) -> Services:
    project = load_project(project_dir)
    env = project.environment(env_name)
    backend = LocalFileBackend(project.root / ".strands" / "state", env_name)
    return Services(project=project, env_name=env_name, env=env, backend=backend, start_local=start_local)


def _targets(agents: list[str] | None, targets: list[str] | None) -> set[str] | None:
    out = set(targets or [])
    out.update(f"agent.{a}" for a in agents or [])
    return out or None


@dataclass
class PlanOutcome:
    plan: Plan
    graph: Graph
    recovered_pending: int = 0


def make_plan(
    services: Services,
    *,
    agents: list[str] | None = None,
    targets: list[str] | None = None,
    refresh: bool = True,
    store: Any = None,
) -> PlanOutcome:
    from strands_deploy.planning.plan import make_plan as plan_
    from strands_deploy.state.store import StateStore

    graph = services.synth(agents)
    state = store.state if store is not None else services.read_state()
    live = None
    # The embedded local cloud keeps resources in memory: after `local stop` or a reboot they are
    # gone while the state still lists them, so its plans always refresh (reads cost milliseconds).
    if services.target == "local":
        refresh = True
    if refresh and state.resources:
        engine = services.engine(store or StateStore(services.backend, state))
        live = engine.refresh()
    plan = plan_(graph, state, live=live, targets=_targets(agents, targets))
    return PlanOutcome(plan, graph, len(state.pending))


@dataclass
class DeployOutcome:
    plan: Plan
    result: ApplyResult
    recovered: list[str]
    writes: int


def deploy(
    services: Services,
    *,
    agents: list[str] | None = None,
    targets: list[str] | None = None,
    refresh: bool = True,
    sink: EventSink = null_sink,
    cancel: threading.Event | None = None,
    confirm: Any = None,
) -> DeployOutcome | None:
    """Lock, recover interrupted operations, plan, (confirm,) apply. Returns None if not confirmed."""
    from strands_deploy.engine.apply import ApplyResult
    from strands_deploy.state.store import StateStore

    with services.locked("deploy"):
        state = services.read_state()
        store = StateStore(services.backend, state)
        engine = services.engine(store, sink, cancel)
        recovered = engine.recover() if state.pending else []
        outcome = make_plan(services, agents=agents, targets=targets, refresh=refresh, store=store)
        if confirm is not None and outcome.plan.has_changes() and not confirm(outcome.plan):
            return None
        if not outcome.plan.has_changes():
            if recovered:
                store.flush()
            return DeployOutcome(outcome.plan, ApplyResult(recovered=recovered), recovered, store.writes)
        result = engine.apply(outcome.plan, outcome.graph)
        result.recovered = recovered
        return DeployOutcome(outcome.plan, result, recovered, store.writes)


def destroy(
    services: Services,
    *,
    sink: EventSink = null_sink,
    cancel: threading.Event | None = None,
    confirm: Any = None,
) -> ApplyResult | None:
    from strands_deploy.state.store import StateStore

    with services.locked("destroy"):
        state = services.read_state()
        store = StateStore(services.backend, state)
        engine = services.engine(store, sink, cancel)
        if state.pending:
            engine.recover()
        if confirm is not None and state.resources and not confirm(sorted(state.resources)):
            return None
        return engine.destroy()
