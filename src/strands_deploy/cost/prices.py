"""Price tables: the one shipped with the package (``cost/data/prices.json``) or the user's own,
written by ``cost prices update`` into the user cache folder, which then takes precedence.

A table states its date and source; every forecast repeats them. Prices are USD: per unit as named
by the key (``requests_per_million``, ``gb_second_arm64``...) and, for models, per million tokens.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from strands_deploy.errors import StrandsDeployError
from strands_deploy.packaging.cache import shared_cache_dir

USER_TABLE = "prices.json"
# geography prefixes of cross-region inference profiles (us.anthropic...): priced as the model
PROFILE_PREFIXES = ("us-gov.", "us.", "eu.", "apac.", "jp.", "au.", "ca.", "global.")


@dataclass(frozen=True)
class ModelPrice:
    """USD per million tokens."""

    model: str  # the table's key that matched
    input: float
    output: float
    cache_read: float
    cache_write: float


@dataclass
class PriceTable:
    region: str
    date: str
    source: str
    services: dict[str, dict[str, float]]
    models: dict[str, dict[str, float]]
    free_tier: dict[str, float] = field(default_factory=dict)
    origin: str = "shipped"  # "shipped" or the path of the user's table
    regional: bool = True  # False: the region is not in the table, default_region prices are used

    def price(self, service: str, key: str) -> float:
        try:
            return float(self.services[service][key])
        except KeyError:
            raise StrandsDeployError(
                f"the price table ({self.origin}) has no price {service}.{key}",
                fix="run `strands-deploy cost prices update`, or delete the user table to use the shipped one",
            ) from None

    def model_price(self, model_id: str) -> ModelPrice | None:
        """The price of a model id or inference profile id (longest matching family), or None."""
        base = base_model_id(model_id)
        best = max((k for k in self.models if base.startswith(k)), key=len, default=None)
        if best is None:
            return None
        p = self.models[best]
        return ModelPrice(
            best,
            float(p["input"]),
            float(p["output"]),
            float(p.get("cache_read", p["input"])),
            float(p.get("cache_write", p["input"])),
        )

    def describe(self) -> str:
        where = "" if self.regional else f" (no prices for {self.region}: us-east-1 prices used)"
        return f"prices of {self.date} ({self.origin}){where}"

    def to_json(self) -> dict[str, Any]:
        return {"date": self.date, "source": self.source, "origin": self.origin, "region": self.region}


def base_model_id(model_id: str) -> str:
    """``us.anthropic.claude-...`` → ``anthropic.claude-...``; ARNs → the id after the last ``/``."""
    text = model_id.rsplit("/", 1)[-1] if model_id.startswith("arn:") else model_id
    for prefix in PROFILE_PREFIXES:
        if text.startswith(prefix):
            return text[len(prefix) :]
    return text


def user_table_path() -> Path:
    return shared_cache_dir() / "cost" / USER_TABLE


def shipped_document() -> dict[str, Any]:
    text = resources.files("strands_deploy.cost").joinpath("data/prices.json").read_text()
    data: dict[str, Any] = json.loads(text)
    return data


def read_document(path: Path | None = None) -> tuple[dict[str, Any], str]:
    """(table document, origin): ``path``, else the user's table when there is one, else shipped."""
    candidate = path or user_table_path()
    if path is not None or candidate.is_file():
        try:
            data = json.loads(candidate.read_text())
        except (OSError, ValueError) as err:
            raise StrandsDeployError(
                f"cannot read the price table {candidate}: {err}",
                fix=f"delete {candidate} to use the shipped table, or run `strands-deploy cost prices update`",
            ) from None
        return data, str(candidate)
    return shipped_document(), "shipped"


def load_prices(region: str, path: Path | None = None, document: dict[str, Any] | None = None) -> PriceTable:
    """The prices of ``region``: the default region's, with the region's overrides merged in."""
    data, origin = (document, "given") if document is not None else read_document(path)
    overrides = data.get("region_overrides", {})
    services = {k: dict(v) for k, v in data["services"].items()}
    regional = region == data.get("default_region", "us-east-1") or region in overrides
    for svc, prices in overrides.get(region, {}).items():
        services.setdefault(svc, {}).update(prices)
    models = {k: dict(v) for k, v in data["models"].items()}
    for key, prices in data.get("model_region_overrides", {}).get(region, {}).items():
        models.setdefault(key, {}).update(prices)
    return PriceTable(
        region=region,
        date=str(data["date"]),
        source=str(data.get("source", "")),
        services=services,
        models=models,
        free_tier={k: float(v) for k, v in data.get("free_tier", {}).items()},
        origin=origin,
        regional=regional,
    )


def write_user_table(document: dict[str, Any], path: Path | None = None) -> Path:
    """Write ``document`` as the user's table, atomically (temp file, fsync, replace)."""
    target = path or user_table_path()
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as fh:
            json.dump(document, fh, indent=1, sort_keys=True)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target
