"""config → Graph. Pure apart from reading the agents' files for content hashes."""

from __future__ import annotations

from collections.abc import Callable

from strands_deploy.config.loader import Project
from strands_deploy.errors import ConfigError
from strands_deploy.synth.agent import missing_auth, synth_agent
from strands_deploy.synth.budget import synth_budget
from strands_deploy.synth.context import SynthContext
from strands_deploy.synth.graph import Graph
from strands_deploy.synth.resources import synth_resource
from strands_deploy.synth.security_services import synth_security_services


def synthesize(
    project: Project,
    env: str,
    *,
    target: str,
    account: str,
    secret_value: Callable[[dict[str, str]], str],
    fingerprint_key: bytes,
    agents: list[str] | None = None,
) -> Graph:
    """Build the resource graph of ``env``. ``agents`` limits which agents are synthesised.
    ``fingerprint_key`` keys the hashes of secret values (never stored beside them).

    Refuses (ConfigError) an endpoint without `auth:` on an environment that is not emulated.
    ``Graph.warnings`` holds the project's warnings and synthesis's own (public endpoints)."""
    problems = missing_auth(project, env, agents)
    if problems:
        raise ConfigError(problems)
    ctx = SynthContext(
        project=project,
        env=env,
        target=target,
        account=account,
        secret_value=secret_value,
        fingerprint_key=fingerprint_key,
    )
    ctx.graph.warnings.extend(project.warnings)
    for name, res in project.config.resources.items():
        synth_resource(ctx, name, res)
    for name, agent in project.agents.items():
        if agents is None or name in agents:
            synth_agent(ctx, name, agent)
    synth_budget(ctx)
    synth_security_services(ctx)  # after agents and resources: Config records their types
    ctx.graph.validate()
    return ctx.graph
