"""Shared state of one synthesis: the graph being built and the project-wide constructs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from strands_deploy.config.loader import Project
from strands_deploy.config.schema import SESSIONS_TTL_DAYS
from strands_deploy.providers.bucket import BucketProps
from strands_deploy.providers.http_api import HttpApiProps
from strands_deploy.providers.iam_role import RoleProps
from strands_deploy.synth.graph import Graph, Resource
from strands_deploy.synth.naming import physical_name
from strands_deploy.synth.props import build


@dataclass
class SynthContext:
    project: Project
    env: str
    target: str  # "aws" or "local": the platform dependency layers are built for
    account: str
    secret_value: Callable[[dict[str, str]], str]
    fingerprint_key: bytes  # random, kept outside the state: see state/keys.py
    graph: Graph = field(default_factory=Graph)

    def tags(self, agent: str | None = None) -> dict[str, str]:
        cfg = self.project.config
        env_tags = self.project.config.environments.get(self.env)
        tags = {
            **cfg.tags,
            **(env_tags.tags if env_tags else {}),
            "strands:project": cfg.project,
            "strands:environment": self.env,
            "strands:managed-by": "strands-deploy",
        }
        if agent:
            tags["strands:agent"] = agent
        return tags

    @property
    def region(self) -> str:
        env = self.project.config.environments.get(self.env)
        return (env.region if env else None) or self.project.config.region

    @property
    def emulated(self) -> bool:
        """``local`` or an environment with an ``endpoint:`` (see :meth:`Project.is_emulated`)."""
        return self.project.is_emulated(self.env)

    def shared_role(self) -> str:
        address = "shared.execution-role"
        if address not in self.graph:
            self.graph.add(
                Resource(
                    address,
                    "aws.iam.role",
                    build(
                        RoleProps,
                        name=physical_name(self.project.name, self.env, "execution", "role"),
                        trust_service="lambda.amazonaws.com",
                        managed_policies=[],
                        inline_policies=[],  # each agent on it adds its policy's name
                        description=f"strands-deploy execution role of {self.project.name} ({self.env})",
                        tags=self.tags(),
                    ),
                )
            )
        return address

    def sessions_bucket(self) -> str:
        address = "shared.sessions"
        if address not in self.graph:
            self.graph.add(
                Resource(
                    address,
                    "aws.s3.bucket",
                    build(
                        BucketProps,
                        name=physical_name(self.project.name, self.env, f"sessions-{self.account}", "bucket"),
                        versioning=False,
                        retain=False,
                        expire_days=self.sessions_ttl_days(),
                        tags=self.tags(),
                    ),
                )
            )
        return address

    def sessions_ttl_days(self) -> int:
        """Days a conversation is kept: the longest ``sessions.ttl_days`` of the project's agents.
        The bucket is shared (one prefix per agent) and its lifecycle rule covers it all, so the
        agent that keeps conversations longest decides; every agent counts, not only those being
        synthesised, so that deploying one agent never shortens another's."""
        days = [a.sessions.ttl_days for a in self.project.agents.values() if a.sessions is not None]
        return max(days, default=SESSIONS_TTL_DAYS)

    def http_api(self) -> str:
        address = "shared.http-api"
        if address not in self.graph:
            self.graph.add(
                Resource(
                    address,
                    "aws.apigw.http_api",
                    build(
                        HttpApiProps,
                        name=physical_name(self.project.name, self.env, "api", "api"),
                        throttle_burst=50,
                        throttle_rate=100,
                        tags=self.tags(),
                    ),
                )
            )
        return address
