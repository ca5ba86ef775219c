"""Read current prices from the AWS Price List API (the ``pricing`` client, in us-east-1).

:func:`fetch_prices` returns the prices it found, in the price table's keys (``services`` →
``{"lambda": {"requests_per_million": 0.2, ...}}``); a price it cannot find is left out (the caller
keeps the shipped one and says so). Bedrock token prices are not read: the Price List names model
products inconsistently across models, so the shipped table's model prices are kept.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from strands_deploy.aws.errors import _aws_errors, to_deploy_error

PRICING_REGION = "us-east-1"  # the Price List API's endpoint; it answers for every region


@dataclass(frozen=True)
class Spec:
    service: str  # price table service key
    key: str  # price table price key
    service_code: str  # Price List service code
    filters: tuple[tuple[str, str], ...]  # attribute → value (TERM_MATCH)
    scale: float  # Price List unit → table unit (per million requests: 1e6)


SPECS = (
    Spec("lambda", "requests_per_million", "AWSLambda", (("group", "AWS-Lambda-Requests"),), 1e6),
    Spec("lambda", "gb_second_x86_64", "AWSLambda", (("group", "AWS-Lambda-Duration"),), 1.0),
    Spec("lambda", "gb_second_arm64", "AWSLambda", (("group", "AWS-Lambda-Duration-ARM"),), 1.0),
    Spec("apigateway", "http_requests_per_million", "AmazonApiGateway", (("operation", "ApiGatewayHttpApi"),), 1e6),
    Spec("dynamodb", "read_request_units_per_million", "AmazonDynamoDB", (("group", "DDB-ReadUnits"),), 1e6),
    Spec("dynamodb", "write_request_units_per_million", "AmazonDynamoDB", (("group", "DDB-WriteUnits"),), 1e6),
    Spec("dynamodb", "storage_gb_month", "AmazonDynamoDB", (("volumeType", "Amazon DynamoDB - Indexed DataStore"),), 1.0),
    Spec("s3", "storage_gb_month", "AmazonS3", (("volumeType", "Standard"),), 1.0),
    Spec("logs", "ingestion_gb", "AmazonCloudWatch", (("group", "Ingested Logs"),), 1.0),
    Spec("sqs", "requests_per_million", "AWSQueueService", (("queueType", "Standard"),), 1e6),
    Spec("secretsmanager", "secret_month", "AWSSecretsManager", (("group", "AWSSecretsManager-Secrets"),), 1.0),
)  # fmt: skip


def first_tier_usd(product: dict[str, Any]) -> float | None:
    """The on-demand USD price of the first tier (the dimension whose range begins at 0)."""
    for term in (product.get("terms", {}).get("OnDemand") or {}).values():
        dims = list((term.get("priceDimensions") or {}).values())
        dims.sort(key=lambda d: float(d.get("beginRange", "0") or 0))
        for dim in dims:
            usd = (dim.get("pricePerUnit") or {}).get("USD")
            if usd is not None and float(usd) > 0:
                return float(usd)
    return None


def fetch_prices(client: Any, region: str) -> tuple[dict[str, dict[str, float]], list[str]]:
    """(prices found, ``service.key`` of those not found) for ``region``.

    AWS failures (no access to ``pricing:GetProducts``, no network) raise StrandsDeployError."""
    found: dict[str, dict[str, float]] = {}
    missing: list[str] = []
    for spec in SPECS:
        filters = [{"Type": "TERM_MATCH", "Field": "regionCode", "Value": region}]
        filters += [{"Type": "TERM_MATCH", "Field": f, "Value": v} for f, v in spec.filters]
        try:
            resp = client.get_products(ServiceCode=spec.service_code, Filters=filters, MaxResults=10)
        except _aws_errors() as err:
            raise to_deploy_error(err, "cost prices update", "pricing:GetProducts") from err
        prices = [
            first_tier_usd(json.loads(p) if isinstance(p, str) else p) for p in resp.get("PriceList", [])
        ]
        known = [p for p in prices if p is not None]
        if known:
            found.setdefault(spec.service, {})[spec.key] = max(known) * spec.scale
        else:
            missing.append(f"{spec.service}.{spec.key}")
    return found, missing
