"""Values inside a plan: resolved where known, references where known only after apply.

A plan carries each resource's desired properties. Outputs of resources that this plan creates or
replaces are not known when it is made, so the property keeps the reference (``Ref``/``Join``)
and the engine fills it from the state when that dependency has run. In a saved plan (JSON) a
reference is written as ``{"$ref": [address, attr]}`` and a concatenation as ``{"$join": [...]}``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from strands_deploy.synth.graph import Join, Ref, contains_unknown, resolve

REF_KEY = "$ref"
JOIN_KEY = "$join"


def resolve_known(value: Any, lookup: Callable[[Ref], Any]) -> Any:
    """Replace references whose value ``lookup`` knows; keep the others (``lookup`` → UNKNOWN)."""
    return resolve(value, lookup, keep_unknown=True)


# True when a value still holds a reference (known only after apply)
is_deferred = contains_unknown


def encode(value: Any) -> Any:
    """Plan value → JSON data."""
    if isinstance(value, Ref):
        return {REF_KEY: [value.address, value.attr]}
    if isinstance(value, Join):
        return {JOIN_KEY: [encode(p) for p in value.parts]}
    if isinstance(value, dict):
        return {k: encode(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [encode(v) for v in value]
    return value


def decode(value: Any) -> Any:
    """JSON data → plan value (inverse of :func:`encode`)."""
    if isinstance(value, dict):
        if len(value) == 1 and REF_KEY in value:
            address, attr = value[REF_KEY]
            return Ref(str(address), str(attr))
        if len(value) == 1 and JOIN_KEY in value:
            return Join(tuple(decode(p) for p in value[JOIN_KEY]))
        return {k: decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [decode(v) for v in value]
    return value


def refs_in(value: Any) -> set[str]:
    """Addresses referenced by ``value``."""
    if isinstance(value, Ref):
        return {value.address}
    if isinstance(value, Join):
        return set().union(*(refs_in(p) for p in value.parts)) if value.parts else set()
    if isinstance(value, dict):
        return set().union(*(refs_in(v) for v in value.values())) if value else set()
    if isinstance(value, (list, tuple)):
        return set().union(*(refs_in(v) for v in value)) if value else set()
    return set()
