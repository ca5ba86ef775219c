"""Saved plans: ``plan --out plan.json`` writes the program, ``deploy --plan plan.json`` runs it.

A saved plan runs only against exactly what it was computed from. It is refused, with the reason
and the fix, when it was made for another project, environment, account or region, when the
state moved since (another deploy, a recovery: serial or lineage changed), or when an agent's
code or requirements changed since (their content hashes are part of the planned properties).
A saved plan holds no secret value: secrets appear only as their source (an environment variable
name or a file path) and a keyed fingerprint whose key never leaves ``.strands/keys``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from strands_deploy.errors import StrandsDeployError
from strands_deploy.planning.plan import PLAN_FORMAT, Plan
from strands_deploy.state.model import State

if TYPE_CHECKING:
    from strands_deploy.synth.graph import Graph

# planned properties that fingerprint content on disk: a change since the plan makes it stale
CONTENT_KEYS = ("code", "requirements_hash")


def plan_digest(document: dict[str, Any]) -> str:
    """The digest of a saved plan's document (canonical JSON, as the audit trail computes it):
    an approval is for exactly this plan; any change to the file changes it."""
    import hashlib

    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), default=str)
    return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()


def save_plan(plan: Plan, path: Path, made_by: str | None = None) -> None:
    """``made_by``: who made the plan (an AWS ARN or user name), so that an approval of a
    protected environment's plan must come from someone else (docs/policy.md)."""
    document = plan.to_document()
    if made_by:
        document["made_by"] = made_by
    write_json(path, document, "the plan file")


def write_json(path: Path, data: Any, what: str) -> None:
    """``data`` as JSON at ``path``, atomically and durably (temp file, fsync, rename); a failure
    is a StrandsDeployError naming ``what``."""
    blob = json.dumps(data, indent=1, sort_keys=False).encode()
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        with open(tmp, "wb") as fh:
            fh.write(blob)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as e:
        tmp.unlink(missing_ok=True)
        raise StrandsDeployError(
            f"cannot write {what}: {e.strerror}", str(path), "check the folder exists and is writable"
        ) from None


def load_plan(path: Path) -> Plan:
    document = read_plan_document(path)
    try:
        return Plan.from_document(document)
    except (ValueError, KeyError, TypeError, IndexError, RecursionError) as e:
        raise _invalid(path, e) from None


def read_plan_document(path: Path) -> dict[str, Any]:
    """A saved plan's JSON document (checked to be a strands-deploy plan), or a StrandsDeployError
    saying how to make one. The approvals of a plan are judged on this document (its digest)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise StrandsDeployError(
            "the plan file does not exist", str(path), "make one with `strands-deploy plan --out FILE`"
        ) from None
    except (OSError, UnicodeDecodeError) as e:
        raise StrandsDeployError(
            f"cannot read the plan file: {getattr(e, 'strerror', None) or e}",
            str(path),
            "make a new one with `strands-deploy plan --out FILE`",
        ) from None
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as e:
        raise _invalid(path, e) from None
    if not isinstance(data, dict):
        raise _invalid(path, ValueError("not a plan"))
    if data.get("format") != PLAN_FORMAT:
        raise _invalid(path, ValueError(f"not a strands-deploy plan (format {data.get('format')!r})"))
    return data


def _invalid(path: Path, e: BaseException) -> StrandsDeployError:
    return StrandsDeployError(
        f"the plan file is not a valid plan ({e})",
        str(path),
        "make a new one with `strands-deploy plan --out FILE`",
    )


def _stale(
    what: str, fix: str = "make a new plan with `strands-deploy plan --out FILE`"
) -> StrandsDeployError:
    return StrandsDeployError(f"the saved plan is stale: {what}; nothing was changed", "deploy --plan", fix)


def check_fresh(plan: Plan, state: State, services: Any, synth: Callable[[], Graph]) -> None:
    """Refuse a plan made for something else or before the state or the code moved."""
    for what, planned, current in (
        ("project", plan.project, services.project.name),
        ("environment", plan.environment, services.env_name),
        ("region", plan.region, services.region),
        ("account", plan.account, services.account()),
    ):
        if planned != current:
            raise StrandsDeployError(
                f"the saved plan was made for {what} {planned!r}, not {current!r}; nothing was changed",
                "deploy --plan",
                f"apply it to its own {what}, or make a new plan here",
            )
    if state.serial != plan.serial:
        raise _stale(f"the state changed since (serial {plan.serial} → {state.serial}: another deploy ran)")
    if plan.lineage is not None and state.serial and state.lineage != plan.lineage:
        raise _stale("the state was replaced since (another lineage)")
    if state.pending:
        raise _stale(
            "the state holds operations of an interrupted run",
            "run `strands-deploy deploy` (it resolves them), then make a new plan",
        )
    if plan.destroy:
        return
    graph = synth()
    for change in plan.changes:
        res = graph.resources.get(change.address)
        for key in CONTENT_KEYS:
            if key in change.props and (res is None or res.props.get(key) != change.props.get(key)):
                raise _stale(f"{change.address}: the agent's code or requirements changed since")
