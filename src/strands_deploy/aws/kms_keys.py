"""KMS data keys for client-side state encryption: ``state.crypto.DataKeys`` over boto3.

``generate`` asks KMS for a new AES-256 data key under the configured key; ``unwrap`` asks KMS to
decrypt a wrapped data key (KMS finds the key from the blob, so a state sealed under another key
still opens when the caller may use that key). Both bind the encryption context
``{"purpose": "strands-deploy-state"}``, so a data key made for something else is not accepted.
Every botocore failure becomes a :class:`StrandsDeployError` naming the state's location and a fix.
"""

from __future__ import annotations

from strands_deploy.aws.errors import error_code, error_message, to_deploy_error
from strands_deploy.aws.session import AwsContext
from strands_deploy.errors import StrandsDeployError

ENCRYPTION_CONTEXT = {"purpose": "strands-deploy-state"}

_GENERATE = "kms:GenerateDataKey"
_DECRYPT = "kms:Decrypt"
_OTHER_KEY_CODES = frozenset({"InvalidCiphertextException", "IncorrectKeyException"})
_DISABLED_CODES = frozenset({"DisabledException", "KMSInvalidStateException"})


class KmsDataKeys:
    """Data keys from the KMS key ``key_id`` (id, ARN or ``alias/...``) for the state at ``location``.

    ``config`` is where ``kms_key`` is set, named in fixes (``environments.prod.state``).
    """

    def __init__(
        self, aws: AwsContext, key_id: str, location: str, *, config: str = "environments.<env>.state"
    ) -> None:
        self.key_id = key_id
        self._aws = aws
        self._location = location
        self._config = config

    def generate(self) -> tuple[bytes, bytes]:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            out = self._aws.client("kms").generate_data_key(
                KeyId=self.key_id, KeySpec="AES_256", EncryptionContext=ENCRYPTION_CONTEXT
            )
        except (ClientError, BotoCoreError) as err:
            raise self._error(err, _GENERATE) from None
        return bytes(out["Plaintext"]), bytes(out["CiphertextBlob"])

    def unwrap(self, wrapped: bytes) -> bytes:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            out = self._aws.client("kms").decrypt(
                CiphertextBlob=wrapped, EncryptionContext=ENCRYPTION_CONTEXT
            )
        except (ClientError, BotoCoreError) as err:
            raise self._error(err, _DECRYPT) from None
        return bytes(out["Plaintext"])

    def _error(self, err: BaseException, action: str) -> StrandsDeployError:
        code = error_code(err)
        # AWS's own message only (not botocore's "An error occurred (...)" wrapper around nothing)
        message = error_message(err).strip() if code else ""
        if message.startswith("An error occurred ("):
            message = ""
        said = f" (AWS said: {message})" if message else ""
        # Decrypt finds the key from the wrapped blob: it may not be the configured one.
        key = (
            f"the KMS key {self.key_id!r}"
            if action == _GENERATE
            else "the KMS key the state was encrypted with"
        )
        where = self._location
        if code == "NotFoundException":
            return StrandsDeployError(
                f"{key} does not exist in region {self._aws.region}{said}",
                where,
                f"create the key (`aws kms create-key`, then `aws kms create-alias --alias-name "
                f"alias/<name> --target-key-id <key id>`) or fix `kms_key` in `{self._config}` "
                "(a key in another region needs its full ARN)",
            )
        if code in ("AccessDeniedException", "AccessDenied"):
            return StrandsDeployError(
                f"not allowed to call {action} on {key}{said}",
                where,
                f"grant {action} on {key} to the identity deploying (its key policy or an IAM policy; "
                "see `aws sts get-caller-identity`), or deploy with a profile that has it",
            )
        if code in _OTHER_KEY_CODES:
            return StrandsDeployError(
                "KMS cannot decrypt the state's data key: it was encrypted under another KMS key "
                f"or account, or it is damaged{said}",
                where,
                "use credentials of the account whose KMS key encrypted the state (with "
                f"{_DECRYPT} on it); if the state is damaged, restore an earlier version of the object",
            )
        if code in _DISABLED_CODES:
            other = f", or set another `kms_key` in `{self._config}`" if action == _GENERATE else ""
            return StrandsDeployError(
                f"{key} is disabled or pending deletion{said}",
                where,
                "enable it (`aws kms enable-key --key-id <key>`) or cancel its deletion "
                f"(`aws kms cancel-key-deletion --key-id <key>`){other}",
            )
        return to_deploy_error(err, where, action)
