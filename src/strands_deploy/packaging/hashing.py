"""Content hashes that decide whether an agent needs packaging and a deploy at all.

The hash covers every file that goes into the code zip (relative path + bytes) plus the runtime
adapter shipped with it, so an unchanged agent costs no zip and no AWS call. The hash and the zip
walk the folder with the one walker here (:func:`iter_code_files`), so they always agree on which
files an agent has.
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Iterator
from pathlib import Path

from strands_deploy.errors import StrandsDeployError

EXCLUDED_DIRS = frozenset(
    {
        "__pycache__",
        ".venv",
        "venv",
        ".strands",
        ".git",
        ".pytest_cache",
        ".mypy_cache",
        ".ruff_cache",
        "node_modules",
    }
)
EXCLUDED_SUFFIXES = (".pyc", ".pyo")
EXCLUDED_FILES = frozenset({"requirements.txt", "strands.agent.yaml", ".DS_Store"})

MAX_FILES = 100_000  # a Lambda code zip is at most 250 MB unzipped; far beyond any real agent
ADAPTER = Path(__file__).resolve().parent.parent / "runtime" / "adapter.py"
ADAPTER_NAME = "_strands_runtime.py"
BUILTIN_PREFIX = "builtin:"  # ``code.path: builtin:<name>``: a function strands-deploy ships
BUILTIN = Path(__file__).resolve().parent.parent / "runtime" / "builtin"


def code_root(project_dir: Path, code_path: str) -> Path:
    """The folder a function's code comes from: the agent's folder, or a builtin function's."""
    if code_path.startswith(BUILTIN_PREFIX):
        return BUILTIN / code_path[len(BUILTIN_PREFIX) :]
    return project_dir / code_path


def iter_code_files(root: Path) -> Iterator[tuple[str, Path]]:
    """(archive name, path) for each file of an agent folder, in a stable order.

    Only regular files are packaged: a FIFO, socket or device is skipped without being opened
    (reading a FIFO would block forever). Symlinks inside the folder are followed for their
    content, under the link's own name; a link back to a folder that contains it (a loop) is not
    followed again, and a broken or looping link is skipped. A symlink that points outside the
    agent folder is refused (StrandsDeployError naming the link and its target): a link to
    ~/.aws/credentials must never be deployed.
    """
    real_root = os.path.realpath(root)
    try:
        top = os.stat(real_root)
    except OSError:
        return
    for count, item in enumerate(_walk(Path(root), "", real_root, frozenset({(top.st_dev, top.st_ino)}))):
        if count >= MAX_FILES:
            raise StrandsDeployError(
                f"the agent folder holds more than {MAX_FILES:,} files (counting those reached through symlinks)",
                str(root),
                "move data and dependencies out of the agent folder (requirements are installed separately)",
            )
        yield item


def _walk(
    folder: Path, prefix: str, real_root: str, ancestors: frozenset[tuple[int, int]]
) -> Iterator[tuple[str, Path]]:
    try:
        with os.scandir(folder) as it:
            entries = sorted(it, key=lambda e: e.name)
    except OSError as e:
        raise StrandsDeployError(
            f"cannot read folder {folder}: {e.strerror}", str(folder), "check the folder's permissions"
        ) from None
    files: list[tuple[str, Path]] = []
    folders: list[tuple[str, Path, tuple[int, int]]] = []
    for entry in entries:
        name = entry.name
        path = folder / name
        try:
            is_link = entry.is_symlink()
            st = os.stat(path) if is_link else entry.stat(follow_symlinks=False)
        except OSError:
            continue  # a broken or looping symlink (or a file removed meanwhile): nothing to package
        if stat.S_ISDIR(st.st_mode):
            if name in EXCLUDED_DIRS or name.startswith("."):
                continue
        elif stat.S_ISREG(st.st_mode):
            if name in EXCLUDED_FILES or name.endswith(EXCLUDED_SUFFIXES):
                continue
        else:
            continue  # FIFO, socket, device: never opened
        if is_link:
            target = os.path.realpath(path)
            if target != real_root and not target.startswith(real_root.rstrip(os.sep) + os.sep):
                raise StrandsDeployError(
                    f"{prefix}{name} is a symlink to {target}, outside the agent folder {real_root}",
                    str(path),
                    "copy what the agent needs into its folder, or remove the link: files outside an "
                    "agent's folder are never packaged",
                )
        if stat.S_ISDIR(st.st_mode):
            folders.append((f"{prefix}{name}/", path, (st.st_dev, st.st_ino)))
        else:
            files.append((f"{prefix}{name}", path))
    # a folder's files first, then its subfolders (the order os.walk gave: hashes stay the same)
    yield from files
    for rel, path, key in folders:
        if key in ancestors:
            continue  # a symlink back to a folder that contains it: a loop, walked once
        yield from _walk(path, rel, real_root, ancestors | {key})


def read_code_file(path: Path) -> bytes:
    """The bytes of a file the walker yielded (a StrandsDeployError naming it when unreadable)."""
    try:
        return path.read_bytes()
    except OSError as e:
        raise StrandsDeployError(
            f"cannot read {path.name}: {e.strerror}", str(path), "check the file's permissions"
        ) from None


def code_hash(folder: Path) -> str:
    h = hashlib.sha256()
    for rel, path in iter_code_files(folder):
        h.update(rel.encode() + b"\0")
        h.update(read_code_file(path))
        h.update(b"\0")
    if ADAPTER.exists():
        h.update(b"adapter\0" + ADAPTER.read_bytes())
    return h.hexdigest()[:16]


def file_hash(path: Path, *extra: str) -> str:
    h = hashlib.sha256(path.read_bytes() if path.exists() else b"")
    for e in extra:
        h.update(b"\0" + e.encode())
    return h.hexdigest()[:16]
