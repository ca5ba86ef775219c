"""Who the credentials are: the account id, with credential failures turned into clear errors."""

from __future__ import annotations

from strands_deploy.aws.session import AwsContext
from strands_deploy.errors import StrandsDeployError


def caller_account(aws: AwsContext, env_name: str, profile: str | None) -> str:
    """The account id of the credentials (one STS call); errors say how to fix the credentials."""
    return caller_identity(aws, env_name, profile)[0]


def caller_identity(aws: AwsContext, env_name: str, profile: str | None) -> tuple[str, str]:
    """(account id, caller ARN) of the credentials (one STS call); errors say how to fix them."""
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

    where = f"environments.{env_name}"
    try:
        ident = aws.client("sts").get_caller_identity()
        return str(ident["Account"]), str(ident["Arn"])
    except NoCredentialsError:
        raise StrandsDeployError(
            f"no AWS credentials found for environment {env_name!r}",
            where,
            f"run `aws configure{' --profile ' + profile if profile else ''}` or "
            "`aws sso login`, or set AWS_PROFILE",
        ) from None
    except ClientError as e:
        code = e.response.get("Error", {}).get("Code", "")
        raise StrandsDeployError(
            f"AWS rejected the credentials of environment {env_name!r} ({code})",
            where,
            "refresh them (`aws sso login` or new access keys) and try again",
        ) from None
    except BotoCoreError as e:
        raise StrandsDeployError(
            f"cannot reach AWS for environment {env_name!r}: {e}",
            where,
            "check the region, the endpoint and your network",
        ) from None
