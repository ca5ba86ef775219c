"""Content hashes that decide whether an agent needs packaging and a deploy at all.

The hash covers every file that goes into the code zip (relative path + bytes) plus the runtime
adapter shipped with it, so an unchanged agent costs no zip and no AWS call.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

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

ADAPTER = Path(__file__).resolve().parent.parent / "runtime" / "adapter.py"
ADAPTER_NAME = "_strands_runtime.py"


def iter_code_files(root: Path) -> Iterator[tuple[str, Path]]:
    """(archive name, path) for each file of an agent folder, in a stable order."""
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in EXCLUDED_DIRS and not d.startswith("."))
        for name in sorted(filenames):
            if name in EXCLUDED_FILES or name.endswith(EXCLUDED_SUFFIXES):
                continue
            path = Path(dirpath) / name
            yield path.relative_to(root).as_posix(), path


def code_hash(folder: Path) -> str:
    h = hashlib.sha256()
    for rel, path in iter_code_files(folder):
        h.update(rel.encode() + b"\0")
        h.update(path.read_bytes())
        h.update(b"\0")
    if ADAPTER.exists():
        h.update(b"adapter\0" + ADAPTER.read_bytes())
    return h.hexdigest()[:16]


def file_hash(path: Path, *extra: str) -> str:
    h = hashlib.sha256(path.read_bytes() if path.exists() else b"")
    for e in extra:
        h.update(b"\0" + e.encode())
    return h.hexdigest()[:16]
