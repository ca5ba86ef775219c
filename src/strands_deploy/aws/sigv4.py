"""SigV4-signed HTTP requests to an agent's endpoint (a Function URL or an HTTP API route with
``auth: iam``), with the credentials of an :class:`AwsContext`.

The Lambda and API Gateway APIs sign themselves (boto3); an endpoint called over plain HTTP does
not, and answers 403 ``Forbidden`` to an unsigned request when its auth is ``AWS_IAM``.
:func:`signed_headers` returns the headers that make such a request acceptable: sign exactly the
method, URL and body that are then sent.

Which service name to sign for: ``lambda`` for a Function URL, ``execute-api`` for an HTTP API;
:func:`endpoint_service` tells them apart from the URL, on AWS and on the local cloud
(``<base>/lambda-url/<id>/``, ``<base>/execute-api/<api id>``). The local cloud accepts any
credentials and does not verify the signature, as moto does.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from typing import Literal
from urllib.parse import urlsplit

from strands_deploy.aws.session import AwsContext
from strands_deploy.errors import StrandsDeployError

EndpointService = Literal["lambda", "execute-api"]

_AWS_HOST = re.compile(
    r"^[0-9a-z]+\.(?:(?P<url>lambda-url)\.(?P<url_region>[a-z0-9-]+)\.on\.aws"
    r"|(?P<api>execute-api)\.(?P<api_region>[a-z0-9-]+)\.amazonaws\.com(?:\.cn)?)$"
)


def endpoint_service(url: str) -> tuple[EndpointService, str | None]:
    """(service to sign for, region named by the host or None) of a Function URL or HTTP API URL.

    A URL of neither kind (a custom domain) is an error: say which service it fronts instead.
    """
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    m = _AWS_HOST.match(host)
    if m and m.group("url"):
        return "lambda", m.group("url_region")
    if m and m.group("api"):
        return "execute-api", m.group("api_region")
    if parts.path.startswith("/lambda-url/"):  # the local cloud's front doors
        return "lambda", None
    if parts.path.startswith("/execute-api/"):
        return "execute-api", None
    raise StrandsDeployError(
        f"cannot tell whether {url} is a Function URL or an HTTP API",
        fix="pass service='lambda' (Function URL) or service='execute-api' (HTTP API)",
    )


def signed_headers(
    aws: AwsContext,
    method: str,
    url: str,
    *,
    body: bytes = b"",
    headers: Mapping[str, str] | None = None,
    service: EndpointService | None = None,
    region: str | None = None,
) -> dict[str, str]:
    """``headers`` plus the SigV4 ones (``Authorization``, ``X-Amz-Date``, ``X-Amz-Content-SHA256``
    and ``X-Amz-Security-Token`` for temporary credentials) for ``method url`` with ``body``.

    ``service`` and ``region`` default to what the URL names (:func:`endpoint_service`), then to
    the context's region. The credentials are the context's session's (profile, SSO, environment).
    """
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest

    signing_service, url_region = (service, None) if service else endpoint_service(url)
    credentials = aws.session().get_credentials()
    if credentials is None:
        raise StrandsDeployError(
            f"no AWS credentials to sign the request to {url}",
            fix="run `aws configure` or `aws sso login`, or set AWS_PROFILE",
        )
    request = AWSRequest(method=method.upper(), url=url, data=body, headers=dict(headers or {}))
    # The body's hash is part of the signature and sent along, as Function URLs require.
    request.headers["X-Amz-Content-SHA256"] = hashlib.sha256(body).hexdigest()
    SigV4Auth(
        credentials.get_frozen_credentials(), signing_service, region or url_region or aws.region
    ).add_auth(request)
    return dict(request.headers.items())
