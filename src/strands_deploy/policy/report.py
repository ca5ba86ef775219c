"""What `report compliance` adds to a review: the period, its approvals and its deploy history
(from the environment's audit trail, where `approve` and every deploy record themselves)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

APPROVED = "approved plan made by "  # starts the detail of an `approve` audit record


def is_approval(record: dict[str, Any]) -> bool:
    words = str(record.get("command", "")).split()
    return "approve" in words and str(record.get("detail") or "").startswith(APPROVED)


def compliance_extra(
    records: Iterable[dict[str, Any]], *, days: int = 90, now: dt.datetime | None = None
) -> dict[str, Any]:
    end = now or dt.datetime.now(dt.UTC)
    start = end - dt.timedelta(days=days)
    in_period = [r for r in records if (_at(r) or end) >= start]
    approvals = [
        {
            "at": r.get("at"),
            "approver": r.get("who") or r.get("user"),
            "digest": r.get("plan_digest"),
            "maker": str(r.get("detail") or "").removeprefix(APPROVED) or None,
        }
        for r in in_period
        if is_approval(r)
    ]
    return {
        "period": {"from": start.date().isoformat(), "to": end.date().isoformat(), "days": days},
        "approvals": approvals,
        "history": [r for r in in_period if not is_approval(r)],
    }


def _at(record: dict[str, Any]) -> dt.datetime | None:
    try:
        at = dt.datetime.fromisoformat(str(record.get("at")).replace("Z", "+00:00"))
    except ValueError:
        return None
    return at if at.tzinfo else at.replace(tzinfo=dt.UTC)
