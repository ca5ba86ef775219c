"""Unpacked function code and layers, content-addressed under ``<state_dir>/cache/``.

``cache/code/<sha256-hex>/``    a function's code zip, unpacked (the worker's cwd and sys.path[0])
``cache/layers/<sha256-hex>/``  a layer zip, unpacked; its ``python/`` folder (and
                                ``python/lib/python3.X/site-packages``) go on sys.path like /opt/python

Invariants: a folder is complete once it exists (unpacked into a temp folder, then renamed), so
concurrent requests never see half a zip; the key is the zip's SHA-256, so new code is a new
folder and old workers keep their files until they are retired.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import os
import shutil
import tempfile
import threading
import zipfile
from pathlib import Path

from strands_deploy.local.compat import filter_site

NOTES_FILE = ".strands-local-notes"


def _hex_key(sha_b64: str, data: bytes) -> str:
    try:
        raw = base64.b64decode(sha_b64, validate=True)
        if len(raw) == 32:
            return raw.hex()
    except (binascii.Error, ValueError):
        pass
    return hashlib.sha256(data).hexdigest()


class CodeCache:
    def __init__(self, root: Path) -> None:
        self.root = root
        self._lock = threading.Lock()

    def _unpack(self, kind: str, sha_b64: str, data: bytes, sites: list[str]) -> Path:
        final = self.root / kind / _hex_key(sha_b64, data)
        if final.is_dir():
            return final
        with self._lock:  # one unpack per process at a time; others wait and reuse the result
            if final.is_dir():
                return final
            final.parent.mkdir(parents=True, exist_ok=True)
            tmp = Path(tempfile.mkdtemp(dir=final.parent, prefix=".unpack-"))
            try:
                with zipfile.ZipFile(io.BytesIO(data)) as zf:
                    zf.extractall(tmp)  # extractall drops absolute paths and '..' parts
                notes: list[str] = []
                for i, site in enumerate(sites):
                    for base in sorted(tmp.glob(site)) if "*" in site else [tmp / site]:
                        notes += filter_site(base, tmp / ".skipped" / str(i))
                (tmp / NOTES_FILE).write_text("\n".join(notes), encoding="utf-8")
                os.replace(tmp, final)
            except BaseException:
                shutil.rmtree(tmp, ignore_errors=True)
                raise
        return final

    def code_dir(self, sha_b64: str, data: bytes) -> Path:
        return self._unpack("code", sha_b64, data, ["."])

    def layer_dir(self, sha_b64: str, data: bytes) -> Path:
        return self._unpack("layers", sha_b64, data, ["python", "python/lib/python3*/site-packages"])

    @staticmethod
    def layer_paths(layer_dir: Path) -> list[str]:
        """The folders Lambda puts on sys.path for a layer (``/opt/python`` and its site-packages)."""
        paths = [layer_dir / "python", *sorted(layer_dir.glob("python/lib/python3*/site-packages"))]
        return [str(p) for p in paths if p.is_dir()]

    @staticmethod
    def notes(folder: Path) -> list[str]:
        try:
            text = (folder / NOTES_FILE).read_text(encoding="utf-8")
        except OSError:
            return []
        return [line for line in text.splitlines() if line]

    def clear(self) -> None:
        from strands_deploy.local.limits import make_writable

        with self._lock:
            make_writable(self.root)  # unpacked code is read-only, as on Lambda
            shutil.rmtree(self.root, ignore_errors=True)
