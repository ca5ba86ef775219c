"""State surgery as Terraform users know it: forget a resource without deleting it (``rm``),
rename an address without recreating it (``mv``). Pure functions on a State; the caller holds
the lock and writes the result as a new serial."""

from __future__ import annotations

import dataclasses

from strands_deploy.errors import StrandsDeployError
from strands_deploy.state.model import State


def _suggest(address: str, state: State) -> str:
    import difflib

    close = difflib.get_close_matches(address, list(state.resources), n=1)
    return f"did you mean {close[0]!r}? " if close else ""


def _check_no_pending(state: State, where: str) -> None:
    if state.pending:
        raise StrandsDeployError(
            f"the state has {len(state.pending)} operation(s) still in flight from an interrupted run",
            where,
            "run `strands-deploy deploy` first: it resolves them, then change the state",
        )


def remove(state: State, addresses: list[str], where: str) -> list[str]:
    """Forget ``addresses`` (the AWS resources stay); returns what was removed."""
    _check_no_pending(state, where)
    missing = [a for a in addresses if a not in state.resources]
    if missing:
        raise StrandsDeployError(
            f"no resource {missing[0]!r} in the state",
            where,
            _suggest(missing[0], state) + "list the addresses with `strands-deploy state list`",
        )
    for a in addresses:
        del state.resources[a]
    return addresses


def move(state: State, old: str, new: str, where: str) -> None:
    """Rename ``old`` to ``new`` (same resource, same physical id); dependencies follow."""
    _check_no_pending(state, where)
    if old not in state.resources:
        raise StrandsDeployError(
            f"no resource {old!r} in the state",
            where,
            _suggest(old, state) + "list the addresses with `strands-deploy state list`",
        )
    if new in state.resources:
        raise StrandsDeployError(
            f"the state already has a resource at {new!r}",
            where,
            f"`state rm {new}` first if it is stale, or choose another address",
        )
    if new.count(".") < 2 or " " in new:
        raise StrandsDeployError(
            f"{new!r} is not a resource address (kind.name.part, e.g. agent.bot.function)",
            where,
            "use an address like those `strands-deploy state list` prints",
        )
    record = state.resources.pop(old)
    state.resources[new] = record
    for address, r in list(state.resources.items()):
        if old in r.dependencies:
            deps = [new if d == old else d for d in r.dependencies]
            state.resources[address] = dataclasses.replace(r, dependencies=deps)
