"""aws/errors.py: every AWS failure becomes a what/where/fix naming the address and the action."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError, NoCredentialsError

from strands_deploy.aws.errors import (
    AwsCallError,
    call,
    call_or_none,
    convert,
    iam_action,
    is_already_exists,
    is_in_progress_conflict,
    is_not_found,
    to_deploy_error,
)
from strands_deploy.errors import StrandsDeployError
from strands_deploy.providers.base import ProviderContext
from strands_deploy.providers.registry import get_provider, known_types

ADDR = "agent.support.function"


def client_error(
    code: str, message: str, operation: str = "CreateFunction", status: int = 400
) -> ClientError:
    response: Any = {
        "Error": {"Code": code, "Message": message},
        "ResponseMetadata": {"HTTPStatusCode": status},
    }
    return ClientError(response, operation)


def test_access_denied_names_the_missing_action() -> None:
    err = to_deploy_error(
        client_error(
            "AccessDeniedException",
            "User: arn:aws:iam::1:user/dev is not authorized to perform: lambda:CreateFunction on resource: x",
        ),
        ADDR,
        "lambda:CreateFunction",
    )
    assert err.where == ADDR
    assert ADDR in err.what and "lambda:CreateFunction" in err.what
    assert err.fix is not None and err.fix.startswith("grant lambda:CreateFunction")
    assert "iam:PassRole" in err.fix


def test_access_denied_without_details_uses_the_call() -> None:
    err = to_deploy_error(
        client_error("AccessDenied", "Access Denied", "PutBucketEncryption", 403), ADDR, "s3:X"
    )
    assert err.fix is not None and err.fix.startswith("grant s3:X")


def test_conflict_says_what_to_wait_for() -> None:
    exc = client_error("ResourceConflictException", "An update is in progress for resource: arn:...")
    assert is_in_progress_conflict(exc) and not is_already_exists(exc)
    err = to_deploy_error(exc, ADDR, "lambda:UpdateFunctionConfiguration")
    assert err.fix is not None and "in progress" in err.fix and "wait" in err.fix


@pytest.mark.parametrize(
    "code,message",
    [
        ("EntityAlreadyExists", "Role with name x already exists."),
        ("ResourceInUseException", "Table already exists: x"),
        ("ResourceConflictException", "Function already exist: x"),
        ("BucketAlreadyOwnedByYou", "Your previous request to create the named bucket succeeded"),
    ],
)
def test_name_taken_explains_adoption_or_rename(code: str, message: str) -> None:
    exc = client_error(code, message)
    assert is_already_exists(exc)
    err = to_deploy_error(exc, ADDR, "lambda:CreateFunction", resource_name="x")
    assert err.fix is not None and "'x'" in err.fix and "strands:project" in err.fix


def test_bucket_taken_by_another_account_means_rename() -> None:
    err = to_deploy_error(
        client_error("BucketAlreadyExists", "taken", "CreateBucket", 409), ADDR, "s3:CreateBucket"
    )
    assert err.fix is not None and "rename" in err.fix


@pytest.mark.parametrize(
    "exc",
    [
        client_error("ExpiredTokenException", "The security token included in the request is expired"),
        client_error("UnrecognizedClientException", "The security token included in the request is invalid."),
        NoCredentialsError(),
    ],
)
def test_credential_problems_say_how_to_refresh(exc: Exception) -> None:
    err = to_deploy_error(exc, ADDR, "lambda:CreateFunction")
    assert err.fix is not None and "aws sso login" in err.fix


def test_unknown_errors_carry_the_aws_message() -> None:
    err = to_deploy_error(client_error("WeirdException", "the moon is full"), ADDR, "lambda:CreateFunction")
    assert err.fix == "AWS said: the moon is full"
    assert "the moon is full" in err.what


def test_the_engine_can_convert_without_an_action() -> None:
    err = convert(client_error("WeirdException", "oops", "PublishVersion"), ADDR, "")
    assert "PublishVersion" in err.what and err.where == ADDR


def test_secrets_are_redacted() -> None:
    exc = client_error("ValidationException", "Value 'hunter2' at 'value' failed to satisfy constraint")
    err = to_deploy_error(exc, ADDR, "ssm:PutParameter", redact=["hunter2"])
    assert "hunter2" not in str(err) and "****" in err.what
    assert isinstance(err, AwsCallError) and "hunter2" not in err.aws_message


@pytest.mark.parametrize(
    "service,code",
    [
        ("lambda", "ResourceNotFoundException"),
        ("iam", "NoSuchEntity"),
        ("s3", "NoSuchBucket"),
        ("s3", "404"),
        ("sqs", "AWS.SimpleQueueService.NonExistentQueue"),
        ("sns", "NotFound"),
        ("ssm", "ParameterNotFound"),
        ("apigatewayv2", "NotFoundException"),
        ("secretsmanager", "ResourceNotFoundException"),
    ],
)
def test_not_found_codes(service: str, code: str) -> None:
    assert is_not_found(client_error(code, "gone"), service)
    assert is_not_found(client_error(code, "gone"))
    assert not is_not_found(client_error("AccessDeniedException", "no"), service)


def test_iam_actions() -> None:
    assert iam_action("lambda", "CreateFunction") == "lambda:CreateFunction"
    assert iam_action("lambda", "Invoke") == "lambda:InvokeFunction"  # the action is not named after the API
    assert iam_action("apigatewayv2", "CreateRoute") == "apigateway:POST"
    assert iam_action("s3", "PutBucketEncryption") == "s3:PutEncryptionConfiguration"
    assert iam_action("cloudwatch", "PutMetricAlarm") == "cloudwatch:PutMetricAlarm"


def test_call_against_aws(ctx: ProviderContext) -> None:
    lam = ctx.client("lambda")
    assert call_or_none(ADDR, lam, "get_function", FunctionName="nope") is None
    with pytest.raises(StrandsDeployError) as info:
        call(ADDR, lam, "get_function", FunctionName="nope")
    assert info.value.where == ADDR
    assert "lambda:GetFunction failed for agent.support.function" in info.value.what
    assert isinstance(info.value.__cause__, ClientError)


def test_every_registered_type_has_its_provider() -> None:
    for type_name in known_types():
        provider: Any = get_provider(type_name)
        assert provider.type_name == type_name
