"""Helpers shared by the resource handlers: tags, ownership, ARNs."""

from __future__ import annotations

import json
import urllib.parse
from typing import TYPE_CHECKING, Any

from strands_deploy.errors import StrandsDeployError

if TYPE_CHECKING:
    from strands_deploy.providers.base import Outputs, Props, ProviderContext

OWNER_KEYS = ("strands:project", "strands:environment")


def tags_of(props: Props) -> dict[str, str]:
    return {str(k): str(v) for k, v in (props.get("tags") or {}).items()}


def tag_list(tags: dict[str, str], key: str = "Key", value: str = "Value") -> list[dict[str, str]]:
    return [{key: k, value: v} for k, v in sorted(tags.items())]


def tag_dict(items: list[dict[str, Any]] | None, key: str = "Key", value: str = "Value") -> dict[str, str]:
    return {str(t[key]): str(t.get(value, "")) for t in items or []}


def tag_changes(old: dict[str, str], new: dict[str, str]) -> tuple[dict[str, str], list[str]]:
    """(tags to set, keys to remove) to go from ``old`` to ``new``."""
    to_set = {k: v for k, v in new.items() if old.get(k) != v}
    to_remove = sorted(k for k in old if k not in new)
    return to_set, to_remove


def owned(ctx: ProviderContext, props: Props, live_tags: dict[str, str]) -> bool:
    """True when live tags say this environment of this project made the resource.

    Used by ``find`` so a deterministic name that happens to exist elsewhere is never adopted.
    """
    want = tags_of(props) or ctx.tags_for()
    expected = {k: want.get(k) for k in OWNER_KEYS}
    if not expected["strands:project"]:
        expected["strands:project"] = ctx.project
    if not expected["strands:environment"]:
        expected["strands:environment"] = ctx.environment
    return all(live_tags.get(k) == v for k, v in expected.items())


def arn_parts(arn: str) -> tuple[str, str, str]:
    """(partition, region, account) of an ARN."""
    parts = arn.split(":")
    if len(parts) < 6 or parts[0] != "arn":
        raise ValueError(f"not an ARN: {arn!r}")
    return parts[1], parts[3], parts[4]


def function_name_of(name_or_arn: str) -> str:
    """Function name from a name or a (qualified) function ARN."""
    if name_or_arn.startswith("arn:"):
        return name_or_arn.split(":")[6]
    return name_or_arn.split(":")[0]


def gone(address: str, what: str) -> StrandsDeployError:
    """The error for a resource that vanished between our call and the read-back."""
    return StrandsDeployError(
        f"{what} disappeared while it was being changed",
        where=address,
        fix="run `strands-deploy deploy` again: it will be recreated",
    )


def require(outputs: Outputs | None, address: str, what: str) -> Outputs:
    """``outputs`` from a read right after a change; a missing resource there is an error."""
    if outputs is None:
        raise gone(address, what)
    return outputs


def partition_for(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def secret_value(ctx: ProviderContext, address: str, props: Props) -> str:
    """Resolve the value of a secret/parameter from its ``source``, at call time.

    The value is returned to the caller only: it must go to AWS (with ``redact=[value]``) and nowhere
    else: not outputs, not observed, not errors, not progress notes.
    """
    source = props.get("source")
    if not isinstance(source, dict) or not source:
        raise StrandsDeployError(
            "the value's source is missing",
            where=address,
            fix="give the resource `from_env: VAR` or `from_file: path` in strands.yaml",
        )
    if ctx.secret_value is None:
        raise StrandsDeployError(
            "this command cannot read secret values",
            where=address,
            fix="run `strands-deploy deploy`, which resolves `from_env`/`from_file` sources",
        )
    return str(ctx.secret_value(source))


def policy_document(doc: Any) -> dict[str, Any]:
    """An IAM policy document as IAM returns it (a dict, JSON text, or URL-encoded JSON) → dict."""
    if isinstance(doc, dict):
        return doc
    text = str(doc)
    try:
        parsed: dict[str, Any] = json.loads(text)
    except json.JSONDecodeError:
        parsed = json.loads(urllib.parse.unquote(text))
    return parsed
