"""`cost prices update`: fold prices read from the Price List API into a copy of the current table."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any


def updated_document(
    current: dict[str, Any], region: str, found: dict[str, dict[str, float]], today: str | None = None
) -> dict[str, Any]:
    """``current`` with ``found`` as ``region``'s prices, dated ``today`` and naming its sources."""
    doc = copy.deepcopy(current)
    date = today or datetime.now(UTC).strftime("%Y-%m-%d")
    overrides = doc.setdefault("region_overrides", {}).setdefault(region, {})
    for service, prices in found.items():
        overrides.setdefault(service, {}).update(prices)
    previous = f"{current.get('date')}: {current.get('source', '')}"
    doc["source"] = f"AWS Price List API for {region} on {date}; everything else from the table of {previous}"
    doc["date"] = date
    return doc
