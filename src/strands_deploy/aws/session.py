"""Sessions and a thread-safe client cache: the only place that builds boto3 clients.

An :class:`AwsContext` is made once per command from the environment's settings and handed to
everything that talks to AWS. Clients are created lazily, once per service, and shared between
threads (boto3 clients are thread-safe; sessions are not, so creation is under a lock).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol, overload

if TYPE_CHECKING:
    # The boto3 stubs (dev dependency) type every client; nothing is imported at run time.
    from mypy_boto3_apigatewayv2 import ApiGatewayV2Client
    from mypy_boto3_cloudwatch import CloudWatchClient
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_events import EventBridgeClient
    from mypy_boto3_iam import IAMClient
    from mypy_boto3_kms import KMSClient
    from mypy_boto3_lambda import LambdaClient
    from mypy_boto3_logs import CloudWatchLogsClient
    from mypy_boto3_resourcegroupstaggingapi import ResourceGroupsTaggingAPIClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_secretsmanager import SecretsManagerClient
    from mypy_boto3_sns import SNSClient
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_ssm import SSMClient
    from mypy_boto3_sts import STSClient


class ClientFactory(Protocol):
    """What ``client`` is: one overload per service the package uses, so mypy checks each call
    against the boto3 stubs. A service not listed here is a type error: add its overload (and its
    boto3-stubs extra). The one list for AwsContext, ProviderContext and the waiters."""

    @overload
    def __call__(self, service: Literal["apigatewayv2"]) -> ApiGatewayV2Client: ...
    @overload
    def __call__(self, service: Literal["cloudwatch"]) -> CloudWatchClient: ...
    @overload
    def __call__(self, service: Literal["dynamodb"]) -> DynamoDBClient: ...
    @overload
    def __call__(self, service: Literal["events"]) -> EventBridgeClient: ...
    @overload
    def __call__(self, service: Literal["iam"]) -> IAMClient: ...
    @overload
    def __call__(self, service: Literal["kms"]) -> KMSClient: ...
    @overload
    def __call__(self, service: Literal["lambda"]) -> LambdaClient: ...
    @overload
    def __call__(self, service: Literal["logs"]) -> CloudWatchLogsClient: ...
    @overload
    def __call__(self, service: Literal["resourcegroupstaggingapi"]) -> ResourceGroupsTaggingAPIClient: ...
    @overload
    def __call__(self, service: Literal["s3"]) -> S3Client: ...
    @overload
    def __call__(self, service: Literal["secretsmanager"]) -> SecretsManagerClient: ...
    @overload
    def __call__(self, service: Literal["sns"]) -> SNSClient: ...
    @overload
    def __call__(self, service: Literal["sqs"]) -> SQSClient: ...
    @overload
    def __call__(self, service: Literal["ssm"]) -> SSMClient: ...
    @overload
    def __call__(self, service: Literal["sts"]) -> STSClient: ...
    def __call__(self, service: str) -> Any: ...


LOCAL_ACCOUNT = "123456789012"
LOCAL_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


@dataclass
class AwsSettings:
    region: str
    endpoint_url: str | None = None  # local cloud / LocalStack / moto server
    profile: str | None = None
    account: str | None = None  # expected account id (checked when set)
    local: bool = False  # dummy credentials, emulator endpoint
    max_attempts: int = 10
    # "standard": exponential backoff with jitter on throttling and transient errors. Not
    # "adaptive": its client-side rate limiter collapses towards 0.5 requests/s after a few
    # throttles (measured: a 50-resource deploy with 30% throttled calls took 99 s instead of
    # ~10 s); the engine's own concurrency cap already bounds how many calls are in flight.
    retry_mode: Literal["standard", "adaptive", "legacy"] = "standard"
    # pace calls to AWS's per-account API quotas (aws/pacing.py); off for the embedded emulator
    pacing: bool = True
    max_pool_connections: int = 50


@dataclass
class AwsContext:
    settings: AwsSettings
    _clients: dict[str, Any] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _session: Any = None
    _pacer: Any = None

    @property
    def region(self) -> str:
        return self.settings.region

    @property
    def endpoint_url(self) -> str | None:
        return self.settings.endpoint_url

    def session(self) -> Any:
        import boto3

        with self._lock:
            if self._session is None:
                kwargs: dict[str, Any] = {"region_name": self.settings.region}
                if self.settings.local:
                    kwargs.update(LOCAL_CREDENTIALS)
                elif self.settings.profile:
                    kwargs["profile_name"] = self.settings.profile
                self._session = _new_session(boto3, kwargs)
                from strands_deploy.aws.calllog import MONITOR

                MONITOR.attach(self._session.events)  # -v and the progress spinner see each call
            return self._session

    @property
    def client(self) -> ClientFactory:
        """``client("s3")``: the shared client of a service, typed by the boto3 stubs."""
        return self._client

    def _client(self, service: str) -> Any:
        cached = self._clients.get(service)
        if cached is not None:
            return cached
        from botocore.config import Config

        session = self.session()
        with self._lock:
            if service not in self._clients:
                config = Config(
                    retries={"mode": self.settings.retry_mode, "max_attempts": self.settings.max_attempts},
                    max_pool_connections=self.settings.max_pool_connections,
                    connect_timeout=5,
                    read_timeout=120,
                    user_agent_extra="strands-deploy",
                )
                client = session.client(service, endpoint_url=self.settings.endpoint_url, config=config)
                if self.settings.pacing and not self.settings.local:
                    if self._pacer is None:
                        from strands_deploy.aws.pacing import Pacer

                        self._pacer = Pacer()
                    self._pacer.attach(client)
                self._clients[service] = client
            return self._clients[service]

    def account_id(self) -> str:
        if self.settings.local:
            return self.settings.account or LOCAL_ACCOUNT
        ident = self.client("sts").get_caller_identity()
        return str(ident["Account"])


def _new_session(boto3: Any, kwargs: dict[str, Any]) -> Any:
    """A boto3 session; a profile that is not configured is an error saying how to configure it."""
    from botocore.exceptions import ProfileNotFound

    from strands_deploy.errors import StrandsDeployError

    try:
        return boto3.session.Session(**kwargs)
    except ProfileNotFound:
        profile = kwargs.get("profile_name")
        raise StrandsDeployError(
            f"the AWS profile {profile!r} is not configured on this machine",
            "environments.<env>.profile",
            f"configure it: `aws configure --profile {profile}` (access keys) or "
            f"`aws configure sso --profile {profile}` then `aws sso login --profile {profile}` (SSO); "
            "or set the environment's profile to one listed by `aws configure list-profiles`",
        ) from None
