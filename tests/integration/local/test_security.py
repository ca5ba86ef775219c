"""What the local cloud accepts from where: a web page open in the user's browser must not read or
wipe it (issue 11, item 1), while boto3 and the CLI keep working exactly as before.

Attacks are played with raw HTTP requests carrying the headers a browser would send (``Origin``,
``Sec-Fetch-Site``) or a DNS-rebound ``Host``; SigV4 signatures are real (botocore signs them).
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import stat
import subprocess
import sys
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from strands_deploy.errors import StrandsDeployError
from strands_deploy.local import control
from tests.integration.local.conftest import Cloud, create_function, unique

EVIL = "https://evil.example"
MINE = "http://localhost:3000"
TOKEN = "X-Strands-Token"


@dataclass
class Answer:
    status: int
    headers: dict[str, str]  # lower-case names
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def send(
    endpoint: str,
    method: str,
    path: str,
    *,
    headers: dict[str, str] | None = None,
    body: bytes = b"",
    host: str | None = None,
    sign_as: str | None = None,
) -> Answer:
    """One raw request to the local cloud's socket, with exactly these headers (``host`` replaces
    the Host header, as a DNS-rebound name would); ``sign_as`` signs it with SigV4 for that service,
    Host included, as boto3 would."""
    parsed = urllib.parse.urlsplit(endpoint)
    all_headers = {"Host": host or parsed.netloc, **(headers or {})}
    if sign_as:
        req = AWSRequest(method=method, url=f"{endpoint}{path}", data=body, headers=all_headers)
        SigV4Auth(Credentials("testing", "testing"), sign_as, "us-east-1").add_auth(req)
        all_headers = dict(req.headers.items())
    if body or method in ("POST", "PUT"):
        all_headers["Content-Length"] = str(len(body))
    conn = http.client.HTTPConnection(parsed.hostname or "127.0.0.1", parsed.port, timeout=30)
    try:
        conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        for name, value in all_headers.items():
            conn.putheader(name, value)
        conn.endheaders(body or None)
        resp = conn.getresponse()
        return Answer(resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read())
    finally:
        conn.close()


def list_secrets(endpoint: str, **kw: Any) -> Answer:
    headers = {"X-Amz-Target": "secretsmanager.ListSecrets", "Content-Type": "application/x-amz-json-1.1"}
    return send(endpoint, "POST", "/", headers={**headers, **kw.pop("headers", {})}, body=b"{}", **kw)


def with_origin(client: Any, origin: str) -> Any:
    """A boto3 client that sends ``Origin`` (as the AWS SDK in a browser page does)."""

    def add(request: Any, **_: Any) -> None:
        request.headers["Origin"] = origin

    client.meta.events.register("before-send.*", add)
    return client


# -- a local cloud of our own, started through the CLI with --cors-origin ----------------------
@dataclass
class Project:
    root: Path
    endpoint: str
    info: dict[str, Any]


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Project]:
    """A project whose local cloud was started by `local start --cors-origin`; stopped by pid."""
    root = tmp_path_factory.mktemp("secure-project")
    run = subprocess.run(
        [sys.executable, "-m", "strands_deploy", "-C", str(root), "local", "start", "--port", "0"]
        + ["--cors-origin", MINE + "/", "--cors-origin", "http://127.0.0.1:5173"],
        capture_output=True,
        text=True,
        timeout=90,
        env={k: v for k, v in os.environ.items() if k != "STRANDS_LOCAL_CORS_ORIGINS"},
    )
    info_path = root / ".strands/local/endpoint.json"
    info = json.loads(info_path.read_text()) if info_path.exists() else {}
    try:
        assert run.returncode == 0, run.stderr
        yield Project(root, run.stdout.strip(), info)
    finally:
        control.stop(root)
        if info.get("pid"):
            with contextlib.suppress(ProcessLookupError):  # belt and braces: never leave a server behind
                os.kill(int(info["pid"]), 9)


def _client(endpoint: str, service: Any) -> Any:
    import boto3

    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


# -- CORS ---------------------------------------------------------------------------------------
def test_a_foreign_origin_gets_no_cors_and_no_answer(cloud: Cloud) -> None:
    cloud.client("secretsmanager").create_secret(Name=unique("sec"), SecretString="real value")

    answer = list_secrets(cloud.endpoint, headers={"Origin": EVIL})
    assert "access-control-allow-origin" not in answer.headers
    assert answer.status == 403 and b"real value" not in answer.body

    preflight = send(
        cloud.endpoint,
        "OPTIONS",
        "/",
        headers={
            "Origin": EVIL,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "x-amz-target,content-type",
        },
    )
    assert preflight.status == 403
    assert not [h for h in preflight.headers if h.startswith("access-control-")]

    # a signed call from a page (the SDK in a browser) is refused too, in the shape boto3 parses
    with pytest.raises(ClientError) as exc:
        with_origin(cloud.client("secretsmanager"), EVIL).list_secrets()
    assert exc.value.response["Error"]["Code"] == "AccessDeniedException"
    assert "--cors-origin" in exc.value.response["Error"]["Message"]


def test_a_cross_site_form_post_cannot_change_anything(cloud: Cloud) -> None:
    """A page can send a form POST (no preflight) or load a GET URL in an <img>: both refused."""
    user = unique("intruder")
    form = f"Action=CreateUser&UserName={user}&Version=2010-05-08".encode()
    answer = send(
        cloud.endpoint,
        "POST",
        "/",
        headers={"Origin": EVIL, "Content-Type": "application/x-www-form-urlencoded"},
        body=form,
    )
    assert answer.status == 403 and b"<Code>AccessDenied</Code>" in answer.body  # XML for query APIs
    img = send(
        cloud.endpoint,
        "GET",
        f"/?Action=CreateUser&UserName={user}&Version=2010-05-08",
        headers={"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "no-cors"},
    )
    assert img.status == 403
    names = [u["UserName"] for u in cloud.client("iam").list_users()["Users"]]
    assert user not in names


def test_a_configured_origin_gets_cors(project: Project) -> None:
    assert json.loads((project.root / ".strands/local/config.json").read_text())["cors_origins"] == [
        MINE,
        "http://127.0.0.1:5173",
    ]
    preflight = send(
        project.endpoint,
        "OPTIONS",
        "/",
        headers={
            "Origin": MINE,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "x-amz-target,content-type,authorization",
        },
    )
    assert preflight.status == 200
    assert preflight.headers["access-control-allow-origin"] == MINE
    assert "POST" in preflight.headers["access-control-allow-methods"]
    assert preflight.headers["access-control-allow-headers"] == "x-amz-target,content-type,authorization"

    sm = with_origin(_client(project.endpoint, "secretsmanager"), MINE)
    sm.create_secret(Name="for-my-page", SecretString="v")
    resp = sm.get_secret_value(SecretId="for-my-page")
    assert resp["SecretString"] == "v"
    assert resp["ResponseMetadata"]["HTTPHeaders"]["access-control-allow-origin"] == MINE

    other = send(project.endpoint, "GET", "/moto-api/", headers={"Origin": "http://localhost:3001"})
    assert other.status == 403 and "access-control-allow-origin" not in other.headers


def test_cors_origins_are_validated() -> None:
    for bad in ("*", "http://localhost:3000/app", "localhost:3000", "ftp://x"):
        with pytest.raises(StrandsDeployError) as exc:
            control._resolve_cors([bad])
        assert "not a web origin" in exc.value.what


def test_the_cors_environment_variable_is_validated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STRANDS_LOCAL_CORS_ORIGINS", "http://localhost:3000, *")
    try:
        with pytest.raises(StrandsDeployError) as exc:
            control.ensure_running(tmp_path, port=0)
    finally:
        control.stop(tmp_path)  # if it started one after all
    assert exc.value.where == "environment variable STRANDS_LOCAL_CORS_ORIGINS"
    assert not (tmp_path / ".strands/local/endpoint.json").exists()  # nothing was started


# -- Host (DNS rebinding) -----------------------------------------------------------------------
def test_a_rebound_host_is_refused_even_when_signed(cloud: Cloud) -> None:
    port = urllib.parse.urlsplit(cloud.endpoint).port
    cloud.client("secretsmanager").create_secret(Name=unique("sec"), SecretString="rebound")
    target = {"X-Amz-Target": "secretsmanager.ListSecrets", "Content-Type": "application/x-amz-json-1.1"}

    ok = send(cloud.endpoint, "POST", "/", headers=target, body=b"{}", sign_as="secretsmanager")
    assert ok.status == 200 and "SecretList" in ok.json()

    for host in (
        f"evil.example:{port}",
        "evil.example",
        f"127.0.0.1.evil.example:{port}",
        f"localhost.evil:{port}",
    ):
        answer = send(
            cloud.endpoint, "POST", "/", headers=target, body=b"{}", host=host, sign_as="secretsmanager"
        )
        assert answer.status == 403, host
        assert answer.json()["__type"] == "AccessDeniedException"
        assert b"rebound" not in answer.body
    assert send(cloud.endpoint, "GET", "/_strands/health", host=f"evil.example:{port}").status == 403

    for host in (f"localhost:{port}", f"[::1]:{port}", "127.0.0.1", f"LOCALHOST:{port}"):
        answer = send(
            cloud.endpoint, "POST", "/", headers=target, body=b"{}", host=host, sign_as="secretsmanager"
        )
        assert answer.status == 200, host


def test_s3_virtual_host_addressing_on_localhost_still_works(cloud: Cloud) -> None:
    port = urllib.parse.urlsplit(cloud.endpoint).port
    bucket = unique("bkt")
    s3 = cloud.client("s3")
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="k.txt", Body=b"hello")
    answer = send(cloud.endpoint, "GET", "/k.txt", host=f"{bucket}.localhost:{port}", sign_as="s3")
    assert answer.status == 200 and answer.body == b"hello"
    refused = send(cloud.endpoint, "GET", "/k.txt", host=f"{bucket}.evil.example:{port}", sign_as="s3")
    assert refused.status == 403 and b"<Code>AccessDenied</Code>" in refused.body


def test_function_urls_are_open_to_plain_clients_but_host_checked(cloud: Cloud, role_arn: str) -> None:
    port = urllib.parse.urlsplit(cloud.endpoint).port
    code = "def handler(event, context):\n    return {'statusCode': 200, 'body': 'hi from url'}\n"
    name = create_function(cloud, role_arn, code)
    url = cloud.client("lambda").create_function_url_config(FunctionName=name, AuthType="NONE")["FunctionUrl"]
    path = urllib.parse.urlsplit(url).path
    refused = send(cloud.endpoint, "GET", path, host=f"evil.example:{port}", headers={"Origin": EVIL})
    assert refused.status == 403
    # a page elsewhere may call a public function URL, as on AWS (no CORS configured: none sent)
    answer = send(cloud.endpoint, "GET", path, headers={"Origin": EVIL})
    assert answer.status == 200 and answer.body == b"hi from url"
    assert "access-control-allow-origin" not in answer.headers


# -- control routes and endpoint.json -----------------------------------------------------------
def test_control_routes_need_the_token(cloud: Cloud) -> None:
    assert cloud.token and len(cloud.token) >= 32
    assert send(cloud.endpoint, "GET", "/_strands/workers").status == 403
    assert send(cloud.endpoint, "GET", "/_strands/workers", headers={TOKEN: "nope"}).status == 403
    assert send(cloud.endpoint, "GET", "/_strands/nothing-here").status == 403
    assert send(cloud.endpoint, "GET", "/_strands/workers", headers={TOKEN: cloud.token}).status == 200
    health = send(cloud.endpoint, "GET", "/_strands/health")  # open: how the CLI finds a server
    assert health.status == 200 and health.json()["ok"]
    assert cloud.token not in health.body.decode()


def test_reset_without_the_token_is_refused_and_the_data_survives(project: Project) -> None:
    sm = _client(project.endpoint, "secretsmanager")
    sm.create_secret(Name="survivor", SecretString="still here")
    for headers in ({}, {TOKEN: "wrong"}, {TOKEN: ""}, {"Origin": EVIL}):
        answer = send(project.endpoint, "POST", "/_strands/reset", headers=headers)
        assert answer.status == 403, headers
        assert answer.json()["__type"] == "AccessDeniedException"
    assert (
        send(
            project.endpoint,
            "POST",
            "/_strands/reset",
            headers={"Origin": EVIL, TOKEN: project.info["token"]},
        ).status
        == 403
    )
    assert sm.get_secret_value(SecretId="survivor")["SecretString"] == "still here"

    answer = send(project.endpoint, "POST", "/_strands/reset", headers={TOKEN: project.info["token"]})
    assert answer.status == 200 and answer.json() == {"reset": True}
    assert sm.list_secrets()["SecretList"] == []

    sm.create_secret(Name="again", SecretString="x")
    control.reset(project.root)  # the package's own caller sends the token
    assert sm.list_secrets()["SecretList"] == []
    assert (control.status(project.root) or {})["workers"] == 0


def test_endpoint_json_is_readable_by_the_user_only(project: Project) -> None:
    folder = project.root / ".strands/local"
    assert stat.S_IMODE((folder / "endpoint.json").stat().st_mode) == 0o600
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert project.info["token"] and project.info["endpoint"] == project.endpoint


def test_a_lost_endpoint_json_is_written_again_with_the_token(project: Project) -> None:
    path = project.root / ".strands/local/endpoint.json"
    path.unlink()
    port = int(project.info["port"])
    assert control.ensure_running(project.root, port=port) == project.endpoint  # adopted by its port
    info = json.loads(path.read_text())
    assert info["token"] == project.info["token"] and info["pid"] == project.info["pid"]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    # ensure_running without origins keeps the running server's
    assert json.loads((path.parent / "config.json").read_text())["cors_origins"] == [
        MINE,
        "http://127.0.0.1:5173",
    ]


# -- boto3 as before ----------------------------------------------------------------------------
def test_boto3_calls_work_as_before(cloud: Cloud) -> None:
    sm = cloud.client("secretsmanager")
    name = unique("sec")
    sm.create_secret(Name=name, SecretString="s3cr3t")
    assert name in [s["Name"] for s in sm.list_secrets()["SecretList"]]
    assert sm.get_secret_value(SecretId=name)["SecretString"] == "s3cr3t"

    ddb = cloud.client("dynamodb")
    table = unique("tbl")
    ddb.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    ddb.put_item(TableName=table, Item={"pk": {"S": "a"}, "v": {"N": "1"}})
    assert ddb.get_item(TableName=table, Key={"pk": {"S": "a"}})["Item"]["v"] == {"N": "1"}
