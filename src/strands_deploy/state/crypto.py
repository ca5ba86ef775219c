"""Client-side envelope encryption of state documents.

The guarantee: someone who can read the bucket but not use the key (the KMS key, or the
passphrase) learns nothing of the state, not even resource names. Only what is needed to decrypt
is stored in clear, and any change to a sealed blob (header or ciphertext) is detected on open.

A sealed blob is::

    MAGIC                      b"strands-deploy:sealed:1\\n"
    header length              4 bytes, big-endian
    header                     compact JSON (sorted keys), e.g.
                               {"alg":"AES-256-GCM","kdf":"kms","key_id":"alias/x",
                                "nonce":"<b64>","wrapped_key":"<b64>"}
                               {"alg":"AES-256-GCM","kdf":"scrypt","n":32768,"r":8,"p":1,
                                "nonce":"<b64>","salt":"<b64>"}
    ciphertext + 16-byte tag   AES-256-GCM of the document under a 12-byte random nonce (the
                               header's), with MAGIC + length + header as associated data

``kdf`` says where the 32-byte key comes from: "kms" (a KMS data key; ``wrapped_key`` is its
KMS ciphertext blob and ``key_id`` the key it was configured under, shown in error messages) or
"scrypt" (``scrypt(passphrase, salt, n, r, p)``). A sealer makes one key for its lifetime (one KMS
data key, or one salt) and uses a fresh random nonce for each seal; keys it unwraps or derives to
open blobs are cached, so a process makes one KMS call / one derivation per key.

``open`` returns a blob that is not sealed as it is, so turning encryption on migrates a plaintext
state on its next write; a caller that must refuse plaintext checks :func:`is_sealed` first. Every
failure to open is a :class:`StrandsDeployError` (what, where, fix), never a traceback.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import struct
import threading
from dataclasses import dataclass
from typing import Any, Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from strands_deploy.errors import StrandsDeployError

PASSPHRASE_ENV = "STRANDS_STATE_PASSPHRASE"

_FAMILY = b"strands-deploy:sealed:"
MAGIC = _FAMILY + b"1\n"
ALG = "AES-256-GCM"
KEY_BYTES = 32
NONCE_BYTES = 12
TAG_BYTES = 16
SALT_BYTES = 16
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**15, 8, 1
# Bounds on the scrypt parameters a blob may ask for, checked before deriving (a forged header
# must not make the reader spend gigabytes; the header's integrity is only checked after).
_MAX_N, _MAX_R, _MAX_P = 2**20, 32, 16
_MAX_HEADER = 64 * 1024

_RESTORE = (
    "restore an earlier version of the state object (the state bucket keeps versions), "
    "or ask whoever changed it"
)


class DataKeys(Protocol):
    """Makes and unwraps 32-byte data keys (KMS: ``aws/kms_keys.py``)."""

    key_id: str  # the configured key, e.g. "alias/strands-state"

    def generate(self) -> tuple[bytes, bytes]:
        """A new data key: (32-byte plaintext key, wrapped blob)."""
        ...

    def unwrap(self, wrapped: bytes) -> bytes:
        """The 32-byte plaintext key of a wrapped blob from :meth:`generate` (any key's)."""
        ...


class Sealer(Protocol):
    def seal(self, plaintext: bytes) -> bytes: ...

    def open(self, blob: bytes, where: str) -> bytes:
        """The plaintext of ``blob``; ``where`` (e.g. ``s3://bucket/key``) is named in errors."""
        ...


def is_sealed(blob: bytes) -> bool:
    """True when ``blob`` is a sealed state (of this format version or another)."""
    return bytes(blob[: len(_FAMILY)]) == _FAMILY


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(header: dict[str, Any], name: str, where: str) -> bytes:
    value = header.get(name)
    if not isinstance(value, str):
        raise _damaged(where, f"its header has no {name!r}")
    try:
        return base64.b64decode(value.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        raise _damaged(where, f"its header's {name!r} is not base64") from None


def _damaged(where: str, detail: str) -> StrandsDeployError:
    return StrandsDeployError(f"cannot decrypt the state: it is damaged ({detail})", where, _RESTORE)


@dataclass(frozen=True)
class _Parsed:
    header: dict[str, Any]
    aad: bytes  # MAGIC + length + header: the GCM associated data
    nonce: bytes
    ciphertext: bytes  # ciphertext + tag

    @property
    def kdf(self) -> object:
        return self.header.get("kdf")


def _build(header: dict[str, Any], key: bytes, plaintext: bytes) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    raw = json.dumps({**header, "alg": ALG, "nonce": _b64(nonce)}, sort_keys=True, separators=(",", ":"))
    encoded = raw.encode("utf-8")
    aad = MAGIC + struct.pack(">I", len(encoded)) + encoded
    return aad + AESGCM(key).encrypt(nonce, plaintext, aad)


def _parse(blob: bytes, where: str) -> _Parsed:
    """Split a sealed blob; any structural problem is a "damaged" (or "newer format") error."""
    if not blob.startswith(MAGIC):
        end = blob.find(b"\n", len(_FAMILY), len(_FAMILY) + 16)
        version = blob[len(_FAMILY) : end].decode("ascii", "replace") if end > 0 else "?"
        raise StrandsDeployError(
            f"the state is sealed in format {version!r}, which this strands-deploy does not know",
            where,
            "upgrade strands-deploy to the version that wrote it",
        )
    start = len(MAGIC) + 4
    if len(blob) < start:
        raise _damaged(where, "it is truncated")
    (size,) = struct.unpack(">I", blob[len(MAGIC) : start])
    if size > _MAX_HEADER or len(blob) < start + size + TAG_BYTES:
        raise _damaged(where, "it is truncated or its header length is wrong")
    try:
        header = json.loads(blob[start : start + size].decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise _damaged(where, "its header is not JSON") from None
    if not isinstance(header, dict) or header.get("alg") != ALG:
        raise _damaged(where, f"its header does not say alg {ALG!r}")
    nonce = _unb64(header, "nonce", where)
    if len(nonce) != NONCE_BYTES:
        raise _damaged(where, "its nonce has the wrong length")
    return _Parsed(header, bytes(blob[: start + size]), nonce, bytes(blob[start + size :]))


def _decrypt(key: bytes, parsed: _Parsed) -> bytes:
    """Raises InvalidTag when the key is wrong or the blob was changed."""
    return AESGCM(key).decrypt(parsed.nonce, parsed.ciphertext, parsed.aad)


def _check_key(key: bytes, where: str, source: str) -> bytes:
    if len(key) != KEY_BYTES:
        raise StrandsDeployError(
            f"{source} returned a {len(key)}-byte key, not {KEY_BYTES}",
            where,
            "use a symmetric KMS key (key spec SYMMETRIC_DEFAULT) for `kms_key`",
        )
    return key


class _KmsSealer:
    """Seals under one KMS data key (made on the first seal); opens blobs of any KMS data key."""

    def __init__(self, keys: DataKeys) -> None:
        self._keys = keys
        self._lock = threading.Lock()
        self._current: tuple[bytes, bytes] | None = None  # (plaintext key, wrapped)
        self._unwrapped: dict[bytes, bytes] = {}  # wrapped -> plaintext key

    def seal(self, plaintext: bytes) -> bytes:
        with self._lock:
            if self._current is None:
                key, wrapped = self._keys.generate()
                self._current = (_check_key(key, self._keys.key_id, "KMS"), wrapped)
                self._unwrapped[wrapped] = key
            key, wrapped = self._current
        header = {"kdf": "kms", "key_id": self._keys.key_id, "wrapped_key": _b64(wrapped)}
        return _build(header, key, plaintext)

    def open(self, blob: bytes, where: str) -> bytes:
        if not is_sealed(blob):
            return blob
        parsed = _parse(blob, where)
        if parsed.kdf == "scrypt":
            raise StrandsDeployError(
                "the state is encrypted with a passphrase, but this environment is configured "
                f"with the KMS key {self._keys.key_id!r}",
                where,
                f"remove `kms_key` from the environment's state settings and set {PASSPHRASE_ENV} "
                "to the passphrase the state was written with",
            )
        if parsed.kdf != "kms":
            raise _damaged(where, f"its header names an unknown kdf {parsed.kdf!r}")
        wrapped = _unb64(parsed.header, "wrapped_key", where)
        with self._lock:  # one unwrap per wrapped key, even when threads open at once
            key = self._unwrapped.get(wrapped)
            if key is None:
                key = _check_key(self._keys.unwrap(wrapped), where, "KMS")
                self._unwrapped[wrapped] = key
        try:
            return _decrypt(key, parsed)
        except InvalidTag:
            # KMS authenticates the data key, so a tag mismatch means the blob was changed.
            raise _damaged(where, "its ciphertext or header was changed after it was written") from None


def _scrypt_params(header: dict[str, Any], where: str) -> tuple[int, int, int]:
    values = [header.get(name) for name in ("n", "r", "p")]
    n, r, p = (v if type(v) is int and v > 0 else 0 for v in values)
    if not (n and r and p):
        raise _damaged(where, "its scrypt parameters are missing")
    if n < 2 or n & (n - 1) or n > _MAX_N or r > _MAX_R or p > _MAX_P:
        raise _damaged(where, f"its scrypt parameters n={n} r={r} p={p} are out of range")
    return n, r, p


class _PassphraseSealer:
    """Seals under scrypt(passphrase, salt) with one random salt per sealer (made on first seal)."""

    def __init__(self, passphrase: str) -> None:
        if not passphrase:
            raise StrandsDeployError(
                "the state passphrase is empty",
                PASSPHRASE_ENV,
                f"set {PASSPHRASE_ENV} to a long random passphrase (and keep it: "
                "the state cannot be read without it)",
            )
        self._secret = passphrase.encode("utf-8")
        self._lock = threading.Lock()
        self._salt: bytes | None = None
        self._derived: dict[tuple[bytes, int, int, int], bytes] = {}

    def _key(self, salt: bytes, n: int, r: int, p: int) -> bytes:
        with self._lock:  # derivation is slow: once per salt, even when threads ask at once
            key = self._derived.get((salt, n, r, p))
            if key is None:
                key = Scrypt(salt=salt, length=KEY_BYTES, n=n, r=r, p=p).derive(self._secret)
                self._derived[(salt, n, r, p)] = key
            return key

    def seal(self, plaintext: bytes) -> bytes:
        with self._lock:
            if self._salt is None:
                self._salt = os.urandom(SALT_BYTES)
            salt = self._salt
        key = self._key(salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
        header = {"kdf": "scrypt", "salt": _b64(salt), "n": SCRYPT_N, "r": SCRYPT_R, "p": SCRYPT_P}
        return _build(header, key, plaintext)

    def open(self, blob: bytes, where: str) -> bytes:
        if not is_sealed(blob):
            return blob
        parsed = _parse(blob, where)
        if parsed.kdf == "kms":
            key_id = parsed.header.get("key_id")
            named = f" {key_id!r}" if isinstance(key_id, str) and key_id else ""
            raise StrandsDeployError(
                f"the state is encrypted with the KMS key{named}, not with a passphrase",
                where,
                f"set `kms_key:{named or ' <key>'}` in the environment's state settings "
                f"(`encrypt: client`); {PASSPHRASE_ENV} is not used for it",
            )
        if parsed.kdf != "scrypt":
            raise _damaged(where, f"its header names an unknown kdf {parsed.kdf!r}")
        salt = _unb64(parsed.header, "salt", where)
        key = self._key(salt, *_scrypt_params(parsed.header, where))
        try:
            return _decrypt(key, parsed)
        except InvalidTag:
            raise StrandsDeployError(
                f"cannot decrypt the state: the passphrase in {PASSPHRASE_ENV} is not the one it was "
                "encrypted with, or the state is damaged",
                where,
                f"set {PASSPHRASE_ENV} to the passphrase the state was written with; if it is "
                f"right, the object was changed: {_RESTORE}",
            ) from None


class _PlainSealer:
    """No encryption; refuses (clearly) a state that is encrypted client-side."""

    def seal(self, plaintext: bytes) -> bytes:
        return plaintext

    def open(self, blob: bytes, where: str) -> bytes:
        if not is_sealed(blob):
            return blob
        raise StrandsDeployError(
            "the state is encrypted client-side, but this environment's state settings do not say so",
            where,
            "set `encrypt: client` in the environment's state settings, with `kms_key: <key>` for "
            f"a state encrypted with KMS or {PASSPHRASE_ENV} set for one encrypted with a passphrase",
        )


def kms_sealer(keys: DataKeys) -> Sealer:
    """Seal under a KMS data key (one per sealer); open blobs sealed under any KMS data key."""
    return _KmsSealer(keys)


def passphrase_sealer(passphrase: str) -> Sealer:
    """Seal under scrypt(passphrase, salt); an empty passphrase is a StrandsDeployError."""
    return _PassphraseSealer(passphrase)


def plain_sealer() -> Sealer:
    """No encryption: seal returns the plaintext; open refuses a sealed blob with a clear error."""
    return _PlainSealer()
