"""Keep native code built for another platform out of a worker's import path.

Layers and code zips are built for Lambda (Linux, arm64 or x86_64, the function's Python), while a
local worker runs the laptop's interpreter. A compiled module built for Lambda (for example
``pydantic_core/_pydantic_core.cpython-312-aarch64-linux-gnu.so``) would shadow the working copy
in the server's site-packages and fail to import. So, per site folder, every distribution that
ships an extension module this interpreter cannot load - and every distribution that depends on
one of those, so versions stay consistent (pydantic pins pydantic_core) - is moved to
``<root>/.skipped/`` and the worker imports the server's own copy instead.

Invariant: pure-Python distributions that depend on nothing skipped stay exactly where they are.
"""

from __future__ import annotations

import importlib.machinery
import re
import shutil
import struct
import sys
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

_TAGGED = re.compile(r"(\.(?:cpython-[^.]+|abi3|pypy[^.]*|cp\d+-[^.]+)\.(?:so|pyd))$")
_NATIVE_SUFFIXES = (".so", ".pyd", ".dylib")


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _binary_kind(path: Path) -> tuple[str, int, int] | None:
    """(format, word size or 0, machine) from an ELF / Mach-O header; None for anything else."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(20)
    except OSError:
        return None
    if head[:4] == b"\x7fELF" and len(head) >= 20:
        endian = "<" if head[5] == 1 else ">"
        (machine,) = struct.unpack(endian + "H", head[18:20])
        return ("elf", head[4], machine)
    if head[:4] in (b"\xcf\xfa\xed\xfe", b"\xce\xfa\xed\xfe"):
        (cpu,) = struct.unpack("<i", head[4:8])
        return ("macho", 0, cpu)
    if head[:4] in (b"\xca\xfe\xba\xbe", b"\xbe\xba\xfe\xca"):
        return ("fat", 0, 0)  # universal binary: assume it has our slice
    return None


@lru_cache(maxsize=1)
def _local_kind() -> tuple[str, int, int] | None:
    return _binary_kind(Path(sys.executable).resolve())


def loadable(path: Path) -> bool:
    """Whether this interpreter could load the extension module or shared library at ``path``."""
    tagged = _TAGGED.search(path.name)
    if tagged and tagged.group(1) not in importlib.machinery.EXTENSION_SUFFIXES:
        return False
    kind, local = _binary_kind(path), _local_kind()
    if kind is None or local is None or kind[0] == "fat":
        return True  # not a binary we can judge: let the import decide
    return kind == local


@dataclass
class _Dist:
    name: str
    info_dir: Path
    top_level: set[str] = field(default_factory=set)
    requires: set[str] = field(default_factory=set)
    bad_file: str | None = None


def _read_dist(info_dir: Path) -> _Dist:
    name = info_dir.name.split("-")[0]
    requires: set[str] = set()
    try:
        meta = (info_dir / "METADATA").read_text(encoding="utf-8", errors="replace")
    except OSError:
        meta = ""
    for line in meta.splitlines():
        if not line.strip():
            break  # headers end at the first blank line
        key, _, value = line.partition(":")
        if key == "Name":
            name = value.strip()
        elif key == "Requires-Dist":
            req, _, marker = value.partition(";")
            if "extra" in marker:
                continue  # optional dependency: not needed at run time
            m = re.match(r"\s*([A-Za-z0-9_.\-]+)", req)
            if m:
                requires.add(_normalize(m.group(1)))
    dist = _Dist(_normalize(name), info_dir, requires=requires)
    try:
        record = (info_dir / "RECORD").read_text(encoding="utf-8", errors="replace")
    except OSError:
        record = ""
    site = info_dir.parent
    for row in record.splitlines():
        rel = row.split(",", 1)[0].strip().strip('"')
        if not rel or rel.startswith(("..", "/")):
            continue
        top = rel.split("/", 1)[0]
        if top != info_dir.name and not top.endswith((".dist-info", ".data")):
            dist.top_level.add(top)
        if rel.endswith(_NATIVE_SUFFIXES) and dist.bad_file is None and not loadable(site / rel):
            dist.bad_file = rel
    return dist


def filter_site(site: Path, skipped_root: Path) -> list[str]:
    """Move unloadable distributions (and their dependents) out of ``site``; returns notes."""
    if not site.is_dir():
        return []
    dists = {d.name: d for d in (_read_dist(p) for p in sorted(site.glob("*.dist-info")))}
    reasons = {n: f"built for another platform ({d.bad_file})" for n, d in dists.items() if d.bad_file}
    changed = True
    while changed:  # closure: whatever depends on a skipped distribution is skipped too
        changed = False
        for n, d in dists.items():
            if n not in reasons:
                hit = sorted(d.requires & set(reasons))
                if hit:
                    reasons[n] = f"depends on {hit[0]}, which is skipped"
                    changed = True
    owned = {t for d in dists.values() for t in d.top_level}
    notes: list[str] = []
    moves: list[Path] = []
    for n in sorted(reasons):
        d = dists[n]
        moves += [site / t for t in sorted(d.top_level)] + [d.info_dir]
        notes.append(f"{n}: {reasons[n]}")
    for loose in sorted(site.iterdir()):  # extension modules no distribution claims
        if loose.name not in owned and loose.suffix in _NATIVE_SUFFIXES and not loadable(loose):
            moves.append(loose)
            notes.append(f"{loose.name}: built for another platform")
    for src in moves:
        if src.exists() or src.is_symlink():
            skipped_root.mkdir(parents=True, exist_ok=True)
            shutil.move(str(src), str(skipped_root / src.name))
    return notes
