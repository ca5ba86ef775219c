"""Zips over the direct-upload limit go through the artifacts bucket (S3Bucket/S3Key), keyed by
their content hash and uploaded once; without a bucket (emulated environments) they are sent
directly, with a warning. The limit is lowered through the props (no 50 MB file needed)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from strands_deploy.errors import StrandsDeployError
from strands_deploy.packaging.limits import DIRECT_UPLOAD_LIMIT
from strands_deploy.providers.base import Props, ProviderContext
from strands_deploy.providers.lambda_function import FunctionProps
from strands_deploy.providers.lambda_layer import LayerProps
from strands_deploy.providers.registry import get_provider
from tests.integration.providers.conftest import Notes
from tests.integration.providers.helpers import function_props, make_agent, make_role

BUCKET = "demo-test-artifacts-123456789012"
LAYER = "agent.support.deps"
FUNCTION = "agent.support.function"


@pytest.fixture(autouse=True)
def _user_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STRANDS_DEPLOY_CACHE_DIR", str(tmp_path / "user-cache"))


def layer_props(tmp_path: Path, **overrides: Any) -> Props:
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


def objects(raw: Callable[[str], Any]) -> dict[str, bytes]:
    s3 = raw("s3")
    listed = s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])
    return {o["Key"]: s3.get_object(Bucket=BUCKET, Key=o["Key"])["Body"].read() for o in listed}


def sha256_b64(data: bytes) -> str:
    import base64

    return base64.b64encode(hashlib.sha256(data).digest()).decode()


def test_the_limit_is_50_mb_unless_the_props_lower_it() -> None:
    assert DIRECT_UPLOAD_LIMIT == 50_000_000
    assert LayerProps.model_fields["direct_upload_limit"].default == DIRECT_UPLOAD_LIMIT
    assert FunctionProps.model_fields["direct_upload_limit"].default == DIRECT_UPLOAD_LIMIT
    assert LayerProps.model_fields["artifacts_bucket"].default is None


def test_a_large_layer_goes_through_the_artifacts_bucket_once(
    ctx: ProviderContext, raw: Callable[[str], Any], tmp_path: Path, api_calls: Callable[[str], list[str]]
) -> None:
    raw("s3").create_bucket(Bucket=BUCKET)
    provider = get_provider("aws.lambda.layer")
    p = layer_props(tmp_path, artifacts_bucket=BUCKET, direct_upload_limit=10)
    s3_calls = api_calls("s3")

    created = provider.create(ctx, LAYER, p)
    stored = objects(raw)
    ((key, body),) = stored.items()
    assert key == f"layer/{hashlib.sha256(body).hexdigest()}.zip"  # keyed by content
    version = raw("lambda").get_layer_version(LayerName="demo-test-support-deps", VersionNumber=1)
    assert version["Content"]["CodeSha256"] == sha256_b64(body)
    assert created.outputs["version"] == 1
    assert "PutObject" in s3_calls

    # the same zip again (another layer name): already in the bucket, not uploaded again
    s3_calls.clear()
    again = provider.create(ctx, LAYER, {**p, "name": "demo-test-other-deps"})
    assert again.outputs["version"] == 1
    assert s3_calls == ["HeadObject"]

    # a layer that fits is sent in the request
    s3_calls.clear()
    provider.create(
        ctx, LAYER, {**p, "name": "demo-test-small-deps", "direct_upload_limit": DIRECT_UPLOAD_LIMIT}
    )
    assert s3_calls == []


def test_a_large_function_zip_goes_through_the_artifacts_bucket(
    ctx: ProviderContext, raw: Callable[[str], Any], tmp_path: Path, api_calls: Callable[[str], list[str]]
) -> None:
    raw("s3").create_bucket(Bucket=BUCKET)
    role = make_role(raw)
    folder = make_agent(tmp_path)
    provider = get_provider("aws.lambda.function")
    props = function_props(role, folder, artifacts_bucket=BUCKET, direct_upload_limit=10)

    created = provider.create(ctx, FUNCTION, props)
    (body,) = objects(raw).values()
    assert created.outputs["code_sha256"] == sha256_b64(body)

    make_agent(tmp_path, folder, body="from strands import Agent\n\nagent = Agent(name='v2')\n")
    newer = {**props, "code": {**props["code"], "hash": "hash-2"}}
    lam_calls = api_calls("lambda")
    out = provider.update(ctx, FUNCTION, created.physical_id, props, newer, created.outputs)
    assert "UpdateFunctionCode" in lam_calls
    stored = objects(raw)
    assert len(stored) == 2
    new_body = next(b for b in stored.values() if b != body)
    assert out["code_sha256"] == sha256_b64(new_body)


def test_emulated_environments_take_a_large_zip_directly_with_a_warning(
    ctx: ProviderContext, tmp_path: Path, notes: Notes, api_calls: Callable[[str], list[str]]
) -> None:
    s3_calls = api_calls("s3")
    provider = get_provider("aws.lambda.layer")
    created = provider.create(ctx, LAYER, layer_props(tmp_path, direct_upload_limit=10))
    assert created.outputs["version"] == 1
    assert s3_calls == []
    (warning,) = [n for a, n in notes.notes if n.startswith("warning:")]
    assert "over the 10 bytes AWS accepts in a request" in warning
    assert "artifacts bucket" in warning


def test_a_missing_bucket_is_a_clear_error(ctx: ProviderContext, tmp_path: Path) -> None:
    provider = get_provider("aws.lambda.layer")
    with pytest.raises(StrandsDeployError) as info:
        provider.create(
            ctx, LAYER, layer_props(tmp_path, artifacts_bucket="no-such-bucket-x", direct_upload_limit=10)
        )
    assert "s3:PutObject" in info.value.what and info.value.where == LAYER
