"""The contract every resource handler fulfils.

A provider knows one resource type (``type_name`` such as ``"aws.lambda.function"``). The engine
hands it fully resolved properties (plain JSON data: every reference to another resource's
outputs has been replaced by its value) and the recorded physical id and outputs. Providers never
touch the state and never decide *whether* to act; the plan decided that.

Invariants:
- ``read`` is honest: it returns what AWS has now, or ``None`` when the resource is gone. It never
  raises for a missing resource.
- ``create`` returns only after the resource is usable (waiters for Active/ACTIVE states).
- ``update`` gets old and new properties and changes only what differs.
- ``delete`` of something already gone succeeds silently.
- ``find`` locates a resource that may have been created by an interrupted run (by its
  deterministic name, or name + ``strands:*`` tags) so it is adopted rather than created twice.
- Secrets: properties never contain secret values; providers that need one resolve it through
  ``ctx.secret_value(source)`` at call time and never put it in outputs.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from strands_deploy.aws.session import AwsContext

Props = dict[str, Any]
Outputs = dict[str, Any]


@dataclass
class Created:
    physical_id: str
    outputs: Outputs


@dataclass
class ProviderContext:
    """What a handler may use. Built once per command by services.py and shared by all threads."""

    aws: AwsContext
    project: str
    environment: str
    project_dir: Path
    cache_dir: Path  # .strands/cache: packaged zips and layers
    tags: dict[str, str] = field(default_factory=dict)  # strands:* + project tags
    # Called with a human-readable progress note ("waiting for function to become Active").
    progress: Callable[[str, str], None] = lambda address, note: None
    # Resolves a secret source ({"env": "NAME"} or {"file": "path"}) to its value, at call time.
    secret_value: Callable[[dict[str, str]], str] | None = None
    # "aws" or "local": which platform dependency layers are built for.
    target: str = "aws"
    # Time source and sleep are injectable so waiters can be tested without real sleeping.
    sleep: Callable[[float], None] = field(default_factory=lambda: __import__("time").sleep)

    def client(self, service: str) -> Any:
        return self.aws.client(service)

    def tags_for(self, agent: str | None = None) -> dict[str, str]:
        tags = {
            **self.tags,
            "strands:project": self.project,
            "strands:environment": self.environment,
            "strands:managed-by": "strands-deploy",
        }
        if agent:
            tags["strands:agent"] = agent
        return tags


class Provider:
    """Base class for one resource type's handler. Subclasses override the five operations."""

    type_name: ClassVar[str] = ""
    # Properties whose change cannot be applied in place: a change means delete + create.
    replace_on: ClassVar[frozenset[str]] = frozenset()
    # Outputs that never change across an in-place update (arn, name...): references to them are
    # known at plan time even when this resource is being updated.
    stable_outputs: ClassVar[frozenset[str]] = frozenset({"arn", "name"})
    # Typical seconds a create takes on AWS, waits included: the scheduler starts the longest
    # remaining chain first. Only the ratios matter.
    expected_seconds: ClassVar[float] = 0.3
    # At most this many of this type in flight at once (None: no cap), for APIs AWS rate-limits
    # to a few calls a second, so they do not fill the worker pool while being throttled.
    max_in_flight: ClassVar[int | None] = None

    def create(self, ctx: ProviderContext, address: str, props: Props) -> Created:
        raise NotImplementedError

    def read(self, ctx: ProviderContext, address: str, physical_id: str, props: Props) -> Outputs | None:
        raise NotImplementedError

    def update(
        self,
        ctx: ProviderContext,
        address: str,
        physical_id: str,
        old: Props,
        new: Props,
        outputs: Outputs,
    ) -> Outputs:
        raise NotImplementedError

    def delete(
        self, ctx: ProviderContext, address: str, physical_id: str, props: Props, outputs: Outputs
    ) -> None:
        raise NotImplementedError

    # True when read_many is cheaper than one read per resource (one API call for many).
    batch_reads: ClassVar[bool] = False

    def read_many(
        self, ctx: ProviderContext, items: list[tuple[str, str, Props]]
    ) -> dict[str, Outputs | None]:
        """``read`` for many (address, physical id, props) at once; providers whose API can
        describe many resources in one call override it and set ``batch_reads``."""
        return {address: self.read(ctx, address, pid, props) for address, pid, props in items}

    def find(self, ctx: ProviderContext, address: str, props: Props) -> Created | None:
        """Locate an existing resource for ``props`` (crash recovery / adoption). Default: by name."""
        name = props.get("name")
        if not name:
            return None
        outputs = self.read(ctx, address, str(name), props)
        return Created(str(name), outputs) if outputs is not None else None

    def drift(self, props: Props, live: Outputs) -> dict[str, tuple[Any, Any]]:
        """Properties whose live value differs from ``props`` (for plan after refresh).

        ``live`` is what ``read`` returned. The default compares keys present in both; providers
        refine this where AWS normalises values.
        """
        out: dict[str, tuple[Any, Any]] = {}
        observed = live.get("observed", {})
        for key, want in props.items():
            if key in observed and observed[key] != want:
                out[key] = (observed[key], want)
        return out


def stable_hash(value: Any, length: int = 12) -> str:
    blob = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:length]
