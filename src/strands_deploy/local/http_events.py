"""HTTP request -> Lambda event, and Lambda result -> HTTP response (Function URLs, HTTP APIs).

Payload format 2.0 is what Function URLs always send and what HTTP API integrations send by
default; 1.0 is built too for HTTP API integrations that ask for it. Response rules (2.0): a result
with ``statusCode`` is an HTTP response (``headers``, ``cookies``, ``body``, ``isBase64Encoded``);
any other JSON value is a 200 ``application/json`` response whose body is that JSON.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
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
) -> dict[str, Any]:
    multi: dict[str, list[str]] = {}
    for name, value in request.headers.items():
        multi.setdefault(name, []).append(value)
    query = {k: request.args.getlist(k) for k in request.args}
    return {
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
