"""Turn botocore failures into :class:`StrandsDeployError` with a what / where / fix the user can act on.

Every AWS call a provider makes goes through :func:`call` (or :func:`call_or_none` for reads), so a
failure always names the resource address and the API action, and says how to fix it:

- access denied → the IAM action to grant;
- a conflicting in-progress operation → what to wait for;
- a name that already exists outside the state → how to adopt it or pick another name;
- expired / missing credentials → how to refresh them;
- anything else → AWS's own message.

Secret values: callers that send a secret pass it in ``redact``; it is masked in every message and
the original exception is not chained (its text could echo the value back).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from strands_deploy.errors import StrandsDeployError

# Error codes meaning "this resource does not exist", per boto3 service name.
NOT_FOUND_CODES: dict[str, frozenset[str]] = {
    "lambda": frozenset({"ResourceNotFoundException"}),
    "iam": frozenset({"NoSuchEntity", "NoSuchEntityException"}),
    "logs": frozenset({"ResourceNotFoundException"}),
    "s3": frozenset({"NoSuchBucket", "404", "NotFound"}),
    "sqs": frozenset({"AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist", "NonExistentQueue"}),
    "sns": frozenset({"NotFound", "NotFoundException", "ResourceNotFound"}),
    "dynamodb": frozenset({"ResourceNotFoundException", "TableNotFoundException"}),
    "apigatewayv2": frozenset({"NotFoundException"}),
    "cloudwatch": frozenset({"ResourceNotFound", "ResourceNotFoundException"}),
    "secretsmanager": frozenset({"ResourceNotFoundException"}),
    "ssm": frozenset({"ParameterNotFound", "InvalidResourceId"}),
}
_ALL_NOT_FOUND: frozenset[str] = frozenset().union(*NOT_FOUND_CODES.values())

# "This name is taken": the resource exists in the account (or, for S3, anywhere) but not in the state.
ALREADY_EXISTS_CODES = frozenset(
    {
        "EntityAlreadyExists",
        "ResourceInUseException",
        "ResourceInUse",
        "BucketAlreadyExists",
        "BucketAlreadyOwnedByYou",
        "ResourceAlreadyExistsException",
        "ResourceExistsException",
        "QueueAlreadyExists",
        "QueueNameExists",
        "ParameterAlreadyExists",
        "AlreadyExistsException",
    }
)

ACCESS_DENIED_CODES = frozenset(
    {
        "AccessDenied",
        "AccessDeniedException",
        "UnauthorizedOperation",
        "AuthorizationError",
        "AuthorizationErrorException",
        "Forbidden",
        "403",
    }
)

CREDENTIAL_CODES = frozenset(
    {
        "ExpiredToken",
        "ExpiredTokenException",
        "InvalidClientTokenId",
        "UnrecognizedClientException",
        "InvalidAccessKeyId",
        "SignatureDoesNotMatch",
        "InvalidSignatureException",
        "TokenRefreshRequired",
        "RequestExpired",
        "MissingAuthenticationToken",
    }
)

THROTTLING_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "SlowDown",
        "ProvisionedThroughputExceededException",
    }
)

# IAM action prefix when it differs from the boto3 service name.
_IAM_PREFIX = {"apigatewayv2": "apigateway", "monitoring": "cloudwatch"}

# S3 operations whose IAM action is not named after the operation.
_S3_ACTIONS = {
    "HeadBucket": "ListBucket",
    "ListObjectVersions": "ListBucketVersions",
    "ListObjectsV2": "ListBucket",
    "DeleteObjects": "DeleteObject",
    "PutBucketEncryption": "PutEncryptionConfiguration",
    "GetBucketEncryption": "GetEncryptionConfiguration",
    "PutPublicAccessBlock": "PutBucketPublicAccessBlock",
    "GetPublicAccessBlock": "GetBucketPublicAccessBlock",
}

# Operations whose IAM action has another name (service, operation) -> action.
_RENAMED_ACTIONS = {("lambda", "Invoke"): "lambda:InvokeFunction"}

# API Gateway v2 actions are HTTP verbs on the resource path.
_APIGW_VERBS = (
    ("Create", "POST"),
    ("Get", "GET"),
    ("Update", "PATCH"),
    ("Delete", "DELETE"),
    ("Tag", "POST"),
    ("Untag", "DELETE"),
)

# Extra permissions AWS checks for some calls (shown alongside the call's own action).
_EXTRA_ACTIONS = {
    "lambda:CreateFunction": ("iam:PassRole",),
    "lambda:UpdateFunctionConfiguration": ("iam:PassRole",),
}

_AUTHORIZED_RE = re.compile(r"not authorized to perform:?\s+([a-z0-9-]+:[A-Za-z0-9*]+)")


class AwsCallError(StrandsDeployError):
    """A failed AWS call, converted: keeps AWS's error code and (redacted) message for callers."""

    def __init__(
        self, what: str, where: str | None, fix: str | None, *, code: str, action: str, aws_message: str
    ) -> None:
        self.code = code
        self.action = action
        self.aws_message = aws_message
        super().__init__(what, where, fix)


def error_code(err: BaseException) -> str:
    """The AWS error code of a ClientError or AwsCallError ('' for anything else)."""
    if isinstance(err, AwsCallError):
        return err.code
    response = getattr(err, "response", None)
    if not isinstance(response, dict):
        return ""
    code = response.get("Error", {}).get("Code")
    if code:
        return str(code)
    status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return str(status) if status else ""


def error_message(err: BaseException) -> str:
    if isinstance(err, AwsCallError):
        return err.aws_message
    response = getattr(err, "response", None)
    if isinstance(response, dict):
        msg = response.get("Error", {}).get("Message")
        if msg:
            return str(msg)
    return str(err)


def is_not_found(err: BaseException, service: str | None = None) -> bool:
    """True when ``err`` says the resource does not exist (per ``service``'s codes, or any service's)."""
    codes = NOT_FOUND_CODES.get(service, _ALL_NOT_FOUND) if service else _ALL_NOT_FOUND
    code = error_code(err)
    if code in codes:
        return True
    # Some APIs answer "not found" with a generic code and a message.
    if code in ("ValidationError", "InvalidParameterValueException", "InvalidParameterException"):
        msg = error_message(err).lower()
        return "does not exist" in msg or "not found" in msg
    return False


def is_already_exists(err: BaseException) -> bool:
    code = error_code(err)
    if code in ALREADY_EXISTS_CODES:
        return True
    # Lambda: CreateFunction on an existing name is a ResourceConflictException "already exist".
    return code in ("ResourceConflictException", "ConflictException") and "already exist" in (
        error_message(err).lower()
    )


def is_in_progress_conflict(err: BaseException) -> bool:
    """Lambda's 'an update is in progress for this function' (and similar): wait and retry."""
    code = error_code(err)
    if code not in ("ResourceConflictException", "ConflictException", "OperationAbortedException"):
        return False
    return not is_already_exists(err)


def iam_action(service: str, operation: str) -> str:
    """The IAM action for a boto3 service name and API operation name (``lambda:CreateFunction``)."""
    if service == "apigatewayv2":
        for prefix, verb in _APIGW_VERBS:
            if operation.startswith(prefix):
                return f"apigateway:{verb}"
        return "apigateway:*"
    if service == "s3":
        return f"s3:{_S3_ACTIONS.get(operation, operation)}"
    renamed = _RENAMED_ACTIONS.get((service, operation))
    if renamed:
        return renamed
    return f"{_IAM_PREFIX.get(service, service)}:{operation}"


def _redact(text: str, secrets: Iterable[str]) -> str:
    for value in secrets:
        if value:
            text = text.replace(value, "****")
    return text


def _is_credential_error(err: BaseException) -> bool:
    try:
        from botocore import exceptions as bex
    except ImportError:  # pragma: no cover - boto3 is a dependency
        return False
    credential_types: tuple[type[BaseException], ...] = (
        bex.NoCredentialsError,
        bex.PartialCredentialsError,
        bex.CredentialRetrievalError,
        bex.TokenRetrievalError,
        bex.SSOTokenLoadError,
        bex.UnauthorizedSSOTokenError,
        bex.ProfileNotFound,
    )
    return isinstance(err, credential_types) or error_code(err) in CREDENTIAL_CODES


def to_deploy_error(
    err: BaseException,
    address: str,
    call: str,
    *,
    resource_name: str | None = None,
    redact: Sequence[str] = (),
) -> StrandsDeployError:
    """Convert a botocore ``ClientError``/``BotoCoreError`` raised by ``call`` on ``address``.

    ``call`` is the IAM-style action (``lambda:CreateFunction``). ``resource_name`` is the AWS name
    the call used (for already-exists messages). Any string in ``redact`` is masked everywhere.
    """
    if isinstance(err, StrandsDeployError):
        return err
    if not call:
        operation = getattr(err, "operation_name", None)
        call = str(operation) if operation else "an AWS call"
    code = error_code(err)
    message = _redact(error_message(err), redact).strip()
    label = f" ({code})" if code else ""
    what = f"{call} failed for {address}{label}: {message}"
    named = f" named {resource_name!r}" if resource_name else ""

    fix: str
    if code in ACCESS_DENIED_CODES or "not authorized to perform" in message:
        match = _AUTHORIZED_RE.search(message)
        action = match.group(1) if match else call
        extra = [a for a in _EXTRA_ACTIONS.get(call, ()) if a != action]
        also = f" (and {', '.join(extra)} on the execution role)" if extra else ""
        fix = (
            f"grant {action}{also} to the identity deploying (see `aws sts get-caller-identity`), "
            "or deploy with a profile that has it"
        )
    elif _is_credential_error(err):
        fix = (
            "refresh your AWS credentials: `aws sso login --profile <profile>` for SSO, or export new "
            "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_SESSION_TOKEN, then run the command again"
        )
    elif code == "QueueDeletedRecently":
        fix = "SQS keeps a deleted queue's name for 60 seconds: wait a minute and deploy again"
    elif is_already_exists(err):
        if code == "BucketAlreadyExists":
            fix = (
                "S3 bucket names are global and this one belongs to another account: rename the "
                "resource or the project/environment in strands.yaml so the bucket name changes"
            )
        else:
            fix = (
                f"a resource{named} already exists in the account but is not in this environment's "
                "state: delete it or choose another name in strands.yaml; if this project created it, "
                "tag it strands:project=<project> and strands:environment=<environment> and deploy "
                "again so it is adopted"
            )
    elif is_in_progress_conflict(err) or code == "ResourceInUseException":
        fix = (
            "another operation on this resource is still in progress (for a function, "
            "`aws lambda wait function-updated --function-name <name>`); wait for it to finish and "
            "deploy again"
        )
    elif code in THROTTLING_CODES:
        fix = "AWS is throttling requests even after retries: wait a minute and deploy again"
    elif code in ("RequestEntityTooLargeException", "CodeStorageExceededException"):
        fix = (
            "the package is larger than Lambda accepts in a direct upload (50 MB zipped, 250 MB "
            "unzipped) or the account's code storage is full: trim requirements or delete old versions"
        )
    elif _is_endpoint_error(err):
        fix = "check your network connection and the environment's region/endpoint settings"
    else:
        fix = f"AWS said: {message}" if message else "check the resource in the AWS console"
    return AwsCallError(what, address, fix, code=code, action=call, aws_message=message)


# The name the engine uses for the same conversion (an address and, when known, the action).
convert = to_deploy_error


def _is_endpoint_error(err: BaseException) -> bool:
    try:
        from botocore import exceptions as bex
    except ImportError:  # pragma: no cover
        return False
    return isinstance(err, bex.EndpointConnectionError | bex.ConnectTimeoutError | bex.ReadTimeoutError)


def _aws_errors() -> tuple[type[BaseException], ...]:
    from botocore.exceptions import BotoCoreError, ClientError

    return (ClientError, BotoCoreError)


def action_for(client: Any, method: str) -> str:
    """IAM action for a boto3 client method (``create_function`` on lambda → ``lambda:CreateFunction``)."""
    meta = getattr(client, "meta", None)
    service = getattr(getattr(meta, "service_model", None), "service_name", "") or "aws"
    mapping = getattr(meta, "method_to_api_mapping", {}) or {}
    operation = mapping.get(method) or "".join(p.capitalize() for p in method.split("_"))
    return iam_action(service, operation)


def call(
    address: str,
    client: Any,
    method: str,
    /,
    *,
    redact: Sequence[str] = (),
    resource_name: str | None = None,
    **kwargs: Any,
) -> Any:
    """``client.<method>(**kwargs)``; any AWS failure becomes a :class:`StrandsDeployError`."""
    try:
        return getattr(client, method)(**kwargs)
    except _aws_errors() as err:
        converted = to_deploy_error(
            err, address, action_for(client, method), resource_name=resource_name, redact=redact
        )
        if redact:
            raise converted from None
        raise converted from err


def call_or_none(address: str, client: Any, method: str, /, **kwargs: Any) -> Any | None:
    """Like :func:`call` but returns ``None`` when AWS says the resource does not exist."""
    service = getattr(getattr(client.meta, "service_model", None), "service_name", None)
    try:
        return getattr(client, method)(**kwargs)
    except _aws_errors() as err:
        if is_not_found(err, service):
            return None
        raise to_deploy_error(err, address, action_for(client, method)) from err


def ignore_not_found(address: str, client: Any, method: str, /, **kwargs: Any) -> bool:
    """Run a delete-style call; True if it acted, False if the target was already gone."""
    return call_or_none(address, client, method, **kwargs) is not None
