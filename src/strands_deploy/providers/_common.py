"""Helpers shared by the resource handlers: tags, ownership, ARNs, pagination."""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Callable, Collection, Iterator, Mapping
from typing import TYPE_CHECKING, Any, Literal

from strands_deploy.aws.errors import AwsCallError, action_for, call, is_not_found, to_deploy_error
from strands_deploy.errors import StrandsDeployError

if TYPE_CHECKING:
    from strands_deploy.providers.base import Outputs, ProviderContext

OWNER_KEYS = ("strands:project", "strands:environment")

Ownership = Literal["ours", "foreign", "untagged"]


def tag_list(tags: dict[str, str], key: str = "Key", value: str = "Value") -> list[dict[str, str]]:
    return [{key: k, value: v} for k, v in sorted(tags.items())]


def tag_dict(items: list[dict[str, Any]] | None, key: str = "Key", value: str = "Value") -> dict[str, str]:
    return {str(t[key]): str(t.get(value, "")) for t in items or []}


def tag_changes(old: Mapping[str, str] | None, new: Mapping[str, str]) -> tuple[dict[str, str], list[str]]:
    """(tags to set, keys to remove) to go from ``old`` (None: unknown, set them all) to ``new``."""
    old = old or {}
    to_set = {k: v for k, v in new.items() if old.get(k) != v}
    to_remove = sorted(k for k in old if k not in new)
    return to_set, to_remove


def owned(ctx: ProviderContext, tags: Mapping[str, str], live_tags: Mapping[str, str]) -> bool:
    """True when live tags say this environment of this project made the resource.

    ``tags`` are the resource's desired tags (its props); the owner tags missing there come from
    ``ctx``. Used by ``find`` so a deterministic name that happens to exist elsewhere is never adopted.
    """
    want = dict(tags) or ctx.tags_for()
    expected = {k: want.get(k) for k in OWNER_KEYS}
    if not expected["strands:project"]:
        expected["strands:project"] = ctx.project
    if not expected["strands:environment"]:
        expected["strands:environment"] = ctx.environment
    return all(live_tags.get(k) == v for k, v in expected.items())


def ownership(ctx: ProviderContext, live_tags: Mapping[str, str] | None) -> Ownership:
    """Whose a live resource is, by its ``strands:project`` / ``strands:environment`` tags.

    - ``"foreign"``: a tag present names another project or environment (never delete or adopt it);
    - ``"ours"``: both tags present and naming this project and environment;
    - ``"untagged"``: neither tag present, or ``live_tags`` is None (a type that cannot carry tags,
      or tags that could not be read). One tag present and matching, the other absent, is also
      ``"untagged"``: nothing says it is someone else's, nothing proves it is ours.
    """
    if not live_tags:
        return "untagged"
    expected = {"strands:project": ctx.project, "strands:environment": ctx.environment}
    present = {k: live_tags[k] for k in OWNER_KEYS if k in live_tags}
    if any(value != expected[key] for key, value in present.items()):
        return "foreign"
    return "ours" if len(present) == len(OWNER_KEYS) else "untagged"


def _is_aws_error(err: BaseException) -> bool:
    """A botocore ClientError/BotoCoreError (or subclass), recognised without importing botocore."""
    return any(cls.__module__ == "botocore.exceptions" for cls in type(err).__mro__)


def paginate(
    address: str, client: Any, method: str, /, *, missing_ok: bool = False, **kwargs: Any
) -> Iterator[dict[str, Any]]:
    """The pages of ``client.<method>(**kwargs)`` through botocore's paginator.

    Failures are converted as :func:`strands_deploy.aws.errors.call` converts them (address and
    IAM action named); with ``missing_ok``, AWS saying the resource listed does not exist simply
    ends the pages. Pages are fetched lazily: a caller that finds what it looks for stops early.
    """
    service = getattr(getattr(client.meta, "service_model", None), "service_name", None)
    pages = iter(client.get_paginator(method).paginate(**kwargs))
    while True:
        try:
            page = next(pages)
        except StopIteration:
            return
        except Exception as err:
            if not _is_aws_error(err):
                raise
            if missing_ok and is_not_found(err, service):
                return
            raise to_deploy_error(err, address, action_for(client, method)) from err
        yield page


def paginate_or_none(address: str, client: Any, method: str, /, **kwargs: Any) -> list[dict[str, Any]] | None:
    """Every page of :func:`paginate`, or ``None`` when AWS says the resource listed is gone."""
    service = getattr(getattr(client.meta, "service_model", None), "service_name", None)
    try:
        return list(paginate(address, client, method, **kwargs))
    except AwsCallError as err:
        if is_not_found(err, service):
            return None
        raise


def call_unless(
    address: str, client: Any, method: str, /, codes: Collection[str], **kwargs: Any
) -> Any | None:
    """:func:`call`, but ``None`` when AWS answers with one of the error ``codes``
    (``NoSuchTagSet`` for a bucket without tags...)."""
    try:
        return call(address, client, method, **kwargs)
    except AwsCallError as err:
        if err.code in codes:
            return None
        raise


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


def secret_value(ctx: ProviderContext, address: str, source: Mapping[str, str]) -> str:
    """Resolve the value of a secret/parameter from its ``source``, at call time.

    The value is returned to the caller only: it must go to AWS (with ``redact=[value]``) and nowhere
    else: not outputs, not observed, not errors, not progress notes.
    """
    if not source:
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
    return str(ctx.secret_value(dict(source)))


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


def read_at_once(first: Callable[[], Any], *rest: Callable[[], Any]) -> list[Any] | None:
    """Run a resource's reads at once (one round trip instead of one per call): ``first`` says
    whether the resource exists; when it answers ``None`` the resource is gone, and whatever the
    other reads raised (the resource vanished under them) is ignored. Else every result, in order;
    the first error of the others is raised."""
    from concurrent.futures import ThreadPoolExecutor

    if not rest:
        found = first()
        return None if found is None else [found]
    with ThreadPoolExecutor(max_workers=len(rest)) as pool:
        futures = [pool.submit(fn) for fn in rest]
        found = first()
        if found is None:
            for f in futures:
                f.exception()  # wait, and drop: the resource is gone
            return None
        return [found, *(f.result() for f in futures)]
