"""Client-side envelope encryption of state documents (state/crypto.py), with a fake KMS."""

from __future__ import annotations

import json
import os
import struct
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from strands_deploy.errors import StrandsDeployError
from strands_deploy.state.crypto import (
    MAGIC,
    PASSPHRASE_ENV,
    DataKeys,
    is_sealed,
    kms_sealer,
    passphrase_sealer,
    plain_sealer,
)

WHERE = "s3://acme-state/acme/prod/state.json"

STATE = json.dumps(
    {
        "version": 4,
        "serial": 17,
        "project": "acme",
        "environment": "prod",
        "resources": {
            "table.items": {
                "type": "dynamodb_table",
                "name": "acme-prod-items",
                "arn": "arn:aws:dynamodb:us-east-1:123456789012:table/acme-prod-items",
            },
            "function.agent": {
                "type": "lambda_function",
                "name": "acme-prod-agent",
                "arn": "arn:aws:lambda:us-east-1:123456789012:function:acme-prod-agent",
                "environment": {"SECRET_NAME": "acme-prod-openai-key"},
            },
        },
    },
    indent=2,
).encode()


class FakeKms:
    """DataKeys that wraps keys with AES-GCM under a test master key, and counts calls."""

    def __init__(self, key_id: str = "alias/strands-state", master: bytes | None = None) -> None:
        self.key_id = key_id
        self.master = master or AESGCM.generate_key(bit_length=256)
        self.generated = 0
        self.unwrapped = 0
        self._lock = threading.Lock()

    def generate(self) -> tuple[bytes, bytes]:
        with self._lock:
            self.generated += 1
        key = os.urandom(32)
        nonce = os.urandom(12)
        return key, nonce + AESGCM(self.master).encrypt(nonce, key, b"fake-kms")

    def unwrap(self, wrapped: bytes) -> bytes:
        with self._lock:
            self.unwrapped += 1
        try:
            return AESGCM(self.master).decrypt(wrapped[:12], wrapped[12:], b"fake-kms")
        except InvalidTag:
            raise StrandsDeployError("KMS cannot decrypt the state's data key", WHERE, "fix") from None


def split(blob: bytes) -> tuple[dict[str, Any], bytes]:
    """(header, ciphertext) of a sealed blob."""
    start = len(MAGIC) + 4
    (size,) = struct.unpack(">I", blob[len(MAGIC) : start])
    return json.loads(blob[start : start + size]), blob[start + size :]


def join(header: dict[str, Any], ciphertext: bytes) -> bytes:
    raw = json.dumps(header, sort_keys=True, separators=(",", ":")).encode()
    return MAGIC + struct.pack(">I", len(raw)) + raw + ciphertext


def open_error(sealer: Any, blob: bytes) -> StrandsDeployError:
    with pytest.raises(StrandsDeployError) as info:
        sealer.open(blob, WHERE)
    err = info.value
    assert err.where == WHERE and err.fix
    assert err.__cause__ is None and (err.__context__ is None or err.__suppress_context__)
    return err


@pytest.fixture(scope="module")
def pass_blob() -> bytes:
    """One passphrase-sealed state (scrypt is slow: derive once for the module)."""
    return passphrase_sealer("correct horse battery staple").seal(STATE)


# --- KMS sealer ---------------------------------------------------------------------------------


def test_kms_round_trip_and_no_plaintext_in_blob() -> None:
    keys = FakeKms()
    sealer = kms_sealer(keys)
    blob = sealer.seal(STATE)
    assert is_sealed(blob) and blob.startswith(MAGIC)
    for secret in (b"acme-prod-items", b"arn:aws:dynamodb", b"acme-prod-agent", b"acme", b"resources"):
        assert secret not in blob
    assert sealer.open(blob, WHERE) == STATE
    header, _ = split(blob)
    assert header["kdf"] == "kms" and header["key_id"] == "alias/strands-state"
    assert set(header) == {"alg", "kdf", "key_id", "nonce", "wrapped_key"}


def test_kms_sealer_generates_one_key_and_fresh_nonces() -> None:
    keys = FakeKms()
    sealer = kms_sealer(keys)
    blobs = [sealer.seal(STATE) for _ in range(5)]
    assert keys.generated == 1
    headers = [split(b)[0] for b in blobs]
    assert len({h["wrapped_key"] for h in headers}) == 1
    assert len({h["nonce"] for h in headers}) == 5
    assert len(set(blobs)) == 5
    # its own blobs open from the cache: no unwrap at all
    assert all(sealer.open(b, WHERE) == STATE for b in blobs)
    assert keys.unwrapped == 0


def test_kms_open_caches_unwrapped_keys_and_opens_any_data_key() -> None:
    keys = FakeKms()
    blob_a = kms_sealer(keys).seal(b"a")
    blob_b = kms_sealer(keys).seal(b"b")
    reader = kms_sealer(keys)
    assert reader.open(blob_a, WHERE) == b"a"
    assert reader.open(blob_a, WHERE) == b"a"
    assert keys.unwrapped == 1
    assert reader.open(blob_b, WHERE) == b"b"
    assert reader.open(kms_sealer(keys).seal(b"a2"), WHERE) == b"a2"
    assert keys.unwrapped == 3
    assert keys.generated == 3  # the reader never generated a key


def test_kms_sealer_is_thread_safe() -> None:
    keys = FakeKms()
    sealer = kms_sealer(keys)
    with ThreadPoolExecutor(8) as pool:
        blobs = list(pool.map(lambda i: sealer.seal(b"doc %d" % i), range(64)))
    assert keys.generated == 1
    blob = kms_sealer(keys).seal(b"other")
    reader = kms_sealer(keys)
    with ThreadPoolExecutor(8) as pool:
        assert list(pool.map(lambda _: reader.open(blob, WHERE), range(32))) == [b"other"] * 32
    assert keys.unwrapped == 1
    assert [sealer.open(b, WHERE) for b in blobs] == [b"doc %d" % i for i in range(64)]


def test_kms_sealer_rejects_a_key_of_the_wrong_size() -> None:
    class ShortKeys(FakeKms):
        def generate(self) -> tuple[bytes, bytes]:
            return os.urandom(16), b"wrapped"

    with pytest.raises(StrandsDeployError, match="16-byte key"):
        kms_sealer(ShortKeys()).seal(STATE)


def test_fake_kms_is_a_data_keys() -> None:
    keys: DataKeys = FakeKms()
    assert keys.key_id


# --- damage ------------------------------------------------------------------------------------


def test_tampered_header_fails_to_open() -> None:
    keys = FakeKms()
    blob = kms_sealer(keys).seal(STATE)
    header, ciphertext = split(blob)
    forged = join({**header, "key_id": "alias/other"}, ciphertext)  # still a valid header
    err = open_error(kms_sealer(keys), forged)
    assert "damaged" in err.what


@pytest.mark.parametrize("index", [0, 17, -1])
def test_flipped_ciphertext_byte_fails_to_open(index: int) -> None:
    keys = FakeKms()
    blob = bytearray(kms_sealer(keys).seal(STATE))
    header, ciphertext = split(bytes(blob))
    pos = len(blob) - len(ciphertext) + index if index >= 0 else len(blob) + index
    blob[pos] ^= 0x01
    err = open_error(kms_sealer(keys), bytes(blob))
    assert "damaged" in err.what
    assert "Traceback" not in str(err)


@pytest.mark.parametrize(
    "cut",
    [len(MAGIC), len(MAGIC) + 2, len(MAGIC) + 4, len(MAGIC) + 20, -1, -16, -17],
    ids=["no-length", "half-length", "no-header", "half-header", "tag-1", "tag-16", "tag-17"],
)
def test_truncated_blob_fails_to_open(cut: int) -> None:
    keys = FakeKms()
    blob = kms_sealer(keys).seal(STATE)
    err = open_error(kms_sealer(keys), blob[:cut])
    assert "damaged" in err.what


@pytest.mark.parametrize(
    "header",
    [
        b"not json",
        b"[1, 2]",
        b'{"alg": "ROT13", "kdf": "kms"}',
        b'{"alg": "AES-256-GCM", "kdf": "kms", "nonce": "!!"}',
        b'{"alg": "AES-256-GCM", "kdf": "kms", "nonce": "AAAA"}',
        b'{"alg": "AES-256-GCM", "kdf": "rot13", "nonce": "AAAAAAAAAAAAAAAA"}',
        b'{"alg": "AES-256-GCM", "kdf": "kms", "nonce": "AAAAAAAAAAAAAAAA"}',
        b'{"alg": "AES-256-GCM", "kdf": "kms", "nonce": "AAAAAAAAAAAAAAAA", "wrapped_key": 3}',
        b"\xff\xfe",
    ],
)
def test_bad_header_is_a_clear_error(header: bytes) -> None:
    blob = MAGIC + struct.pack(">I", len(header)) + header + b"\0" * 40
    err = open_error(kms_sealer(FakeKms()), blob)
    assert "damaged" in err.what


def test_huge_header_length_is_a_clear_error() -> None:
    blob = MAGIC + struct.pack(">I", 2**31) + b"{}" + b"\0" * 40
    assert "damaged" in open_error(kms_sealer(FakeKms()), blob).what


def test_unknown_format_version_says_upgrade() -> None:
    blob = b"strands-deploy:sealed:9\n" + b"\0" * 64
    assert is_sealed(blob)
    err = open_error(kms_sealer(FakeKms()), blob)
    assert "'9'" in err.what and "upgrade" in (err.fix or "")


def test_blob_from_another_kms_key_gives_the_data_key_error() -> None:
    blob = kms_sealer(FakeKms()).seal(STATE)
    err = open_error(kms_sealer(FakeKms()), blob)  # another master key
    assert "data key" in err.what


# --- passphrase sealer ---------------------------------------------------------------------------


def test_passphrase_round_trip_and_no_plaintext(pass_blob: bytes) -> None:
    assert is_sealed(pass_blob)
    for secret in (b"acme-prod-items", b"arn:aws:", b"acme", b"correct horse"):
        assert secret not in pass_blob
    header, _ = split(pass_blob)
    assert header["kdf"] == "scrypt"
    assert (header["n"], header["r"], header["p"]) == (2**15, 8, 1)
    assert set(header) == {"alg", "kdf", "n", "r", "p", "salt", "nonce"}
    assert passphrase_sealer("correct horse battery staple").open(pass_blob, WHERE) == STATE


def test_passphrase_sealer_one_salt_per_sealer() -> None:
    sealer = passphrase_sealer("pw")
    first, second = sealer.seal(b"one"), sealer.seal(b"two")
    assert split(first)[0]["salt"] == split(second)[0]["salt"]
    assert split(first)[0]["nonce"] != split(second)[0]["nonce"]
    assert split(passphrase_sealer("pw").seal(b"x"))[0]["salt"] != split(first)[0]["salt"]
    assert sealer.open(second, WHERE) == b"two"


def test_wrong_passphrase_names_the_variable(pass_blob: bytes) -> None:
    err = open_error(passphrase_sealer("Correct horse battery staple"), pass_blob)
    assert PASSPHRASE_ENV in err.what and "not the one" in err.what
    assert PASSPHRASE_ENV in (err.fix or "")
    assert "correct horse" not in str(err).lower()


def test_scrypt_parameters_out_of_range_are_refused_before_deriving(pass_blob: bytes) -> None:
    header, ciphertext = split(pass_blob)
    for bad in ({"n": 2**30}, {"n": 1000}, {"r": 0}, {"p": "1"}, {"n": None}):
        err = open_error(passphrase_sealer("pw"), join({**header, **bad}, ciphertext))
        assert "damaged" in err.what and "scrypt" in err.what


def test_empty_passphrase_is_refused() -> None:
    with pytest.raises(StrandsDeployError) as info:
        passphrase_sealer("")
    assert info.value.where == PASSPHRASE_ENV and info.value.fix


# --- mixing kinds --------------------------------------------------------------------------------


def test_kms_blob_opened_with_passphrase_says_set_kms_key() -> None:
    blob = kms_sealer(FakeKms("alias/acme-state")).seal(STATE)
    err = open_error(passphrase_sealer("pw"), blob)
    assert "KMS key 'alias/acme-state'" in err.what
    assert "kms_key" in (err.fix or "")


def test_passphrase_blob_opened_with_kms_says_set_passphrase(pass_blob: bytes) -> None:
    keys = FakeKms()
    err = open_error(kms_sealer(keys), pass_blob)
    assert "passphrase" in err.what
    assert PASSPHRASE_ENV in (err.fix or "") and "kms_key" in (err.fix or "")
    assert keys.unwrapped == 0


def test_plain_sealer_refuses_sealed_state(pass_blob: bytes) -> None:
    plain = plain_sealer()
    for blob in (pass_blob, kms_sealer(FakeKms()).seal(STATE)):
        err = open_error(plain, blob)
        assert "encrypted client-side" in err.what
        assert "encrypt: client" in (err.fix or "")
        assert "kms_key" in (err.fix or "") and PASSPHRASE_ENV in (err.fix or "")


def test_plaintext_passes_through_every_sealer() -> None:
    plain = plain_sealer()
    assert plain.seal(STATE) == STATE
    assert not is_sealed(STATE) and not is_sealed(b"")
    assert plain.open(STATE, WHERE) == STATE
    assert kms_sealer(FakeKms()).open(STATE, WHERE) == STATE
    assert passphrase_sealer("pw").open(STATE, WHERE) == STATE  # no derivation for plaintext


def test_empty_document_round_trips() -> None:
    sealer = kms_sealer(FakeKms())
    assert sealer.open(sealer.seal(b""), WHERE) == b""
