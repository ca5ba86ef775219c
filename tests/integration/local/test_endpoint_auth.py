"""The local cloud's front doors enforce endpoint auth as AWS does: AWS_IAM Function URLs and routes
refuse unsigned requests (403), JWT routes refuse a missing or unacceptable token (401) and pass
the claims of a good one to the function. Signed requests use strands_deploy.aws.sigv4."""

from __future__ import annotations

import base64
import json
import time
import urllib.error
import urllib.request
from typing import Any

import pytest

from strands_deploy.aws.session import AwsContext, AwsSettings
from strands_deploy.aws.sigv4 import endpoint_service, signed_headers
from strands_deploy.errors import StrandsDeployError
from tests.integration.local.conftest import Cloud, create_function, unique

ECHO = """
import json

def handler(event, context):
    return {"statusCode": 200, "body": json.dumps({"event": event})}
"""
ISSUER = "https://issuer.example.com/pool-1"
AUDIENCE = "client-1"


def _call(url: str, data: bytes = b"{}", headers: dict[str, str] | None = None) -> tuple[int, Any]:
    req = urllib.request.Request(url, data=data, method="POST", headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def _aws(cloud: Cloud) -> AwsContext:
    return AwsContext(AwsSettings(region="us-east-1", endpoint_url=cloud.endpoint, local=True))


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def token(**claims: Any) -> str:
    """A JWT (unsigned signature segment: the local cloud cannot check signatures offline)."""
    body = {"iss": ISSUER, "aud": AUDIENCE, "sub": "user-1", "exp": int(time.time()) + 600, **claims}
    body = {k: v for k, v in body.items() if v is not None}
    return f"{_b64({'alg': 'RS256', 'kid': 'k1'})}.{_b64(body)}.c2lnbmF0dXJl"


def _api_with_route(cloud: Cloud, role_arn: str, version: str = "2.0", **route: Any) -> tuple[str, str]:
    """An HTTP API with one route ``POST /agent`` to an echo function: (api id, route URL)."""
    lam, apigw = cloud.client("lambda"), cloud.client("apigatewayv2")
    name = create_function(cloud, role_arn, ECHO)
    fn_arn = lam.get_function(FunctionName=name)["Configuration"]["FunctionArn"]
    api = apigw.create_api(Name=unique("api"), ProtocolType="HTTP")
    integ = apigw.create_integration(
        ApiId=api["ApiId"], IntegrationType="AWS_PROXY", IntegrationUri=fn_arn, PayloadFormatVersion=version
    )
    if route.pop("jwt", False):
        authorizer = apigw.create_authorizer(
            ApiId=api["ApiId"],
            Name="jwt",
            AuthorizerType="JWT",
            IdentitySource=["$request.header.Authorization"],
            JwtConfiguration={"Issuer": ISSUER, "Audience": [AUDIENCE, "client-2"]},
        )
        route.update(AuthorizationType="JWT", AuthorizerId=authorizer["AuthorizerId"])
    apigw.create_route(
        ApiId=api["ApiId"], RouteKey="POST /agent", Target=f"integrations/{integ['IntegrationId']}", **route
    )
    apigw.create_stage(ApiId=api["ApiId"], StageName="$default", AutoDeploy=True)
    return api["ApiId"], f"{api['ApiEndpoint']}/agent"


def test_iam_function_url_refuses_unsigned_and_serves_signed(cloud: Cloud, role_arn: str) -> None:
    lam = cloud.client("lambda")
    name = create_function(cloud, role_arn, ECHO)
    url = lam.create_function_url_config(FunctionName=name, AuthType="AWS_IAM")["FunctionUrl"]

    assert _call(url) == (403, {"Message": "Forbidden"})
    bogus = {"Authorization": "Bearer abc"}  # not SigV4
    assert _call(url, headers=bogus)[0] == 403

    headers = signed_headers(_aws(cloud), "POST", url, body=b"{}")
    assert headers["Authorization"].startswith("AWS4-HMAC-SHA256 Credential=testing/")
    assert "/us-east-1/lambda/aws4_request" in headers["Authorization"]
    status, body = _call(url, headers=headers)
    assert status == 200
    assert body["event"]["requestContext"]["authorizer"]["iam"]["accessKey"] == "testing"


def test_public_function_url_needs_no_signature(cloud: Cloud, role_arn: str) -> None:
    lam = cloud.client("lambda")
    name = create_function(cloud, role_arn, ECHO)
    url = lam.create_function_url_config(FunctionName=name, AuthType="NONE")["FunctionUrl"]
    status, body = _call(url)
    assert status == 200 and "authorizer" not in body["event"]["requestContext"]


def test_iam_route_refuses_unsigned_and_serves_signed(cloud: Cloud, role_arn: str) -> None:
    _, url = _api_with_route(cloud, role_arn, AuthorizationType="AWS_IAM")
    assert _call(url) == (403, {"message": "Forbidden"})

    headers = signed_headers(_aws(cloud), "POST", url, body=b"{}")
    assert "/us-east-1/execute-api/aws4_request" in headers["Authorization"]
    status, body = _call(url, headers=headers)
    assert status == 200
    assert body["event"]["requestContext"]["authorizer"]["iam"]["accessKey"] == "testing"


def test_jwt_route_refuses_missing_and_bad_tokens(cloud: Cloud, role_arn: str) -> None:
    _, url = _api_with_route(cloud, role_arn, jwt=True)
    unauthorized = (401, {"message": "Unauthorized"})
    assert _call(url) == unauthorized
    for bad in (
        token(iss="https://someone-else.example.com/"),
        token(aud="another-client"),
        token(exp=int(time.time()) - 5),
        token(exp=None),
        token(nbf=int(time.time()) + 600),
        "not-a-jwt",
        f"{_b64({'alg': 'none'})}.!!!.x",
    ):
        assert _call(url, headers={"Authorization": f"Bearer {bad}"}) == unauthorized, bad
    # a SigV4 signature is no JWT
    signed = signed_headers(_aws(cloud), "POST", url, body=b"{}")
    assert _call(url, headers=signed) == unauthorized


def test_jwt_route_passes_the_claims_of_a_good_token(cloud: Cloud, role_arn: str) -> None:
    _, url = _api_with_route(cloud, role_arn, jwt=True)
    good = token(groups=["admin", "ops"], aud=["other", "client-2"])
    status, body = _call(url, headers={"Authorization": f"Bearer {good}"})
    assert status == 200
    jwt = body["event"]["requestContext"]["authorizer"]["jwt"]
    claims = jwt["claims"]
    assert (claims["iss"], claims["sub"]) == (ISSUER, "user-1")
    assert claims["groups"] == "[admin ops]"  # API Gateway passes every claim as a string
    assert isinstance(claims["exp"], str)
    assert jwt["scopes"] is None
    # the token without "Bearer " is accepted too, as API Gateway does; client_id stands for aud
    status, _ = _call(url, headers={"Authorization": token(aud=None, client_id=AUDIENCE)})
    assert status == 200


def test_jwt_route_with_scopes_and_payload_1(cloud: Cloud, role_arn: str) -> None:
    _, url = _api_with_route(cloud, role_arn, version="1.0", jwt=True, AuthorizationScopes=["agents/invoke"])
    assert _call(url, headers={"Authorization": f"Bearer {token(scope='openid')}"})[0] == 401
    status, body = _call(url, headers={"Authorization": f"Bearer {token(scope='openid agents/invoke')}"})
    assert status == 200
    authorizer = body["event"]["requestContext"]["authorizer"]
    assert authorizer["claims"]["sub"] == "user-1"
    assert authorizer["scopes"] == ["agents/invoke"]


def test_endpoint_service_from_the_url() -> None:
    assert endpoint_service("https://abc123.lambda-url.eu-west-1.on.aws/") == ("lambda", "eu-west-1")
    assert endpoint_service("https://a1b2.execute-api.us-east-2.amazonaws.com/agents/x") == (
        "execute-api",
        "us-east-2",
    )
    assert endpoint_service("http://127.0.0.1:4566/lambda-url/abc/") == ("lambda", None)
    assert endpoint_service("http://127.0.0.1:4566/execute-api/abc/agent") == ("execute-api", None)
    with pytest.raises(StrandsDeployError, match="Function URL or an HTTP API"):
        endpoint_service("https://agents.example.com/support")


def test_signed_headers_sign_for_the_region_the_url_names(cloud: Cloud) -> None:
    headers = signed_headers(
        _aws(cloud), "POST", "https://abc.lambda-url.eu-west-1.on.aws/", body=b"x", headers={"A": "b"}
    )
    assert "/eu-west-1/lambda/aws4_request" in headers["Authorization"]
    assert headers["A"] == "b" and headers["X-Amz-Date"]
    assert headers["X-Amz-Content-SHA256"] == (
        "2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881"  # sha256(b"x")
    )
