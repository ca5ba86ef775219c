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
- ``delete`` of a retained data store (``retain: true``) that holds data refuses, naming what it
  holds, unless ``ctx.delete_data`` (``destroy --delete-data``); ``contents`` counts it first.
- ``find`` locates a resource that may have been created by an interrupted run (by its
  deterministic name, or name + ``strands:*`` tags) so it is adopted rather than created twice.
- Secrets: properties never contain secret values; providers that need one resolve it through
  ``ctx.secret_value(source)`` at call time and never put it in outputs.

Properties cross the graph/plan/state boundary as plain JSON dicts (a saved plan is re-executed
later), and each provider reads them through its typed :class:`PropsModel` (``props_model``):
``p = TableProps.parse(props)`` at the top of every operation, then attribute access. Synthesis
builds the same dicts through the same model (``synth.build``), so a misspelt or missing property
fails at synthesis, not at apply time.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Self

from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError

from strands_deploy.aws.session import AwsContext, ClientFactory
from strands_deploy.errors import StrandsDeployError
from strands_deploy.providers.role_gate import RoleGate

Props = dict[str, Any]
Outputs = dict[str, Any]

# ``Provider.contents`` counts at most this many items or objects (a bounded scan or listing):
# a count that reaches it means "at least this many" (see :func:`contents_text`).
CONTENTS_LIMIT = 1000


class PropsModel(BaseModel):
    """A resource type's properties, as synthesis builds them and its provider reads them.

    Unknown keys are errors (a misspelt property never passes silently) and instances are frozen:
    a provider reads its properties, it never edits them. Field defaults are what the provider
    assumes when a property is absent.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    @classmethod
    def parse(cls, props: Mapping[str, Any], where: str | None = None) -> Self:
        """``props`` (plain, resolved JSON data) as this model; a mismatch is a StrandsDeployError."""
        try:
            return cls.model_validate(dict(props))
        except ValidationError as err:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or '(all)'}: {e['msg']}" for e in err.errors()
            )
            raise StrandsDeployError(
                f"the properties do not match {cls.__name__}: {problems}",
                where=where,
                fix="this is a bug in strands-deploy (synthesis and the provider disagree): report it",
            ) from None

    @classmethod
    def parse_recorded(cls, props: Mapping[str, Any]) -> Self:
        """Properties read back from the state: the ``old`` of an update, the props of ``read``,
        ``delete`` and ``drift``. Never raises.

        A record may hold ``None`` for a property that was never observed (the inputs recorded for
        an adopted resource), or come from another version of strands-deploy. Each property that
        does not validate takes its default, or ``None`` when it has none (so it compares unequal to
        any wanted value and the update sends it: compare such a field, never dereference it);
        keys the model does not know are ignored.
        """
        try:
            return cls.model_validate(dict(props))
        except ValidationError:
            pass
        values: dict[str, Any] = {}
        for name, info in cls.model_fields.items():
            if name in props:
                try:
                    values[name] = _adapter(cls, name).validate_python(props[name])
                    continue
                except ValidationError:
                    pass
            values[name] = None if info.is_required() else info.get_default(call_default_factory=True)
        return cls.model_construct(**values)


_ADAPTERS: dict[tuple[type[PropsModel], str], TypeAdapter[Any]] = {}


def _adapter(model: type[PropsModel], name: str) -> TypeAdapter[Any]:
    """A validator for one field of ``model`` (built once)."""
    key = (model, name)
    if key not in _ADAPTERS:
        _ADAPTERS[key] = TypeAdapter(model.model_fields[name].annotation or Any)
    return _ADAPTERS[key]


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
    # True only for `destroy --delete-data`: retained data stores (tables, buckets) are deleted
    # with whatever they hold. Deploys never set it: a plan that deletes a retained store that
    # holds data fails at that resource.
    delete_data: bool = False
    background: list[Any] = field(default_factory=list)  # threads of in_background
    # the account id when the command knows it (deploys do): ARNs built without an STS call
    account: str | None = None
    # one per command: functions wait here for a just-created role to become usable (role_gate.py)
    role_gate: RoleGate = field(default_factory=lambda: RoleGate())

    @property
    def client(self) -> ClientFactory:
        """``client("lambda")``: the shared, typed client of a service (see aws.session)."""
        return self.aws.client

    def account_id(self) -> str:
        return self.account or self.aws.account_id()

    def in_background(self, name: str, work: Callable[[], None]) -> None:
        """Housekeeping off the deploy's path (pruning old versions): started now; the process
        waits for it before exiting (``join_background`` waits explicitly)."""
        import threading

        thread = threading.Thread(target=work, name=name, daemon=False)
        self.background.append(thread)
        thread.start()

    def join_background(self) -> None:
        while self.background:
            self.background.pop().join()

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
    # The typed properties this provider reads (and synthesis builds): every provider sets it.
    props_model: ClassVar[type[PropsModel]]
    # True when AWS assigns the physical id and the name need not be unique (an HTTP API, an event
    # source mapping): the engine calls ``find`` before ``create`` so a create whose response was
    # lost never leaves a second copy behind.
    random_id: ClassVar[bool] = False
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
    # What ``contents`` counts, for messages ("142 items", "at least 1000 objects").
    contents_noun: ClassVar[str] = "item"

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

    def contents(self, ctx: ProviderContext, address: str, physical_id: str, props: Props) -> int | None:
        """How many items (objects, versions) this resource holds when it is a retained data store
        (``retain: true``): counted up to :data:`CONTENTS_LIMIT` (a count that reaches it means "at
        least"), 0 when empty. ``None`` when the type holds no user data, when the resource is not
        retained (its data goes with it by design) or when it is gone. Reads only."""
        return None

    # The account-wide rate of this type's create call, when a quota makes it the bottleneck
    # (PutMetricAlarm: 3/s): the engine starts such a group early (see Engine._critical_path).
    calls_per_second: ClassVar[float | None] = None

    # True when read_many is cheaper than one read per resource (one API call for many).
    batch_reads: ClassVar[bool] = False

    def read_many(
        self, ctx: ProviderContext, items: list[tuple[str, str, Props]]
    ) -> dict[str, Outputs | None]:
        """``read`` for many (address, physical id, props) at once; providers whose API can
        describe many resources in one call override it and set ``batch_reads``."""
        return {address: self.read(ctx, address, pid, props) for address, pid, props in items}

    def prepare(self, ctx: ProviderContext, address: str, props: Props) -> None:
        """Local work a create or update will need (building a zip), started by deploy in the
        background while it still reads AWS; the operation then finds it done (or waits for it).
        ``props`` are the planned ones, references not yet resolved. Default: nothing."""

    def check_many(
        self, ctx: ProviderContext, items: list[tuple[str, str, Props]]
    ) -> dict[str, Outputs | None] | None:
        """Deploy's cheap look at resources it does not change: partial reads of many resources in
        a few list calls (``observed`` holds what the list shows; what it does not show is not
        compared), ``None`` for a resource that is gone. ``None`` overall: this type has no
        cheap check, and deploy does not read these resources unless it changes them."""
        return None

    def find(self, ctx: ProviderContext, address: str, props: Props) -> Created | None:
        """Locate an existing resource for ``props`` (crash recovery / adoption) without any state
        record: by deterministic name (+ this environment's ``strands:*`` tags where the type can
        carry tags), or by the natural key of the type. Default: by name."""
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


def contents_text(count: int, noun: str) -> str:
    """``count`` of what ``Provider.contents`` counts, for people: "1 item", "142 items",
    "at least 1000 objects" (a count that reached :data:`CONTENTS_LIMIT`)."""
    plural = noun if count == 1 else f"{noun}s"
    return f"at least {count} {plural}" if count >= CONTENTS_LIMIT else f"{count} {plural}"


def stable_hash(value: Any, length: int = 12) -> str:
    blob = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:length]
