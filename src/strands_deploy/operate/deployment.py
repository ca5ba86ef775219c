"""What an operation needs to know about one deployed environment, and lookups into its state."""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from strands_deploy.errors import StrandsDeployError

if TYPE_CHECKING:
    from strands_deploy.aws.session import AwsContext
    from strands_deploy.config.loader import Project
    from strands_deploy.config.schema import AgentConfig
    from strands_deploy.state.model import State


@dataclass(frozen=True)
class Deployment:
    """One environment of a project, as deployed.

    ``read_state`` and ``aws`` are called only when needed, so a mistyped agent name is reported
    before the state is read or the local cloud is started. Tests pass an ``AwsContext`` on a moto
    endpoint, or any object with the same ``client(service)`` method.
    """

    project: Project
    env_name: str
    read_state: Callable[[], State]
    aws: Callable[[], AwsContext]


def find_agent(project: Project, agent: str) -> AgentConfig:
    """The agent's config; a clear error (with a suggestion) if the project has no such agent."""
    agents: dict[str, AgentConfig] = dict(project.agents)
    if agent not in agents:
        close = difflib.get_close_matches(agent, list(agents), n=1)
        raise StrandsDeployError(
            f"no agent named {agent!r} in this project",
            fix=f"did you mean {close[0]!r}?" if close else f"agents: {', '.join(agents) or '(none)'}",
        )
    return agents[agent]


def deployed_output(deployment: Deployment, agent: str, kind: str, output: str = "name") -> str:
    """``state.resources["agent.<agent>.<kind>"].outputs[output]``, or a 'not deployed' error."""
    find_agent(deployment.project, agent)
    record = deployment.read_state().resources.get(f"agent.{agent}.{kind}")
    value = (record.outputs or {}).get(output) if record is not None else None
    if not value:
        raise StrandsDeployError(
            f"agent {agent!r} is not deployed in environment {deployment.env_name!r}",
            fix=f"run strands-deploy deploy --env {deployment.env_name}",
        )
    return str(value)
