"""Approvals of saved plans for environments with ``require_approval: true``.

``approve plan.json`` records who approved, when, and the digest of the plan file in
``plan.json.approvals.json`` next to it (and in the environment's audit trail). ``deploy --plan``
then runs a protected plan only when an approval of exactly that file's content exists by an
identity other than the plan's maker (``made_by``, recorded by ``plan --out``).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from strands_deploy.errors import StrandsDeployError
from strands_deploy.planning.plan import Plan
from strands_deploy.planning.saved import plan_digest, read_plan_document, write_json

APPROVALS_SUFFIX = ".approvals.json"


@dataclass(frozen=True)
class Approval:
    approver: str
    at: str
    digest: str
    maker: str | None
    environment: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "approver": self.approver,
            "at": self.at,
            "digest": self.digest,
            "maker": self.maker,
            "environment": self.environment,
        }


def approvals_path(plan_path: Path) -> Path:
    return plan_path.with_name(plan_path.name + APPROVALS_SUFFIX)


def read_document(plan_path: Path) -> dict[str, Any]:
    return read_plan_document(plan_path)


def read_approvals(plan_path: Path) -> list[Approval]:
    path = approvals_path(plan_path)
    if not path.exists():
        return []
    try:
        entries = json.loads(path.read_text(encoding="utf-8")).get("approvals", [])
        return [
            Approval(str(e["approver"]), str(e["at"]), str(e["digest"]), e.get("maker"), e.get("environment"))
            for e in entries
        ]
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as e:
        raise StrandsDeployError(
            f"the approvals file is not valid ({e})", str(path), "delete it and approve the plan again"
        ) from None


def approve(plan_path: Path, approver: str, *, now: dt.datetime | None = None) -> Approval:
    """Record ``approver``'s approval of the plan file as it is now. Refuses the plan's maker."""
    document = read_document(plan_path)
    maker = document.get("made_by")
    if not approver.strip():
        raise StrandsDeployError("the approver's identity is empty", "approve", "pass --as NAME")
    if maker is not None and approver == maker:
        raise StrandsDeployError(
            f"{approver} made this plan and cannot approve it",
            str(plan_path),
            "ask someone else to run `strands-deploy approve` on it",
        )
    at = (now or dt.datetime.now(dt.UTC)).isoformat(timespec="seconds")
    approval = Approval(approver, at, plan_digest(document), maker, document.get("environment"))
    existing = read_approvals(plan_path)
    _write(approvals_path(plan_path), {"approvals": [a.to_json() for a in [*existing, approval]]})
    return approval


def _write(path: Path, data: dict[str, Any]) -> None:
    write_json(path, data, "the approvals file")


def require_approved(plan_path: Path, plan: Plan, identity: str | None) -> Approval:
    """For a ``require_approval`` environment: the approval of exactly this plan by someone other
    than its maker, or a StrandsDeployError saying what is missing. ``plan`` is the plan loaded
    from ``plan_path`` (its digest must match the file's: nothing changed since loading)."""
    document = read_document(plan_path)
    digest = plan_digest(document)
    maker = document.get("made_by")
    where = f"deploy --plan {plan_path}"
    if maker is None:
        raise StrandsDeployError(
            "the plan does not record who made it, so its approval cannot be checked; nothing was changed",
            where,
            "make the plan again with `strands-deploy plan --out FILE`, then have it approved",
        )
    if plan.environment != document.get("environment"):
        raise StrandsDeployError(
            "the plan changed since it was loaded; nothing was changed", where, "run again"
        )
    approvals = read_approvals(plan_path)
    if not approvals:
        raise StrandsDeployError(
            f"environment {plan.environment!r} requires an approved plan, and this one is not approved; "
            "nothing was changed",
            where,
            f"ask someone other than {maker} to run `strands-deploy approve {plan_path}`",
        )
    valid = [a for a in approvals if a.digest == digest and a.approver != maker]
    if not valid:
        if all(a.digest != digest for a in approvals):
            what = "the plan was modified after it was approved"
        else:
            what = f"the only approval is by the plan's maker ({maker})"
        raise StrandsDeployError(
            f"{what}; nothing was changed",
            where,
            "make a new plan and have it approved by someone else",
        )
    del identity  # the deployer may be anyone (CI): separation of duties is maker ≠ approver
    return valid[-1]
