"""KmsDataKeys (aws/kms_keys.py) with the KMS sealer, against a real moto server."""

from __future__ import annotations

import base64
import json
import struct
from typing import Any

import pytest

from strands_deploy.aws.kms_keys import ENCRYPTION_CONTEXT, KmsDataKeys
from strands_deploy.aws.session import AwsContext, AwsSettings
from strands_deploy.errors import StrandsDeployError
from strands_deploy.state.crypto import MAGIC, is_sealed, kms_sealer
from tests.conftest import free_port

WHERE = "s3://b/k"
STATE = json.dumps(
    {
        "resources": {
            "table.items": {
                "name": "acme-prod-items",
                "arn": "arn:aws:dynamodb:us-east-1:123456789012:table/acme-prod-items",
            }
        }
    }
).encode()


def make_key(aws: AwsContext, alias: str) -> str:
    kms = aws.client("kms")
    key_id = kms.create_key(Description="strands state")["KeyMetadata"]["KeyId"]
    kms.create_alias(AliasName=alias, TargetKeyId=key_id)
    return key_id


def split(blob: bytes) -> tuple[dict[str, Any], bytes]:
    start = len(MAGIC) + 4
    (size,) = struct.unpack(">I", blob[len(MAGIC) : start])
    return json.loads(blob[start : start + size]), blob[start + size :]


def join(header: dict[str, Any], ciphertext: bytes) -> bytes:
    raw = json.dumps(header, sort_keys=True, separators=(",", ":")).encode()
    return MAGIC + struct.pack(">I", len(raw)) + raw + ciphertext


def with_wrapped(blob: bytes, wrapped: bytes) -> bytes:
    header, ciphertext = split(blob)
    return join({**header, "wrapped_key": base64.b64encode(wrapped).decode()}, ciphertext)


def open_error(aws: AwsContext, key_id: str, blob: bytes) -> StrandsDeployError:
    with pytest.raises(StrandsDeployError) as info:
        kms_sealer(KmsDataKeys(aws, key_id, WHERE)).open(blob, WHERE)
    err = info.value
    assert err.where == WHERE and err.fix
    assert err.__cause__ is None and err.__suppress_context__
    return err


def test_round_trip_through_kms(aws: AwsContext) -> None:
    make_key(aws, "alias/strands-state")
    sealer = kms_sealer(KmsDataKeys(aws, "alias/strands-state", WHERE))
    blob = sealer.seal(STATE)
    second = sealer.seal(b"second")
    assert is_sealed(blob)
    assert b"acme-prod-items" not in blob and b"arn:aws:dynamodb" not in blob
    assert split(blob)[0]["wrapped_key"] == split(second)[0]["wrapped_key"]  # one data key
    assert sealer.open(blob, WHERE) == STATE
    # another process (a fresh sealer and data keys object) opens it through kms:Decrypt
    reader = kms_sealer(KmsDataKeys(aws, "alias/strands-state", WHERE))
    assert reader.open(blob, WHERE) == STATE
    assert reader.open(second, WHERE) == b"second"


def test_missing_alias_is_a_clear_error(aws: AwsContext) -> None:
    keys = KmsDataKeys(aws, "alias/nope", WHERE, config="environments.prod.state")
    with pytest.raises(StrandsDeployError) as info:
        kms_sealer(keys).seal(STATE)
    err = info.value
    assert err.where == WHERE
    assert "'alias/nope' does not exist" in err.what and "us-east-1" in err.what
    assert "create-key" in (err.fix or "") and "`kms_key` in `environments.prod.state`" in (err.fix or "")
    assert err.__cause__ is None and err.__suppress_context__


def test_blob_of_another_key_still_opens(aws: AwsContext) -> None:
    make_key(aws, "alias/old")
    make_key(aws, "alias/new")
    blob = kms_sealer(KmsDataKeys(aws, "alias/old", WHERE)).seal(STATE)
    assert kms_sealer(KmsDataKeys(aws, "alias/new", WHERE)).open(blob, WHERE) == STATE


def test_corrupted_wrapped_key_is_a_clear_error(aws: AwsContext) -> None:
    make_key(aws, "alias/strands-state")
    blob = kms_sealer(KmsDataKeys(aws, "alias/strands-state", WHERE)).seal(STATE)
    wrapped = bytearray(base64.b64decode(split(blob)[0]["wrapped_key"]))
    wrapped[-1] ^= 0x01
    err = open_error(aws, "alias/strands-state", with_wrapped(blob, bytes(wrapped)))
    assert "another KMS key or account, or it is damaged" in err.what
    assert "kms:Decrypt" in (err.fix or "")


def test_wrapped_key_of_an_unknown_key_names_the_decrypt_action(aws: AwsContext) -> None:
    make_key(aws, "alias/strands-state")
    blob = kms_sealer(KmsDataKeys(aws, "alias/strands-state", WHERE)).seal(STATE)
    wrapped = bytearray(base64.b64decode(split(blob)[0]["wrapped_key"]))
    wrapped[:4] = b"zzzz"  # moto's blob starts with the key id: now a key that does not exist
    err = open_error(aws, "alias/strands-state", with_wrapped(blob, bytes(wrapped)))
    assert "kms:Decrypt" in (err.fix or "")


def test_data_key_made_for_another_purpose_is_refused(aws: AwsContext) -> None:
    key_id = make_key(aws, "alias/strands-state")
    blob = kms_sealer(KmsDataKeys(aws, "alias/strands-state", WHERE)).seal(STATE)
    other = aws.client("kms").generate_data_key(KeyId=key_id, KeySpec="AES_256")  # no context
    err = open_error(aws, "alias/strands-state", with_wrapped(blob, other["CiphertextBlob"]))
    assert "data key" in err.what
    ok = aws.client("kms").generate_data_key(
        KeyId=key_id, KeySpec="AES_256", EncryptionContext=ENCRYPTION_CONTEXT
    )
    assert KmsDataKeys(aws, "alias/strands-state", WHERE).unwrap(ok["CiphertextBlob"]) == ok["Plaintext"]


@pytest.mark.parametrize(
    ("code", "action", "expect"),
    [
        ("DisabledException", "generate", "enable-key"),
        ("KMSInvalidStateException", "unwrap", "cancel-key-deletion"),
        ("AccessDeniedException", "generate", "grant kms:GenerateDataKey"),
        ("AccessDeniedException", "unwrap", "grant kms:Decrypt"),
        ("IncorrectKeyException", "unwrap", "account whose KMS key"),
        ("NotFoundException", "unwrap", "create the key"),
        ("ExpiredTokenException", "generate", "refresh your AWS credentials"),
    ],
)
def test_kms_error_codes_become_clear_errors(aws: AwsContext, code: str, action: str, expect: str) -> None:
    """Codes moto does not produce (a disabled key still works there): stubbed on the real client."""
    from botocore.stub import Stubber

    keys = KmsDataKeys(aws, "alias/strands-state", WHERE)
    method = "generate_data_key" if action == "generate" else "decrypt"
    with Stubber(aws.client("kms")) as stub:
        stub.add_client_error(method, service_error_code=code, service_message="arn:aws:kms:... says no")
        with pytest.raises(StrandsDeployError) as info:
            keys.generate() if action == "generate" else keys.unwrap(b"wrapped")
    err = info.value
    assert err.where == WHERE and expect in (err.fix or "")
    assert err.__cause__ is None and err.__suppress_context__


def test_unreachable_endpoint_is_a_clear_error() -> None:
    endpoint = f"http://127.0.0.1:{free_port()}"
    aws = AwsContext(AwsSettings(region="us-east-1", endpoint_url=endpoint, local=True, max_attempts=1))
    with pytest.raises(StrandsDeployError) as info:
        KmsDataKeys(aws, "alias/strands-state", WHERE).generate()
    err = info.value
    assert err.where == WHERE
    assert "kms:GenerateDataKey" in err.what and "network" in (err.fix or "")
