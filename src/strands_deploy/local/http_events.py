"""HTTP request -> Lambda event, and Lambda result -> HTTP response (Function URLs, HTTP APIs).

Payload format 2.0 is what Function URLs always send and what HTTP API integrations send by
default; 1.0 is built too for HTTP API integrations that ask for it. Response rules (2.0): a result
with ``statusCode`` is an HTTP response (``headers``, ``cookies``, ``body``, ``isBase64Encoded``);
any other JSON value is a 200 ``application/json`` response whose body is that JSON.

Authorizers (what API Gateway and Lambda check before the function runs, and pass to it in
``requestContext.authorizer``): :func:`iam_context` for ``AWS_IAM`` (the signature itself is not
verified locally: any SigV4-signed request passes, as with moto) and :func:`check_jwt` for an HTTP
API JWT authorizer. The local cloud is offline, so it cannot fetch the issuer's signing keys: a
token's signature is *not* checked; its issuer, audience and expiry are, as AWS checks them.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from werkzeug.wrappers import Request, Response

_TEXT_TYPES = ("text/", "json", "xml", "javascript", "x-www-form-urlencoded", "yaml", "csv")


def _is_text(content_type: str, body: bytes) -> bool:
    if not content_type:
        try:
            body.decode("utf-8")
            return True
        except UnicodeDecodeError:
            return False
    return any(t in content_type.lower() for t in _TEXT_TYPES)


def _body_fields(request: Request) -> dict[str, Any]:
    data = request.get_data(cache=True)
    if not data:
        return {"isBase64Encoded": False}
    if _is_text(request.headers.get("Content-Type", ""), data):
        return {"body": data.decode("utf-8", "replace"), "isBase64Encoded": False}
    return {"body": base64.b64encode(data).decode("ascii"), "isBase64Encoded": True}


def _joined_headers(request: Request) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in request.headers.items():
        key = name.lower()
        out[key] = f"{out[key]},{value}" if key in out else value
    return out


def event_v2(
    request: Request,
    raw_path: str,
    *,
    route_key: str,
    api_id: str,
    domain: str,
    stage: str,
    account: str,
    path_parameters: dict[str, str] | None = None,
    authorizer: dict[str, Any] | None = None,
) -> dict[str, Any]:
    headers = _joined_headers(request)
    cookies = [c.strip() for c in headers.pop("cookie", "").split(";") if c.strip()]
    now = datetime.now(UTC)
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": raw_path,
        "rawQueryString": request.query_string.decode("latin-1"),
        "headers": headers,
        "requestContext": {
            "accountId": account,
            "apiId": api_id,
            "domainName": domain,
            "domainPrefix": domain.split(".", 1)[0],
            "http": {
                "method": request.method,
                "path": raw_path,
                "protocol": request.environ.get("SERVER_PROTOCOL", "HTTP/1.1"),
                "sourceIp": request.remote_addr or "127.0.0.1",
                "userAgent": request.headers.get("User-Agent", ""),
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": route_key,
            "stage": stage,
            "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(time.time() * 1000),
        },
        **_body_fields(request),
    }
    if cookies:
        event["cookies"] = cookies
    if request.args:
        event["queryStringParameters"] = {k: ",".join(request.args.getlist(k)) for k in request.args}
    if path_parameters:
        event["pathParameters"] = path_parameters
    if authorizer:
        event["requestContext"]["authorizer"] = authorizer
    return event


def event_v1(
    request: Request,
    raw_path: str,
    *,
    resource: str,
    api_id: str,
    domain: str,
    stage: str,
    account: str,
    path_parameters: dict[str, str] | None = None,
    authorizer: dict[str, Any] | None = None,
) -> dict[str, Any]:
    multi: dict[str, list[str]] = {}
    for name, value in request.headers.items():
        multi.setdefault(name, []).append(value)
    query = {k: request.args.getlist(k) for k in request.args}
    event: dict[str, Any] = {
        "version": "1.0",
        "resource": resource,
        "path": raw_path,
        "httpMethod": request.method,
        "headers": {k: v[-1] for k, v in multi.items()},
        "multiValueHeaders": multi,
        "queryStringParameters": {k: v[-1] for k, v in query.items()} or None,
        "multiValueQueryStringParameters": query or None,
        "pathParameters": path_parameters or None,
        "stageVariables": None,
        "requestContext": {
            "accountId": account,
            "apiId": api_id,
            "domainName": domain,
            "httpMethod": request.method,
            "path": raw_path,
            "protocol": request.environ.get("SERVER_PROTOCOL", "HTTP/1.1"),
            "requestId": str(uuid.uuid4()),
            "resourcePath": resource,
            "stage": stage,
            "identity": {"sourceIp": request.remote_addr or "127.0.0.1"},
        },
        **_body_fields(request),
    }
    if authorizer:
        event["requestContext"]["authorizer"] = authorizer
    return event


def to_response(payload: bytes) -> Response:
    """The HTTP response for a successful invocation's payload (format 2.0 rules; 1.0 results,
    which always carry ``statusCode``, convert the same way)."""
    try:
        result = json.loads(payload or b"null")
    except ValueError:
        return Response(payload, status=200, content_type="application/json")
    if not (isinstance(result, dict) and "statusCode" in result):
        return Response(payload, status=200, content_type="application/json")
    try:
        status = int(result["statusCode"])
    except (TypeError, ValueError):
        return Response(
            json.dumps({"message": "Internal Server Error"}), 502, content_type="application/json"
        )
    body = result.get("body")
    raw: bytes
    if body is None:
        raw = b""
    elif result.get("isBase64Encoded"):
        raw = base64.b64decode(str(body))
    else:
        raw = (body if isinstance(body, str) else json.dumps(body)).encode("utf-8")
    response = Response(raw, status=status)
    response.headers.pop("Content-Type", None)
    for name, values in (result.get("multiValueHeaders") or {}).items():
        for value in values if isinstance(values, list) else [values]:
            response.headers.add(str(name), str(value))
    for name, value in (result.get("headers") or {}).items():
        response.headers[str(name)] = str(value)
    for cookie in result.get("cookies") or []:
        response.headers.add("Set-Cookie", str(cookie))
    if "Content-Type" not in response.headers:
        response.headers["Content-Type"] = "application/json"
    return response


# -- authorizers ---------------------------------------------------------------------------------


def sigv4_access_key(request: Request) -> str | None:
    """The access key of a SigV4-signed request (``Authorization: AWS4-HMAC-SHA256 Credential=
    <key>/...``), or None when it is unsigned. The signature is not verified."""
    auth = request.headers.get("Authorization", "")
    if not auth.startswith("AWS4-HMAC-SHA256"):
        return None
    _, found, rest = auth.partition("Credential=")
    key = rest.split("/", 1)[0].strip() if found and "/" in rest else ""
    return key or None


def iam_context(access_key: str, account: str) -> dict[str, Any]:
    """``requestContext.authorizer`` (payload 2.0) of a request that passed ``AWS_IAM`` auth."""
    return {
        "iam": {
            "accessKey": access_key,
            "accountId": account,
            "callerId": access_key,
            "cognitoIdentity": None,
            "principalOrgId": None,
            "userArn": f"arn:aws:iam::{account}:root",
            "userId": access_key,
        }
    }


class Unauthorized(Exception):
    """A request a JWT authorizer refuses: 401 ``{"message":"Unauthorized"}``; ``str()`` says why
    (sent as ``www-authenticate``, as API Gateway does)."""


def _b64url_json(segment: str) -> Any:
    padded = segment + "=" * (-len(segment) % 4)
    return json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))


def _claim_text(value: Any) -> str:
    """A claim as API Gateway passes it to the function: strings as they are, lists as
    ``[a b]``, anything else as its JSON text."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "[" + " ".join(_claim_text(v) for v in value) + "]"
    return json.dumps(value)


def check_jwt(
    request: Request,
    *,
    issuer: str,
    audience: Sequence[str],
    scopes: Sequence[str] = (),
    now: float | None = None,
) -> dict[str, Any]:
    """The token's claims when the request passes a JWT authorizer (identity source: the
    ``Authorization`` header, with or without ``Bearer ``), else :class:`Unauthorized`.

    Checked as API Gateway checks them: ``iss`` equals ``issuer``; ``aud`` (or ``client_id``)
    is one of ``audience``; ``exp`` is present and in the future; ``nbf`` and ``iat``, when
    present, are not in the future; and when the route has ``scopes``, the token's ``scope``
    (or ``scp``) holds one of them. The signature is not checked (no keys offline).
    """
    header = request.headers.get("Authorization", "").strip()
    token = header[7:].strip() if header[:7].lower() == "bearer " else header
    if not token:
        raise Unauthorized('Bearer error="invalid_request" error_description="no token"')
    parts = token.split(".")
    try:
        if len(parts) != 3:
            raise ValueError("not three segments")
        head, claims = _b64url_json(parts[0]), _b64url_json(parts[1])
        if not (isinstance(head, dict) and isinstance(claims, dict)):
            raise ValueError("segments are not JSON objects")
    except (ValueError, UnicodeError, binascii.Error):
        raise Unauthorized(
            'Bearer error="invalid_token" error_description="the token is not a JWT"'
        ) from None
    now = time.time() if now is None else now
    if claims.get("iss") != issuer:
        raise Unauthorized('Bearer error="invalid_token" error_description="the issuer is not accepted"')
    aud = claims.get("aud")
    offered = set(aud if isinstance(aud, list) else [aud] if aud is not None else [])
    if claims.get("client_id") is not None:
        offered.add(claims["client_id"])
    if not offered & set(audience):
        raise Unauthorized('Bearer error="invalid_token" error_description="the audience is not accepted"')
    try:
        exp = float(claims["exp"])
        not_before = [float(claims[k]) for k in ("nbf", "iat") if k in claims]
    except (KeyError, TypeError, ValueError):
        raise Unauthorized(
            'Bearer error="invalid_token" error_description="exp is missing or not a time"'
        ) from None
    if exp <= now:
        raise Unauthorized('Bearer error="invalid_token" error_description="the token has expired"')
    if any(t > now for t in not_before):
        raise Unauthorized('Bearer error="invalid_token" error_description="the token is not valid yet"')
    if scopes and not set(token_scopes(claims)) & set(scopes):
        raise Unauthorized('Bearer error="insufficient_scope" error_description="a scope is missing"')
    return claims


def token_scopes(claims: dict[str, Any]) -> list[str]:
    """The scopes a token grants: its ``scope`` (space-separated) or ``scp`` (a list or a string)."""
    granted = claims.get("scope", claims.get("scp"))
    return [str(s) for s in granted] if isinstance(granted, list) else str(granted or "").split()


def jwt_context(claims: dict[str, Any], scopes: Sequence[str] = (), version: str = "2.0") -> dict[str, Any]:
    """``requestContext.authorizer`` of a request that passed a JWT authorizer: the claims as
    strings, and the route's ``scopes`` that the token holds (None when the route asks for none);
    2.0 puts them under ``jwt``, 1.0 at the top."""
    held = [s for s in token_scopes(claims) if s in scopes] or None
    texts = {str(k): _claim_text(v) for k, v in claims.items()}
    if version == "1.0":
        return {"claims": texts, "scopes": held}
    return {"jwt": {"claims": texts, "scopes": held}}
