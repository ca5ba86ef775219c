from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from strands_deploy.providers.base import Props, ProviderContext
from strands_deploy.providers.registry import get_provider

ADDR = "agent.support.deps"


def props(tmp_path: Path, **overrides: Any) -> Props:
    # Only comments: nothing to install, so nothing is downloaded.
    (tmp_path / "agents" / "support").mkdir(parents=True, exist_ok=True)
    (tmp_path / "agents" / "support" / "requirements.txt").write_text("# no dependencies\n")
    p: Props = {
        "name": "demo-test-support-deps",
        "requirements_file": "agents/support/requirements.txt",
        "requirements_hash": "req-1",
        "runtime": "python3.12",
        "architecture": "arm64",
    }
    p.update(overrides)
    return p


def test_layer_lifecycle(ctx: ProviderContext, raw: Callable[[str], Any], tmp_path: Path) -> None:
    provider = get_provider("aws.lambda.layer")
    lam = raw("lambda")
    p = props(tmp_path)

    created = provider.create(ctx, ADDR, p)
    arn = created.physical_id
    assert arn == "arn:aws:lambda:us-east-1:123456789012:layer:demo-test-support-deps:1"
    assert created.outputs["version"] == 1
    assert (
        created.outputs["layer_arn"] == "arn:aws:lambda:us-east-1:123456789012:layer:demo-test-support-deps"
    )
    version = lam.get_layer_version(LayerName=created.outputs["layer_arn"], VersionNumber=1)
    assert version["CompatibleRuntimes"] == ["python3.12"]
    assert version["CompatibleArchitectures"] == ["arm64"]
    assert "req-1" in version["Description"]
    # the published zip is the one packaging built (cached by hash)
    cached = list((ctx.cache_dir / "layers").glob("*req-1.zip"))
    assert len(cached) == 1
    assert "python/.strands-layer" in zipfile.ZipFile(io.BytesIO(cached[0].read_bytes())).namelist()

    live = provider.read(ctx, ADDR, arn, p)
    assert live is not None and live["observed"]["runtime"] == "python3.12"
    assert provider.drift(p, live) == {}

    # any property change is a replacement: a new version is published, the old one deleted
    assert {"requirements_hash", "runtime", "architecture"} <= provider.replace_on
    new = props(tmp_path, requirements_hash="req-2", architecture="x86_64")
    replacement = provider.create(ctx, ADDR, new)
    assert replacement.outputs["version"] == 2
    provider.delete(ctx, ADDR, arn, p, created.outputs)
    assert provider.read(ctx, ADDR, arn, p) is None
    live = provider.read(ctx, ADDR, replacement.physical_id, new)
    assert live is not None and live["observed"]["architecture"] == "x86_64"
    provider.delete(ctx, ADDR, arn, p, created.outputs)  # already gone: silent


def test_layer_deleted_behind_our_back(
    ctx: ProviderContext, raw: Callable[[str], Any], tmp_path: Path
) -> None:
    provider = get_provider("aws.lambda.layer")
    created = provider.create(ctx, ADDR, props(tmp_path))
    raw("lambda").delete_layer_version(LayerName="demo-test-support-deps", VersionNumber=1)
    assert provider.read(ctx, ADDR, created.physical_id, props(tmp_path)) is None


def test_layer_find_recognises_a_published_version(ctx: ProviderContext, tmp_path: Path) -> None:
    provider = get_provider("aws.lambda.layer")
    assert provider.find(ctx, ADDR, props(tmp_path)) is None
    created = provider.create(ctx, ADDR, props(tmp_path))
    found = provider.find(ctx, ADDR, props(tmp_path))
    assert found is not None and found.physical_id == created.physical_id
    assert provider.find(ctx, ADDR, props(tmp_path, requirements_hash="other")) is None
