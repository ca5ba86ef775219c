"""One line of a forecast: quantity × unit price, in natural units."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

GB = 1024**3
MILLION = 1_000_000


@dataclass
class ForecastLine:
    owner: str  # agent.<name> | resource.<name> | shared
    address: str  # the graph address the cost is billed to
    service: str  # bedrock | lambda | apigateway | logs | cloudwatch | s3 | dynamodb | ...
    item: str  # what is counted ("input tokens", "GB-seconds (arm64)"...)
    quantity: float  # per month, in `unit`
    unit: str
    unit_price: float  # USD per `unit`
    free_key: str | None = None  # the free-tier allowance this line draws on, if any
    free_quantity: float = 0.0  # how much of `quantity` the free tier covered

    @property
    def monthly_usd(self) -> float:
        return max(self.quantity - self.free_quantity, 0.0) * self.unit_price

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "owner": self.owner,
            "address": self.address,
            "service": self.service,
            "item": self.item,
            "quantity": round(self.quantity, 6),
            "unit": self.unit,
            "unit_price_usd": self.unit_price,
            "monthly_usd": round(self.monthly_usd, 4),
        }
        if self.free_quantity:
            out["free_quantity"] = round(self.free_quantity, 6)
        return out
