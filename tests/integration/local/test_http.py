"""Function URLs and HTTP APIs served by the local cloud, called with plain urllib."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

import pytest

from tests.integration.local.conftest import Cloud, create_function, unique

ECHO_EVENT = """
import json

def handler(event, context):
    if event.get("rawPath", "").endswith("/plain"):
        return {"plain": True}
    if event.get("rawPath", "").endswith("/boom"):
        raise RuntimeError("exploded")
    return {
        "statusCode": 201,
        "headers": {"x-handled-by": context.function_name, "content-type": "application/json"},
        "cookies": ["a=1"],
        "body": json.dumps({"event": event}),
    }
"""


def _call(
    url: str, data: bytes | None = None, method: str = "POST", headers: dict[str, str] | None = None
) -> tuple[int, Any, bytes]:
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def test_function_url_answers_a_post_with_a_payload_2_event(cloud: Cloud, role_arn: str) -> None:
    lam = cloud.client("lambda")
    name = create_function(cloud, role_arn, ECHO_EVENT)
    version = lam.publish_version(FunctionName=name)["Version"]
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion=version)
    cfg = lam.create_function_url_config(FunctionName=name, Qualifier="live", AuthType="NONE")
    url = cfg["FunctionUrl"]
    assert url.startswith(f"{cloud.endpoint}/lambda-url/") and url.endswith("/")
    assert cfg["FunctionArn"].endswith(f":{name}:live")
    assert lam.get_function_url_config(FunctionName=name, Qualifier="live")["FunctionUrl"] == url
    listed = lam.list_function_url_configs(FunctionName=name)["FunctionUrlConfigs"]
    assert [c["FunctionUrl"] for c in listed] == [url]

    status, headers, body = _call(
        url + "agents/support?x=1&x=2",
        json.dumps({"prompt": "hi"}).encode(),
        headers={"Content-Type": "application/json", "Cookie": "c=3"},
    )
    assert status == 201
    assert headers["x-handled-by"] == name
    assert headers["Set-Cookie"] == "a=1"
    event = json.loads(body)["event"]
    assert event["version"] == "2.0"
    assert event["rawPath"] == "/agents/support"
    assert event["rawQueryString"] == "x=1&x=2"
    assert event["queryStringParameters"] == {"x": "1,2"}
    assert event["requestContext"]["http"]["method"] == "POST"
    assert event["headers"]["content-type"] == "application/json"
    assert event["cookies"] == ["c=3"]
    assert json.loads(event["body"]) == {"prompt": "hi"}
    assert event["isBase64Encoded"] is False

    status, headers, body = _call(url + "plain", b"{}")  # a plain value becomes a 200 JSON response
    assert (status, json.loads(body)) == (200, {"plain": True})
    assert headers["Content-Type"] == "application/json"
    status, _, body = _call(url + "boom", b"{}")
    assert (status, body) == (502, b"Internal Server Error")


def test_function_url_with_iam_auth_needs_a_signed_request(cloud: Cloud, role_arn: str) -> None:
    lam = cloud.client("lambda")
    name = create_function(cloud, role_arn, ECHO_EVENT)
    url = lam.create_function_url_config(FunctionName=name, AuthType="AWS_IAM")["FunctionUrl"]
    status, _, _ = _call(url, b"{}")
    assert status == 403
    signed = {
        "Authorization": "AWS4-HMAC-SHA256 Credential=testing/20240101/us-east-1/lambda/aws4_request, SignedHeaders=host, Signature=x"
    }
    status, _, body = _call(url, b"{}", headers=signed)
    assert status == 201
    assert json.loads(body)["event"]["requestContext"]["authorizer"]["iam"]["accessKey"] == "testing"


def test_unknown_function_url_is_404(cloud: Cloud) -> None:
    status, _, _ = _call(f"{cloud.endpoint}/lambda-url/{'0' * 32}/", b"{}")
    assert status == 404


@pytest.mark.parametrize("stage", ["$default", "prod"])
def test_http_api_route_invokes_the_function(cloud: Cloud, role_arn: str, stage: str) -> None:
    lam, apigw = cloud.client("lambda"), cloud.client("apigatewayv2")
    name = create_function(cloud, role_arn, ECHO_EVENT)
    fn_arn = lam.get_function(FunctionName=name)["Configuration"]["FunctionArn"]
    api = apigw.create_api(Name=unique("api"), ProtocolType="HTTP")
    endpoint = api["ApiEndpoint"]
    assert endpoint == f"{cloud.endpoint}/execute-api/{api['ApiId']}"
    assert apigw.get_api(ApiId=api["ApiId"])["ApiEndpoint"] == endpoint
    assert endpoint in [a["ApiEndpoint"] for a in apigw.get_apis()["Items"]]
    integ = apigw.create_integration(
        ApiId=api["ApiId"], IntegrationType="AWS_PROXY", IntegrationUri=fn_arn, PayloadFormatVersion="2.0"
    )
    target = f"integrations/{integ['IntegrationId']}"
    apigw.create_route(ApiId=api["ApiId"], RouteKey="POST /agents/{name}", Target=target)
    apigw.create_route(ApiId=api["ApiId"], RouteKey="POST /agents/special", Target=target)
    apigw.create_stage(ApiId=api["ApiId"], StageName=stage, AutoDeploy=True)
    base = endpoint if stage == "$default" else f"{endpoint}/{stage}"

    status, _, body = _call(f"{base}/agents/support", b"hello")
    assert status == 201
    event = json.loads(body)["event"]
    assert event["routeKey"] == "POST /agents/{name}"
    assert event["pathParameters"] == {"name": "support"}
    assert event["rawPath"] == "/agents/support"
    assert event["requestContext"]["stage"] == stage
    assert event["body"] == "hello"

    _, _, body = _call(f"{base}/agents/special", b"x")  # a literal route beats {name}
    assert json.loads(body)["event"]["routeKey"] == "POST /agents/special"
    status, _, body = _call(f"{base}/agents/support", method="GET")  # no GET route
    assert (status, json.loads(body)) == (404, {"message": "Not Found"})


def test_http_api_default_route_and_errors(cloud: Cloud, role_arn: str) -> None:
    lam, apigw = cloud.client("lambda"), cloud.client("apigatewayv2")
    name = create_function(cloud, role_arn, ECHO_EVENT)
    fn_arn = lam.get_function(FunctionName=name)["Configuration"]["FunctionArn"]
    api = apigw.create_api(Name=unique("api"), ProtocolType="HTTP")
    integ = apigw.create_integration(ApiId=api["ApiId"], IntegrationType="AWS_PROXY", IntegrationUri=fn_arn)
    apigw.create_route(
        ApiId=api["ApiId"], RouteKey="$default", Target=f"integrations/{integ['IntegrationId']}"
    )
    status, _, body = _call(f"{api['ApiEndpoint']}/anything/plain", b"{}")
    assert (status, json.loads(body)) == (200, {"plain": True})
    status, _, body = _call(f"{api['ApiEndpoint']}/x/boom", b"{}")
    assert (status, json.loads(body)) == (500, {"message": "Internal Server Error"})


def test_cors_and_alias_integration_uri(cloud: Cloud, role_arn: str) -> None:
    lam, apigw = cloud.client("lambda"), cloud.client("apigatewayv2")
    name = create_function(cloud, role_arn, ECHO_EVENT)
    version = lam.publish_version(FunctionName=name)["Version"]
    alias_arn = lam.create_alias(FunctionName=name, Name="live", FunctionVersion=version)["AliasArn"]
    cors = {
        "AllowOrigins": ["https://app.example"],
        "AllowMethods": ["POST"],
        "AllowHeaders": ["content-type"],
        "MaxAge": 60,
    }
    url = lam.create_function_url_config(FunctionName=name, Qualifier="live", AuthType="NONE", Cors=cors)[
        "FunctionUrl"
    ]
    preflight = {"Origin": "https://app.example", "Access-Control-Request-Method": "POST"}
    status, headers, _ = _call(url, method="OPTIONS", headers=preflight)
    assert status == 200
    assert headers["Access-Control-Allow-Origin"] == "https://app.example"
    assert headers["Access-Control-Max-Age"] == "60"
    status, headers, _ = _call(url, b"{}", headers={"Origin": "https://app.example"})
    assert (status, headers["Access-Control-Allow-Origin"]) == (201, "https://app.example")

    api = apigw.create_api(
        Name=unique("api"),
        ProtocolType="HTTP",
        CorsConfiguration={"AllowOrigins": ["*"], "AllowMethods": ["POST"]},
    )
    uri = f"arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/{alias_arn}/invocations"
    integ = apigw.create_integration(ApiId=api["ApiId"], IntegrationType="AWS_PROXY", IntegrationUri=uri)
    apigw.create_route(
        ApiId=api["ApiId"], RouteKey="ANY /{proxy+}", Target=f"integrations/{integ['IntegrationId']}"
    )
    status, headers, _ = _call(f"{api['ApiEndpoint']}/a/b", method="OPTIONS", headers=preflight)
    assert (status, headers["Access-Control-Allow-Origin"]) == (200, "*")
    status, headers, body = _call(f"{api['ApiEndpoint']}/a/b", b"{}", headers={"Origin": "https://x.example"})
    assert (status, headers["Access-Control-Allow-Origin"]) == (201, "*")
    event = json.loads(body)["event"]
    assert event["pathParameters"] == {"proxy": "a/b"}
    assert event["requestContext"]["http"]["method"] == "POST"
