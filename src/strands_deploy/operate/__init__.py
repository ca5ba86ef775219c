"""Use cases that read or call what is already deployed: invoke an agent, read its logs.

They sit beside ``engine/`` (which changes AWS) and below ``services.py`` (which wires them): each
receives what it uses — the project, a way to read the state, the AWS context that makes clients — as
arguments, so a test passes a moto endpoint or a fake client, never a patch. AWS failures are
converted here into :class:`~strands_deploy.errors.StrandsDeployError`; front ends only render.
"""

from strands_deploy.operate.deployment import Deployment, deployed_output, find_agent

__all__ = ["Deployment", "deployed_output", "find_agent"]
