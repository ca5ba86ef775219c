"""Physical names: ``{project}-{env}-{name}``, shortened with a hash where AWS limits length."""

from __future__ import annotations

import hashlib
import re

LIMITS = {
    "function": 64,
    "role": 64,
    "policy": 128,
    "layer": 64,
    "table": 255,
    "bucket": 63,
    "queue": 75,  # 80 minus room for "-dlq"
    "topic": 256,
    "alarm": 255,
    "api": 128,
    "authorizer": 128,
    "secret": 256,
    "parameter": 1011,
}


def shorten(name: str, limit: int) -> str:
    if len(name) <= limit:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    return f"{name[: limit - 9].rstrip('-')}-{digest}"


def physical_name(project: str, env: str, name: str, kind: str) -> str:
    full = f"{project}-{env}-{name}"
    if kind == "bucket":
        full = re.sub(r"[^a-z0-9-]", "-", full.lower())
    return shorten(full, LIMITS.get(kind, 64))


def env_var_name(resource: str, attr: str) -> str:
    return f"STRANDS_LINK_{re.sub(r'[^A-Za-z0-9]', '_', resource).upper()}_{attr.upper()}"
