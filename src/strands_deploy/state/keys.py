"""The key that fingerprints secret values, kept outside the state.

A secret's value never enters the state or a plan; a keyed hash of it does, so a plan can say
"value changed". The key is 32 random bytes in ``.strands/keys/<env>.key`` (folder 0700, file
0600), created on first use and never written anywhere else: without it, the fingerprint in a
state or plan file cannot be tested against guesses. Losing the key only makes the next plan show
each secret's value as changed once (it is then written again with the same value).
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from strands_deploy.errors import StrandsDeployError

KEY_BYTES = 32


def fingerprint_key(
    root: Path, environment: str, initial: bytes | None = None, *, replace: bool = False
) -> bytes:
    """This environment's fingerprint key, created (atomically, owner-only) if missing: as
    ``initial`` when given (a key migrated from another backend), else random. ``replace``:
    write ``initial`` even over an existing key (a migration brings the state's own key)."""
    folder = root / ".strands" / "keys"
    path = folder / f"{environment}.key"
    try:
        data = path.read_bytes()
        if len(data) == KEY_BYTES and not (replace and initial is not None and data != initial):
            return data
    except FileNotFoundError:
        pass
    except OSError as e:
        raise StrandsDeployError(
            f"cannot read the secrets' fingerprint key: {e.strerror}",
            str(path),
            "check the file's permissions",
        ) from None
    key = initial if initial is not None and len(initial) == KEY_BYTES else secrets.token_bytes(KEY_BYTES)
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(folder, 0o700)
        tmp = folder / f".{environment}.key.{os.getpid()}.tmp"
        fd = os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(key)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as e:
        raise StrandsDeployError(
            f"cannot write the secrets' fingerprint key: {e.strerror}",
            str(path),
            "make .strands/ writable (the key never leaves this folder)",
        ) from None
    return key
