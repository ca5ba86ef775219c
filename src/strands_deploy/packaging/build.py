"""Build the code zip and the dependency layer zip, cached on disk by content hash.

Both builds are idempotent and atomic (build in a temp path, then ``os.replace``), and serialised
per output path so two threads asking for the same layer build it once.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import threading
import zipfile
from pathlib import Path

from strands_deploy.errors import StrandsDeployError
from strands_deploy.packaging.hashing import (
    ADAPTER,
    ADAPTER_NAME,
    code_root,
    iter_code_files,
    read_code_file,
)

_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()
ZIP_DATE = (1980, 1, 1, 0, 0, 0)  # fixed timestamps: identical inputs give an identical zip


def _lock_for(path: Path) -> threading.Lock:
    with _locks_guard:
        return _locks.setdefault(str(path), threading.Lock())


def _add(zf: zipfile.ZipFile, arcname: str, data: bytes, mode: int = 0o644) -> None:
    info = zipfile.ZipInfo(arcname, ZIP_DATE)
    info.external_attr = (0o100000 | mode) << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    zf.writestr(info, data)


def build_code_zip(project_dir: Path, code_path: str, code_hash: str, cache_dir: Path) -> Path:
    """Zip the agent folder plus the runtime adapter (as ``_strands_runtime.py``)."""
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
            return out
        out.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=out.parent, suffix=".tmp")
        os.close(fd)
        try:
            with zipfile.ZipFile(tmp, "w") as zf:
                # the same walker as code_hash: the zip holds exactly the files the hash covers
                for rel, path in iter_code_files(root):
                    _add(zf, rel, read_code_file(path))
                _add(zf, ADAPTER_NAME, ADAPTER.read_bytes())
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


def read_requirements(path: Path) -> list[str]:
    if not path.exists():
        return []
    lines = []
    for raw in path.read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if line:
            lines.append(line)
    return lines


def build_layer_zip(
    project_dir: Path,
    requirements_file: str,
    requirements_hash: str,
    runtime: str,
    architecture: str,
    target: str,
    cache_dir: Path,
) -> Path:
    """pip-install the requirements into ``python/`` and zip it, once per hash and platform."""
    req_path = (project_dir / requirements_file).resolve()
    out = cache_dir / "layers" / f"{target}-{runtime}-{architecture}-{requirements_hash}.zip"
    with _lock_for(out):
        if out.exists():
            return out
        out.parent.mkdir(parents=True, exist_ok=True)
        requirements = read_requirements(req_path)
        if target == "local":
            requirements = _unsatisfied(requirements)
        with tempfile.TemporaryDirectory(dir=out.parent) as tmp:
            site = Path(tmp) / "python"
            site.mkdir()
            if requirements:
                _pip_install(requirements, site, runtime, architecture, target, requirements_file)
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
            shutil.move(str(zip_tmp), out)
        return out


def _pip_install(
    requirements: list[str], site: Path, runtime: str, architecture: str, target: str, source: str
) -> None:
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
    cmd += requirements
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-5:])
        raise StrandsDeployError(
            f"installing the requirements failed:\n{tail}",
            where=source,
            fix="check the package names and versions in the requirements file"
            + (" and that each has a wheel for Lambda's platform" if target == "aws" else ""),
        )
