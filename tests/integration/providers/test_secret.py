from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from typing import Any

import pytest

from strands_deploy.errors import StrandsDeployError
from strands_deploy.providers.base import Props, ProviderContext
from strands_deploy.providers.registry import get_provider
from tests.integration.providers.conftest import Notes
from tests.integration.providers.helpers import TAGS

ADDR = "resource.openai.secret"
NAME = "demo/test/openai"
VALUE = "sk-very-secret-0001"
VALUE2 = "sk-very-secret-0002"


def props(**overrides: Any) -> Props:
    p: Props = {"name": NAME, "source": {"env": "OPENAI_KEY"}, "fingerprint": "fp-1", "tags": dict(TAGS)}
    p.update(overrides)
    return p


def assert_no_value(*things: Any) -> None:
    for thing in things:
        text = json.dumps(thing, default=str)
        assert VALUE not in text and VALUE2 not in text


def test_secret_lifecycle(
    ctx: ProviderContext, raw: Callable[[str], Any], secrets: dict[str, str], notes: Notes
) -> None:
    secrets["OPENAI_KEY"] = VALUE
    provider = get_provider("aws.secretsmanager.secret")
    sm = raw("secretsmanager")

    created = provider.create(ctx, ADDR, props())
    assert created.physical_id == NAME
    assert created.outputs["arn"].startswith(f"arn:aws:secretsmanager:us-east-1:123456789012:secret:{NAME}-")
    assert sm.get_secret_value(SecretId=NAME)["SecretString"] == VALUE
    tags = {t["Key"]: t["Value"] for t in sm.describe_secret(SecretId=NAME)["Tags"]}
    assert tags["strands:project"] == "demo"

    live = provider.read(ctx, ADDR, NAME, props())
    assert live is not None and provider.drift(props(), live) == {}

    # a new value shows up as a new fingerprint, and is read from the source at call time
    secrets["OPENAI_KEY"] = VALUE2
    new = props(fingerprint="fp-2", tags={**TAGS, "team": "core"})
    out = provider.update(ctx, ADDR, NAME, props(), new, created.outputs)
    assert sm.get_secret_value(SecretId=NAME)["SecretString"] == VALUE2
    live = provider.read(ctx, ADDR, NAME, new)
    assert live is not None and live["observed"]["tags"]["team"] == "core"
    assert_no_value(created.outputs, out, live, notes.notes)

    provider.delete(ctx, ADDR, NAME, new, out)
    assert provider.read(ctx, ADDR, NAME, new) is None  # scheduled for deletion counts as gone
    provider.delete(ctx, ADDR, NAME, new, out)

    # destroy then deploy again: the scheduled secret is restored with the current value
    secrets["OPENAI_KEY"] = VALUE
    again = provider.create(ctx, ADDR, props())
    assert again.outputs["arn"] == created.outputs["arn"]
    assert sm.get_secret_value(SecretId=NAME)["SecretString"] == VALUE


def test_secret_deleted_behind_our_back(
    ctx: ProviderContext, raw: Callable[[str], Any], secrets: dict[str, str]
) -> None:
    secrets["OPENAI_KEY"] = VALUE
    provider = get_provider("aws.secretsmanager.secret")
    created = provider.create(ctx, ADDR, props())
    raw("secretsmanager").delete_secret(SecretId=NAME, ForceDeleteWithoutRecovery=True)
    assert provider.read(ctx, ADDR, created.physical_id, props()) is None
    assert provider.find(ctx, ADDR, props()) is None


def test_secret_value_never_in_errors(
    ctx: ProviderContext, raw: Callable[[str], Any], secrets: dict[str, str]
) -> None:
    # The name is taken by a secret outside the state: the error must not carry the value.
    raw("secretsmanager").create_secret(Name=NAME, SecretString="someone else's")
    secrets["OPENAI_KEY"] = VALUE
    provider = get_provider("aws.secretsmanager.secret")
    assert provider.find(ctx, ADDR, props()) is None  # untagged: not ours
    with pytest.raises(StrandsDeployError) as info:
        provider.create(ctx, ADDR, props())
    err = info.value
    assert err.where == ADDR and "secretsmanager:CreateSecret" in err.what
    assert err.__cause__ is None  # the botocore error (and its request) is not chained
    assert_no_value(err.to_dict(), str(err), repr(err.args))


def test_secret_without_a_resolver(ctx: ProviderContext) -> None:
    blind = dataclasses.replace(ctx, secret_value=None)
    with pytest.raises(StrandsDeployError) as info:
        get_provider("aws.secretsmanager.secret").create(blind, ADDR, props())
    assert info.value.where == ADDR
