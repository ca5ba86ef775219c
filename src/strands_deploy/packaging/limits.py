"""AWS Lambda's size limits, checked on the zips before any AWS call.

- A zip sent in the request itself (``ZipFile``) must stay under 50 MB (the request is refused
  at 69,905,067 bytes of base64, i.e. 50 MiB of zip with nothing else in the request): a larger
  one goes through the environment's artifacts bucket (``S3Bucket``/``S3Key``), which AWS accepts
  up to the unzipped limit. :data:`DIRECT_UPLOAD_LIMIT` keeps a margin for the request's other
  fields.
- A function and its layers hold at most 250 MB unzipped: a larger zip is refused here, naming
  its largest packages, because no upload path accepts it.
- A function has at most 5 layers.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterable
from pathlib import Path

from strands_deploy.errors import StrandsDeployError

DIRECT_UPLOAD_LIMIT = 50_000_000  # bytes of zip sent in a CreateFunction/PublishLayerVersion request
UNZIPPED_LIMIT = 250 * 1024 * 1024  # bytes: a function's code and all its layers, unzipped
MAX_LAYERS = 5
LARGEST_SHOWN = 5
CONTAINER_FIX = "container-image functions (up to 10 GB) are not supported by strands-deploy yet"


def human(size: int) -> str:
    """``123456789`` → ``"117.7 MB"`` (binary megabytes, as AWS counts its limits)."""
    for unit, scale in (("GB", 1024**3), ("MB", 1024**2), ("KB", 1024)):
        if size >= scale:
            return f"{size / scale:.1f} {unit}"
    return f"{size} bytes"


def unzipped_size(zip_path: Path) -> int:
    """The bytes the zip's files take once extracted (read from the central directory)."""
    with zipfile.ZipFile(zip_path) as zf:
        return sum(info.file_size for info in zf.infolist())


def largest_entries(zip_path: Path, prefix: str = "", n: int = LARGEST_SHOWN) -> list[tuple[str, int]]:
    """The ``n`` largest top-level entries under ``prefix`` (a package's folder, its ``.libs``
    and ``.dist-info`` counted together), largest first, with their unzipped bytes."""
    sizes: dict[str, int] = {}
    with zipfile.ZipFile(zip_path) as zf:
        for info in zf.infolist():
            if not info.filename.startswith(prefix):
                continue
            top = info.filename[len(prefix) :].split("/", 1)[0]
            if top:
                key = package_of(top) if prefix else top
                sizes[key] = sizes.get(key, 0) + info.file_size
    return sorted(sizes.items(), key=lambda kv: (-kv[1], kv[0]))[:n]


def package_of(top: str) -> str:
    """The package a top-level entry of ``python/`` belongs to: ``numpy-1.26.4.dist-info``,
    ``numpy.libs`` and ``numpy`` are all ``numpy``; ``six.py`` is ``six``."""
    name = top
    for suffix in (".dist-info", ".egg-info", ".data"):
        if name.endswith(suffix):
            name = name[: -len(suffix)].split("-", 1)[0]
            break
    else:
        if name.endswith(".libs"):
            name = name[: -len(".libs")]
        elif name.endswith((".py", ".so", ".pyd", ".pth")):
            name = name.split(".", 1)[0]
    return re.sub(r"[-_.]+", "_", name).lower()


def check_unzipped(zip_path: Path, *, layer: bool, where: str, limit: int = UNZIPPED_LIMIT) -> int:
    """The unzipped size of a code or layer zip; a StrandsDeployError when it alone is over the
    limit for a function and its layers (no upload path takes it)."""
    size = unzipped_size(zip_path)
    if size > limit:
        raise _too_large(size, largest_entries(zip_path, "python/" if layer else ""), layer, where, limit)
    return size


def check_files(files: Iterable[tuple[str, Path]], *, where: str, limit: int = UNZIPPED_LIMIT) -> int:
    """The size of a function's code files (archive name, path), checked before they are read
    and zipped (an agent folder holding a model of 300 MB is refused at once)."""
    sizes: dict[str, int] = {}
    total = 0
    for rel, path in files:
        try:
            size = path.stat().st_size
        except OSError:
            continue
        total += size
        top = rel.split("/", 1)[0]
        sizes[top] = sizes.get(top, 0) + size
    if total > limit:
        largest = sorted(sizes.items(), key=lambda kv: (-kv[1], kv[0]))[:LARGEST_SHOWN]
        raise _too_large(total, largest, False, where, limit)
    return total


def _too_large(
    size: int, largest: list[tuple[str, int]], layer: bool, where: str, limit: int
) -> StrandsDeployError:
    listing = ", ".join(f"{name} {human(n)}" for name, n in largest)
    if layer:
        what = (
            f"the dependency layer is {human(size)} unzipped; AWS Lambda allows {human(limit)} for a "
            f"function and its layers. Largest packages: {listing}"
        )
        fix = (
            "trim the requirements: drop packages the agent does not import, prefer slim variants "
            "(opencv-python-headless, a CPU-only torch), keep data files out of packages; " + CONTAINER_FIX
        )
    else:
        what = (
            f"the agent's code is {human(size)} unzipped; AWS Lambda allows {human(limit)} for a "
            f"function and its layers. Largest entries: {listing}"
        )
        fix = (
            "move data files and vendored packages out of the agent folder (dependencies go in "
            "the requirements, installed into a separate layer; data can live in S3); " + CONTAINER_FIX
        )
    return StrandsDeployError(what, where, fix)


def check_layer_count(count: int, where: str) -> None:
    if count > MAX_LAYERS:
        raise StrandsDeployError(
            f"the function would have {count} layers; AWS Lambda allows at most {MAX_LAYERS}",
            where,
            "merge requirements into fewer layers",
        )
