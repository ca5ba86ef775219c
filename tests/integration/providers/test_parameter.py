from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from strands_deploy.providers.base import Props, ProviderContext
from strands_deploy.providers.registry import get_provider
from tests.integration.providers.conftest import Notes
from tests.integration.providers.helpers import TAGS

ADDR = "resource.cfg.parameter"
NAME = "/demo/test/cfg"
VALUE = "config-value-from-file"
VALUE2 = "config-value-from-file-v2"


def props(**overrides: Any) -> Props:
    p: Props = {
        "name": NAME,
        "source": {"file": "cfg.txt"},
        "secure": True,
        "fingerprint": "fp-1",
        "tags": dict(TAGS),
    }
    p.update(overrides)
    return p


def test_parameter_lifecycle(
    ctx: ProviderContext, raw: Callable[[str], Any], tmp_path: Path, notes: Notes
) -> None:
    (tmp_path / "cfg.txt").write_text(VALUE)
    provider = get_provider("aws.ssm.parameter")
    ssm = raw("ssm")

    created = provider.create(ctx, ADDR, props())
    assert created.physical_id == NAME
    assert created.outputs["arn"] == f"arn:aws:ssm:us-east-1:123456789012:parameter{NAME}"
    stored = ssm.get_parameter(Name=NAME, WithDecryption=True)["Parameter"]
    assert stored["Type"] == "SecureString" and stored["Value"] == VALUE
    tags = {
        t["Key"]: t["Value"]
        for t in ssm.list_tags_for_resource(ResourceType="Parameter", ResourceId=NAME)["TagList"]
    }
    assert tags["strands:environment"] == "test"

    live = provider.read(ctx, ADDR, NAME, props())
    assert live is not None and provider.drift(props(), live) == {}

    (tmp_path / "cfg.txt").write_text(VALUE2)
    new = props(secure=False, fingerprint="fp-2", tags={**TAGS, "team": "core"})
    out = provider.update(ctx, ADDR, NAME, props(), new, created.outputs)
    stored = ssm.get_parameter(Name=NAME)["Parameter"]
    assert stored["Type"] == "String" and stored["Value"] == VALUE2
    live = provider.read(ctx, ADDR, NAME, new)
    assert live is not None
    assert live["observed"]["secure"] is False and live["observed"]["tags"]["team"] == "core"
    # a String parameter's value is readable in clear: read() must still never return it
    for thing in (created.outputs, out, live, notes.notes):
        text = json.dumps(thing, default=str)
        assert VALUE not in text and VALUE2 not in text

    provider.delete(ctx, ADDR, NAME, new, out)
    assert provider.read(ctx, ADDR, NAME, new) is None
    provider.delete(ctx, ADDR, NAME, new, out)


def test_parameter_deleted_behind_our_back(
    ctx: ProviderContext, raw: Callable[[str], Any], tmp_path: Path
) -> None:
    (tmp_path / "cfg.txt").write_text(VALUE)
    provider = get_provider("aws.ssm.parameter")
    created = provider.create(ctx, ADDR, props())
    raw("ssm").delete_parameter(Name=NAME)
    assert provider.read(ctx, ADDR, created.physical_id, props()) is None


def test_parameter_find(ctx: ProviderContext, raw: Callable[[str], Any], tmp_path: Path) -> None:
    provider = get_provider("aws.ssm.parameter")
    assert provider.find(ctx, ADDR, props()) is None
    raw("ssm").put_parameter(
        Name=NAME, Value="x", Type="SecureString", Tags=[{"Key": k, "Value": v} for k, v in TAGS.items()]
    )
    found = provider.find(ctx, ADDR, props())
    assert found is not None and found.physical_id == NAME
