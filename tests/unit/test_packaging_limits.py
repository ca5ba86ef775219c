"""Lambda's size limits are checked when a zip is built, before any AWS call: over 250 MB
unzipped is refused with the largest packages named; over 50 MB zipped goes through S3."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from strands_deploy.errors import StrandsDeployError
from strands_deploy.packaging.build import build_code_zip, build_layer_zip
from strands_deploy.packaging.cache import ENV_VAR
from strands_deploy.packaging.limits import (
    MAX_LAYERS,
    UNZIPPED_LIMIT,
    check_layer_count,
    check_unzipped,
    human,
    largest_entries,
    package_of,
)


def layer_zip(path: Path, sizes: dict[str, int]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, size in sizes.items():
            zf.writestr(name, b"\0" * size)
    return path


def test_the_largest_packages_are_named_with_their_sizes(tmp_path: Path) -> None:
    mb = 1024 * 1024
    z = layer_zip(
        tmp_path / "layer.zip",
        {
            "python/.strands-layer": 10,
            "python/torch/lib/libtorch.so": 9 * mb,
            "python/torch-2.4.0.dist-info/RECORD": 1 * mb,
            "python/numpy/core.so": 3 * mb,
            "python/numpy.libs/openblas.so": 2 * mb,
            "python/scipy/x.so": 4 * mb,
            "python/six.py": 1000,
            "python/pandas/a.py": 6 * mb,
            "python/pyarrow/a.so": 7 * mb,
        },
    )
    assert largest_entries(z, "python/") == [
        ("torch", 10 * mb),
        ("pyarrow", 7 * mb),
        ("pandas", 6 * mb),
        ("numpy", 5 * mb),
        ("scipy", 4 * mb),
    ]
    assert check_unzipped(z, layer=True, where="reqs.txt", limit=40 * mb) > 30 * mb
    with pytest.raises(StrandsDeployError) as info:
        check_unzipped(z, layer=True, where="agents/bot/requirements.txt", limit=30 * mb)
    err = info.value
    assert err.where == "agents/bot/requirements.txt"
    assert "the dependency layer is 32.0 MB unzipped" in err.what
    assert (
        "Largest packages: torch 10.0 MB, pyarrow 7.0 MB, pandas 6.0 MB, numpy 5.0 MB, scipy 4.0 MB"
        in err.what
    )
    assert err.fix and "trim the requirements" in err.fix and "container-image" in err.fix


def test_helpers() -> None:
    assert human(512) == "512 bytes" and human(3 * 1024 * 1024) == "3.0 MB"
    assert package_of("numpy-1.26.4.dist-info") == package_of("numpy.libs") == "numpy"
    assert package_of("typing_extensions.py") == "typing_extensions"
    assert package_of("PyYAML-6.0.dist-info") == "pyyaml"
    check_layer_count(MAX_LAYERS, "agent.a")
    with pytest.raises(StrandsDeployError, match="at most 5"):
        check_layer_count(MAX_LAYERS + 1, "agent.a")


def big_zip(path: Path, prefix: str) -> Path:
    """A zip over 250 MB unzipped (zeros: a small file), written in chunks."""
    path.parent.mkdir(parents=True, exist_ok=True)
    chunk = b"\0" * (8 * 1024 * 1024)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, parts in (
            (f"{prefix}big/data.bin", UNZIPPED_LIMIT // len(chunk) + 1),
            (f"{prefix}small.py", 1),
        ):
            with zf.open(name, "w", force_zip64=True) as fh:
                for _ in range(parts):
                    fh.write(chunk)
    return path


def test_an_oversized_layer_is_refused_before_any_upload(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "user-cache"))
    (tmp_path / "agents" / "bot").mkdir(parents=True)
    (tmp_path / "agents" / "bot" / "requirements.txt").write_text("# none\n")
    # a layer in the cache (built by an older version, say) is checked too
    big_zip(tmp_path / "cache" / "layers" / "aws-python3.12-arm64-h1.zip", "python/")
    with pytest.raises(StrandsDeployError) as info:
        build_layer_zip(
            tmp_path, "agents/bot/requirements.txt", "h1", "python3.12", "arm64", "aws", tmp_path / "cache"
        )
    assert "Largest packages: big 256.0 MB, small 8.0 MB" in info.value.what


def test_oversized_code_is_refused_and_not_cached(tmp_path: Path) -> None:
    folder = tmp_path / "agents" / "bot"
    folder.mkdir(parents=True)
    (folder / "agent.py").write_text("agent = None\n")
    with open(folder / "weights.bin", "wb") as fh:  # sparse: no disk used
        fh.truncate(UNZIPPED_LIMIT + 1)
    with pytest.raises(StrandsDeployError) as info:
        build_code_zip(tmp_path, "agents/bot", "h1", tmp_path / "cache")
    assert info.value.where == "agents/bot"
    assert "Largest entries: weights.bin 250.0 MB" in info.value.what
    assert info.value.fix and "out of the agent folder" in info.value.fix
    assert not list((tmp_path / "cache").rglob("*.zip")) and not list((tmp_path / "cache").rglob("*.tmp"))
