"""Build the code zip and the dependency layer zip, cached on disk by content hash.

Both builds are idempotent and atomic (build in a temp path, then ``os.replace``), and serialised
per output path so two threads asking for the same layer build it once (and, for layers in the
shared per-user cache, two processes). Both check Lambda's unzipped limit before the zip is used.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
import zipfile
from pathlib import Path

from strands_deploy.errors import StrandsDeployError
from strands_deploy.packaging.cache import build_lock, place, shared_cache_dir, usable_dir
from strands_deploy.packaging.hashing import (
    ADAPTER,
    ADAPTER_NAME,
    code_root,
    iter_code_files,
    read_code_file,
)
from strands_deploy.packaging.limits import check_files, check_unzipped
from strands_deploy.packaging.requirements import Requirements, load_requirements, read_requirements

__all__ = ["build_code_zip", "build_layer_zip", "read_requirements"]

_locks: dict[str, threading.RLock] = {}
_locks_guard = threading.Lock()
ZIP_DATE = (1980, 1, 1, 0, 0, 0)  # fixed timestamps: identical inputs give an identical zip


def _lock_for(path: Path) -> threading.RLock:
    with _locks_guard:
        return _locks.setdefault(str(path), threading.RLock())


def _add(zf: zipfile.ZipFile, arcname: str, data: bytes, mode: int = 0o644) -> None:
    info = zipfile.ZipInfo(arcname, ZIP_DATE)
    info.external_attr = (0o100000 | mode) << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    zf.writestr(info, data)


def build_code_zip(project_dir: Path, code_path: str, code_hash: str, cache_dir: Path) -> Path:
    """Zip the agent folder plus the runtime adapter (as ``_strands_runtime.py``).

    A StrandsDeployError, before any AWS call, when the code alone is over Lambda's unzipped limit.
    """
    root = code_root(project_dir, code_path).resolve()
    if not root.is_dir():
        raise StrandsDeployError(
            f"agent folder {code_path!r} does not exist",
            where=str(project_dir / "strands.yaml"),
            fix="fix the agent's `path` in strands.yaml",
        )
    out = cache_dir / "code" / f"{code_hash}.zip"
    with _lock_for(out):
        if out.exists():
            check_unzipped(out, layer=False, where=code_path)
            return out
        files = list(iter_code_files(root))
        check_files(files, where=code_path)  # before reading anything
        out.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=out.parent, suffix=".tmp")
        os.close(fd)
        try:
            with zipfile.ZipFile(tmp, "w") as zf:
                # the same walker as code_hash: the zip holds exactly the files the hash covers
                for rel, path in files:
                    _add(zf, rel, read_code_file(path))
                _add(zf, ADAPTER_NAME, ADAPTER.read_bytes())
            check_unzipped(Path(tmp), layer=False, where=code_path)
            os.replace(tmp, out)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        return out


def _unsatisfied(requirements: list[str]) -> list[str]:
    """Requirements the running interpreter does not already satisfy (local target only).

    The local cloud runs functions with this interpreter, so what it already has need not be
    installed again: a local deploy of an agent needing only strands-agents makes no download.
    """
    from importlib.metadata import PackageNotFoundError, version

    from packaging.requirements import InvalidRequirement, Requirement

    missing = []
    for line in requirements:
        try:
            req = Requirement(line)
        except InvalidRequirement:
            missing.append(line)
            continue
        if req.marker is not None and not req.marker.evaluate():
            continue
        try:
            have = version(req.name)
        except PackageNotFoundError:
            missing.append(line)
            continue
        if req.specifier and not req.specifier.contains(have, prereleases=True):
            missing.append(line)
    return missing


def build_layer_zip(
    project_dir: Path,
    requirements_file: str,
    requirements_hash: str,
    runtime: str,
    architecture: str,
    target: str,
    cache_dir: Path,
) -> Path:
    """pip-install the requirements into ``python/`` and zip it, once per hash and platform.

    ``requirements_file`` (relative to the project) is a requirements file, a ``pyproject.toml``
    or a ``uv.lock`` (see :mod:`~strands_deploy.packaging.requirements`). Layers for AWS are built
    once per machine in the shared cache (:mod:`~strands_deploy.packaging.cache`) and linked into
    the project's ``cache_dir``; layers for the local cloud depend on this interpreter's packages
    and stay in the project. A StrandsDeployError, before any AWS call, when the layer is over
    Lambda's unzipped limit.
    """
    req_path = project_dir / requirements_file
    name = f"{target}-{runtime}-{architecture}-{requirements_hash}.zip"
    out = cache_dir / "layers" / name
    with _lock_for(out):
        if out.exists():
            check_unzipped(out, layer=True, where=requirements_file)
            return out
        reqs = load_requirements(req_path)
        # a local-path requirement's files are not in the hash: such a layer is not shared
        shared_dir = usable_dir(shared_cache_dir() / "layers") if target == "aws" and not reqs.local else None
        if shared_dir is None:
            _build_layer(
                reqs, req_path, requirements_file, requirements_hash, runtime, architecture, target, out
            )
        else:
            built = shared_dir / name
            # other projects (other processes) may be building the same layer: built once
            with _lock_for(built), build_lock(built):
                if not built.exists():
                    _build_layer(
                        reqs,
                        req_path,
                        requirements_file,
                        requirements_hash,
                        runtime,
                        architecture,
                        target,
                        built,
                    )
            place(built, out)
        check_unzipped(out, layer=True, where=requirements_file)
        return out


def _build_layer(
    reqs: Requirements,
    req_path: Path,
    source: str,
    requirements_hash: str,
    runtime: str,
    architecture: str,
    target: str,
    out: Path,
) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    lines = list(reqs.lines)
    if target == "local":
        lines = _unsatisfied(lines)
    with tempfile.TemporaryDirectory(dir=out.parent) as tmp:
        site = Path(tmp) / "python"
        site.mkdir()
        if any(not line.startswith("-") or line.startswith(("-e", "--editable")) for line in lines):
            listing = Path(tmp) / "requirements.txt"
            listing.write_text("\n".join(lines) + "\n", encoding="utf-8")
            _pip_install(listing, req_path.parent, site, runtime, architecture, target, source)
        zip_tmp = Path(tmp) / "layer.zip"
        with zipfile.ZipFile(zip_tmp, "w") as zf:
            # keep the python/ folder even when empty: a valid, tiny layer
            _add(zf, "python/.strands-layer", f"{requirements_hash}\n".encode())
            for dirpath, dirnames, filenames in os.walk(site):
                dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
                for name in sorted(filenames):
                    if name.endswith(".pyc"):
                        continue
                    path = Path(dirpath) / name
                    mode = 0o755 if os.access(path, os.X_OK) else 0o644
                    _add(zf, path.relative_to(tmp).as_posix(), path.read_bytes(), mode)
        # refused before it is cached: an oversized layer is never uploaded, nor kept
        check_unzipped(zip_tmp, layer=True, where=source)
        os.replace(zip_tmp, out)


def _pip_install(
    listing: Path, cwd: Path, site: Path, runtime: str, architecture: str, target: str, source: str
) -> None:
    """``pip install -r listing`` into ``site``, run from the requirements' folder (a relative
    path in a requirement means what it means when the user runs pip there)."""
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--target",
        str(site),
    ]
    if target == "aws":
        platform = "manylinux2014_aarch64" if architecture == "arm64" else "manylinux2014_x86_64"
        cmd += [
            "--platform",
            platform,
            "--implementation",
            "cp",
            "--python-version",
            runtime.removeprefix("python"),
            "--only-binary=:all:",
        ]
    cmd += ["-r", str(listing)]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=cwd if cwd.is_dir() else None)
    if proc.returncode != 0:
        tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-5:])
        raise StrandsDeployError(
            f"installing the requirements failed:\n{tail}",
            where=source,
            fix="check the package names and versions in the requirements file"
            + (" and that each has a wheel for Lambda's platform" if target == "aws" else ""),
        )
