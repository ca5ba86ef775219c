import os

import boto3
from strands import tool

TABLE = os.environ["PROMOS_TABLE"]


@tool
def lookup_promo(code: str) -> str:
    """Look a promotion up by its code."""
    item = boto3.resource("dynamodb").Table(TABLE).get_item(Key={"code": code}).get("Item")
    return f"{code}: {item['discount']}% off" if item else f"{code}: no such promotion"
