"""Who the credentials are: the account id, with credential failures turned into clear errors.

The answer is cached per user for :data:`CACHE_SECONDS`, keyed by a hash of the endpoint, the
profile and the access key id (never the key itself): a command run again within minutes makes
no STS call. New credentials (a new key, a new SSO session) have a new key id, so a new entry.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from typing import Any

from strands_deploy.aws.session import AwsContext
from strands_deploy.errors import StrandsDeployError
from strands_deploy.paths import shared_cache_dir

CACHE_SECONDS = 900.0
CACHE_FILE = "identity.json"


def caller_account(aws: AwsContext, env_name: str, profile: str | None) -> str:
    """The account id of the credentials (one STS call); errors say how to fix the credentials."""
    return caller_identity(aws, env_name, profile)[0]


def caller_identity(aws: AwsContext, env_name: str, profile: str | None) -> tuple[str, str]:
    """(account id, caller ARN) of the credentials (one STS call, or none when cached); errors
    say how to fix them."""
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

    where = f"environments.{env_name}"
    try:
        key = _cache_key(aws, profile)
        cached = _cached(key) if key else None
        if cached is not None:
            return cached
        ident = aws.client("sts").get_caller_identity()
        found = str(ident["Account"]), str(ident["Arn"])
        if key:
            _remember(key, found)
        return found
    except NoCredentialsError:
        raise StrandsDeployError(
            f"no AWS credentials found for environment {env_name!r}",
            where,
            f"run `aws configure{' --profile ' + profile if profile else ''}` or "
            "`aws sso login`, or set AWS_PROFILE",
        ) from None
    except ClientError as e:
        code = e.response.get("Error", {}).get("Code", "")
        raise StrandsDeployError(
            f"AWS rejected the credentials of environment {env_name!r} ({code})",
            where,
            "refresh them (`aws sso login` or new access keys) and try again",
        ) from None
    except BotoCoreError as e:
        raise StrandsDeployError(
            f"cannot reach AWS for environment {env_name!r}: {e}",
            where,
            "check the region, the endpoint and your network",
        ) from None


def _cache_key(aws: AwsContext, profile: str | None) -> str | None:
    """A hash naming these credentials, or None when they cannot be told apart (no key id)."""
    creds = aws.session().get_credentials()
    if creds is None:
        return None  # the STS call raises NoCredentialsError with its clear message
    key_id = getattr(creds, "access_key", None)
    if not key_id:
        return None
    blob = json.dumps([aws.endpoint_url, aws.region, profile, key_id])
    return hashlib.sha256(blob.encode()).hexdigest()[:32]


def _cache_path() -> Any:
    return shared_cache_dir() / CACHE_FILE


def _load() -> dict[str, Any]:
    try:
        data = json.loads(_cache_path().read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _cached(key: str) -> tuple[str, str] | None:
    entry = _load().get(key)
    if not isinstance(entry, dict):
        return None
    at = entry.get("at")
    if not isinstance(at, (int, float)) or not 0 <= time.time() - at < CACHE_SECONDS:
        return None
    account, arn = entry.get("account"), entry.get("arn")
    return (account, arn) if isinstance(account, str) and isinstance(arn, str) else None


def _remember(key: str, identity: tuple[str, str]) -> None:
    """Best effort: a cache that cannot be written costs one STS call next time, nothing else."""
    now = time.time()
    data = {k: v for k, v in _load().items() if isinstance(v, dict) and now - v.get("at", 0) < CACHE_SECONDS}
    data[key] = {"account": identity[0], "arn": identity[1], "at": now}
    path = _cache_path()
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(json.dumps(data))
        os.replace(tmp, path)
    except OSError:
        tmp.unlink(missing_ok=True)
