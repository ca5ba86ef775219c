"""A state document as bytes: parsing with clear errors, serialising, and the rules a write keeps.

Every backend stores the same document (UTF-8 JSON of :meth:`State.to_dict`) and checks the same
rules before it replaces a stored state (:func:`check_successor`), so the local file and the S3
object behave alike and the conformance suite can hold both to them.
"""

from __future__ import annotations

import json
from typing import Any

from strands_deploy.errors import StrandsDeployError
from strands_deploy.state.model import STATE_VERSION, MalformedState, State

_BOMS = (
    (b"\xff\xfe\x00\x00", "UTF-32"),
    (b"\x00\x00\xfe\xff", "UTF-32"),
    (b"\xff\xfe", "UTF-16"),
    (b"\xfe\xff", "UTF-16"),
)


def state_bytes(state: State) -> bytes:
    """The state as compact UTF-8 JSON; resource records are joined from their cached encodings
    (:meth:`ResourceState.encoded`), so a write costs little more than the bytes it writes."""
    head = json.dumps(state.to_dict(with_resources=False), separators=(",", ":"), sort_keys=False)
    records = ",".join(f"{json.dumps(a)}:{r.encoded()}" for a, r in sorted(state.resources.items()))
    return f'{head[:-1]},"resources":{{{records}}}}}'.encode()


def parse_state(raw: bytes, where: str, environment: str, restore_fix: str) -> State:
    """The state in ``raw``; a StrandsDeployError (what / where / ``restore_fix``) for anything
    that is not a well-formed state of ``environment`` this version can read."""
    data = _decode(raw, where, restore_fix)
    try:
        version = State.version_of(data)
    except MalformedState as e:
        raise StrandsDeployError(f"the state file is malformed: {e.problem}", where, restore_fix) from None
    if version > STATE_VERSION:
        raise StrandsDeployError(
            f"the state file was written by a newer strands-deploy (state version {version}, "
            f"this one reads {STATE_VERSION})",
            where,
            f"upgrade strands-deploy (written by {data.get('tool_version', 'unknown')})",
        )
    if data.get("environment") != environment:
        raise StrandsDeployError(
            f"the state file belongs to environment {data.get('environment')!r}, not {environment!r}",
            where,
            "move the file back to its own environment's name",
        )
    try:
        return State.from_dict(data)
    except MalformedState as e:
        raise StrandsDeployError(f"the state file is malformed: {e.problem}", where, restore_fix) from None


def _decode(raw: bytes, where: str, fix: str) -> Any:
    for bom, encoding in _BOMS:
        if raw.startswith(bom):
            raise StrandsDeployError(
                f"the state file is not UTF-8 text (it looks like {encoding})", where, fix
            )
    if b"\x00" in raw:
        if raw.strip(b"\x00") and (raw[:1] == b"\x00" or raw[1:2] == b"\x00"):
            raise StrandsDeployError("the state file is not UTF-8 text (it looks like UTF-16)", where, fix)
        raise StrandsDeployError(
            "the state file contains NUL bytes (it was damaged, e.g. cut short by a crash or a disk error)",
            where,
            fix,
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = raw.count(b"\n", 0, e.start) + 1
        raise StrandsDeployError(
            f"the state file is not UTF-8 text (invalid byte 0x{raw[e.start]:02x} at line {line})",
            f"{where}:{line}",
            fix,
        ) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise StrandsDeployError(
            f"the state file is not valid JSON ({e.msg} at line {e.lineno})",
            f"{where}:{e.lineno}:{e.colno}",
            fix,
        ) from None
    except RecursionError:
        raise StrandsDeployError(
            "the state file is malformed: it is nested too deeply to be a state", where, fix
        ) from None


def check_successor(
    state: State, lineage: str | None, serial: int | None, environment: str, where: str
) -> None:
    """Refuse to store ``state`` over a stored state of another lineage or a serial not below it
    (``lineage``/``serial``: what the writer last saw stored; None when nothing was)."""
    from strands_deploy.state.backend import StateConflictError

    again = "run the command again: it reads the current state and plans from it"
    if lineage is not None and state.lineage != lineage:
        raise StateConflictError(
            f"the state to save has lineage {state.lineage}, but the stored state of environment "
            f"{environment!r} has lineage {lineage}: they describe different deployments",
            where,
            "move the stored state away first if you mean to replace it",
        )
    if serial is not None and state.serial <= serial:
        raise StateConflictError(
            f"the state to save has serial {state.serial}, not greater than the stored serial "
            f"{serial}: it is older than what is stored",
            where,
            again,
        )
