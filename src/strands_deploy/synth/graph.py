"""The resource graph: addresses, properties with references, dependencies.

A :class:`Ref` stands for another resource's output; a :class:`Join` concatenates strings and refs.
Both are resolved by the engine at apply time and shown as ``(known after apply)`` in a plan when
the value is not known yet.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from strands_deploy.errors import StrandsDeployError


@dataclass(frozen=True)
class Ref:
    address: str
    attr: str

    def __str__(self) -> str:
        return f"${{{self.address}.{self.attr}}}"


@dataclass(frozen=True)
class Join:
    parts: tuple[Any, ...]

    def __str__(self) -> str:
        return "".join(str(p) for p in self.parts)


class Unknown:
    """A value only known after apply."""

    _instance: Unknown | None = None

    def __new__(cls) -> Unknown:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "(known after apply)"

    def __eq__(self, other: object) -> bool:
        return False

    def __hash__(self) -> int:
        return 0


UNKNOWN = Unknown()


@dataclass
class Resource:
    address: str
    type: str
    props: dict[str, Any]
    depends_on: set[str] = field(default_factory=set)
    agent: str | None = None

    _deps: frozenset[str] | None = field(default=None, repr=False, compare=False)

    def dependencies(self) -> set[str]:
        # computed once: props and depends_on are not changed after synthesis
        if self._deps is None:
            self._deps = frozenset(self.depends_on) | {r.address for r in iter_refs(self.props)}
        return set(self._deps)


def iter_refs(value: Any) -> Iterator[Ref]:
    if isinstance(value, Ref):
        yield value
    elif isinstance(value, Join):
        for p in value.parts:
            yield from iter_refs(p)
    elif isinstance(value, dict):
        for v in value.values():
            yield from iter_refs(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from iter_refs(v)


def resolve(value: Any, lookup: Callable[[Ref], Any], *, keep_unknown: bool = False) -> Any:
    """Replace every Ref/Join by its value; ``lookup`` may return UNKNOWN. With ``keep_unknown``
    (a plan), a reference whose value is not known yet stays a reference (a Join keeps its
    unresolved parts), so the engine can fill it later; otherwise it becomes UNKNOWN."""
    if isinstance(value, Ref):
        found = lookup(value)
        return value if keep_unknown and found is UNKNOWN else found
    if isinstance(value, Join):
        parts = [resolve(p, lookup, keep_unknown=keep_unknown) for p in value.parts]
        if any(p is UNKNOWN or isinstance(p, (Ref, Join)) for p in parts):
            return Join(tuple(parts)) if keep_unknown else UNKNOWN
        return "".join(str(p) for p in parts)
    if isinstance(value, dict):
        return {k: resolve(v, lookup, keep_unknown=keep_unknown) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [resolve(v, lookup, keep_unknown=keep_unknown) for v in value]
    return value


def contains_unknown(value: Any) -> bool:
    """True when ``value`` holds something known only after apply (UNKNOWN or a reference)."""
    if value is UNKNOWN or isinstance(value, (Ref, Join)):
        return True
    if isinstance(value, dict):
        return any(contains_unknown(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(contains_unknown(v) for v in value)
    return False


def to_jsonable(value: Any) -> Any:
    """Props for display/JSON: refs shown as ``${address.attr}``, unknowns as a marker string."""
    if isinstance(value, (Ref, Join)):
        return str(value)
    if value is UNKNOWN:
        return "(known after apply)"
    if isinstance(value, dict):
        return {k: to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    return value


@dataclass
class Graph:
    resources: dict[str, Resource] = field(default_factory=dict)
    # valid but risky (a public endpoint, a shared role): front ends print them, nothing fails
    warnings: list[StrandsDeployError] = field(default_factory=list)

    def add(self, resource: Resource) -> Resource:
        if resource.address in self.resources:
            raise StrandsDeployError(
                f"two resources synthesise to the same address {resource.address!r}",
                fix="rename one of the agents or resources",
            )
        self.resources[resource.address] = resource
        return resource

    def __contains__(self, address: str) -> bool:
        return address in self.resources

    def __iter__(self) -> Iterator[Resource]:
        return iter(self.resources.values())

    def __len__(self) -> int:
        return len(self.resources)

    def dependents(self) -> dict[str, set[str]]:
        out: dict[str, set[str]] = {a: set() for a in self.resources}
        for r in self.resources.values():
            for d in r.dependencies():
                if d in out:
                    out[d].add(r.address)
        return out

    def validate(self) -> None:
        for r in self.resources.values():
            for d in r.dependencies():
                if d not in self.resources:
                    raise StrandsDeployError(
                        f"{r.address} depends on {d!r}, which is not in the graph", where=r.address
                    )
        self.topological_order()

    def topological_order(self) -> list[str]:
        """Addresses with every dependency before its dependents (stable, by address)."""
        from collections import deque

        known = set(self.resources)
        dependents: dict[str, list[str]] = {a: [] for a in self.resources}
        indegree: dict[str, int] = {}
        for a, r in self.resources.items():
            ds = r.dependencies() & known
            indegree[a] = len(ds)
            for d in ds:
                dependents[d].append(a)
        ready = deque(sorted(a for a, n in indegree.items() if n == 0))
        order: list[str] = []
        while ready:
            a = ready.popleft()
            order.append(a)
            for b in sorted(dependents[a]):
                indegree[b] -= 1
                if indegree[b] == 0:
                    ready.append(b)
        if len(order) != len(self.resources):
            cyclic = sorted(set(self.resources) - set(order))
            raise StrandsDeployError(f"dependency cycle among: {', '.join(cyclic)}")
        return order
