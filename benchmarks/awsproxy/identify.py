"""Which AWS service and operation an HTTP request is, from what any SDK puts on the wire.

- the service: the SigV4 credential scope in the Authorization header
  (``Credential=AKID/20250101/us-east-1/lambda/aws4_request``), mapped from signing name to
  service (``monitoring`` → ``cloudwatch``; ``apigateway`` + ``/v2/`` path → ``apigatewayv2``);
- the operation, by protocol:
  JSON (``X-Amz-Target: DynamoDB_20120810.CreateTable``),
  Smithy RPC v2 CBOR (``/service/<Service>/operation/<Operation>``, CloudWatch in recent SDKs),
  query (``Action=CreateRole`` in the form body or the query string: IAM, STS, SNS),
  REST (method + path + query keys, matched against the ``requestUri`` templates of botocore's
  service model: Lambda, API Gateway v2, S3).
"""

from __future__ import annotations

import re
import threading
import urllib.parse
from dataclasses import dataclass

SIGNING_TO_SERVICE = {"monitoring": "cloudwatch", "email": "ses", "states": "stepfunctions"}

_CREDENTIAL_RE = re.compile(r"Credential=([^/,\s]+)/(\d{8})/([^/]+)/([^/]+)/aws4_request")
_CBOR_PATH_RE = re.compile(r"^/service/([^/]+)/operation/([^/?]+)")


@dataclass(frozen=True)
class Operation:
    service: str  # boto3 service name: lambda, iam, cloudwatch...
    name: str  # API operation: CreateFunction
    protocol: str  # json | rpc-v2-cbor | query | rest-json | rest-xml | unknown
    region: str = "us-east-1"

    @property
    def key(self) -> str:
        return f"{self.service}:{self.name}"


@dataclass(frozen=True)
class _Route:
    method: str
    regex: re.Pattern[str]
    query: tuple[tuple[str, str | None], ...]  # required query keys (and values)
    literal: int  # literal characters in the template: more is more specific
    operation: str


_routes: dict[str, list[_Route]] = {}
_protocols: dict[str, str] = {}
_lock = threading.Lock()


def _compile(uri: str) -> tuple[re.Pattern[str], tuple[tuple[str, str | None], ...], int]:
    path, _, query = uri.partition("?")
    pattern = ""
    literal = 0
    for part in re.split(r"(\{[^}]+\})", path):
        if part.startswith("{") and part.endswith("}"):
            pattern += "(.+)" if part.endswith("+}") else "([^/]+)"
        else:
            pattern += re.escape(part)
            literal += len(part)
    keys: list[tuple[str, str | None]] = []
    for item in query.split("&") if query else []:
        k, eq, v = item.partition("=")
        keys.append((k, v if eq else None))
    return re.compile(f"^{pattern}/?$"), tuple(keys), literal


def _load(service: str) -> list[_Route]:
    with _lock:
        if service in _routes:
            return _routes[service]
        import botocore.session

        try:
            model = botocore.session.get_session().get_service_model(service)
        except Exception:
            _routes[service] = []
            _protocols[service] = "unknown"
            return []
        routes: list[_Route] = []
        for name in model.operation_names:
            http = model.operation_model(name).http
            if "requestUri" not in http:
                continue
            regex, query, literal = _compile(str(http["requestUri"]))
            routes.append(_Route(str(http.get("method", "POST")), regex, query, literal, name))
        _routes[service] = routes
        _protocols[service] = str(model.protocol)
        return routes


def _rest_operation(service: str, method: str, path: str, query: dict[str, list[str]]) -> str | None:
    best: tuple[int, int, str] | None = None
    for route in _load(service):
        if route.method != method or not route.regex.match(path):
            continue
        ok = True
        for key, value in route.query:
            if key not in query or (value is not None and value not in query[key]):
                ok = False
                break
        if not ok:
            continue
        rank = (len(route.query), route.literal, route.operation)
        if best is None or rank[:2] > best[:2]:
            best = rank
    return best[2] if best else None


def service_of(headers: dict[str, str], path: str) -> tuple[str, str]:
    """(service, region) from the SigV4 credential scope; ("unknown", "us-east-1") without one."""
    auth = headers.get("authorization", "")
    m = _CREDENTIAL_RE.search(auth)
    if not m:
        return "unknown", "us-east-1"
    region, signing = m.group(3), m.group(4)
    service = SIGNING_TO_SERVICE.get(signing, signing)
    if signing == "apigateway" and path.startswith("/v2/"):
        service = "apigatewayv2"
    return service, region


def identify(method: str, raw_path: str, headers: dict[str, str], body: bytes) -> Operation:
    """The operation of one request. ``headers`` have lower-case names."""
    parsed = urllib.parse.urlsplit(raw_path)
    path = urllib.parse.unquote(parsed.path)
    query = urllib.parse.parse_qs(parsed.query, keep_blank_values=True)
    service, region = service_of(headers, parsed.path)

    target = headers.get("x-amz-target")
    if target:
        return Operation(service, target.rsplit(".", 1)[-1], "json", region)
    m = _CBOR_PATH_RE.match(parsed.path)
    if m and headers.get("smithy-protocol", "").startswith("rpc-v2"):
        return Operation(service, m.group(2), "rpc-v2-cbor", region)
    if "Action" in query:
        return Operation(service, query["Action"][0], "query", region)
    ctype = headers.get("content-type", "")
    if method == "POST" and ctype.startswith("application/x-www-form-urlencoded"):
        form = urllib.parse.parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
        if "Action" in form:
            return Operation(service, form["Action"][0], "query", region)
    if service == "unknown":
        return Operation(service, f"{method} {parsed.path}", "unknown", region)
    operation = _rest_operation(service, method, path, query)
    protocol = _protocols.get(service, "rest-json")
    if operation is None:
        return Operation(service, f"{method} {parsed.path}", protocol, region)
    return Operation(service, operation, protocol, region)


def form_fields(body: bytes) -> dict[str, str]:
    """The fields of a query-protocol (form-encoded) body."""
    return {k: v[0] for k, v in urllib.parse.parse_qs(body.decode("utf-8", "replace")).items()}


def lambda_function_name(path: str) -> str | None:
    """The function name in a Lambda REST path (``/2015-03-31/functions/<name or ARN>/...``)."""
    m = re.match(r"^/\d{4}-\d{2}-\d{2}/functions/([^/?]+)", path)
    if not m:
        return None
    return function_name(urllib.parse.unquote(m.group(1)))


def function_name(name_or_arn: str) -> str:
    """Function name from a name, a partial ARN (``name:qualifier``) or a full ARN."""
    if name_or_arn.startswith("arn:"):
        return name_or_arn.split(":")[6]
    return name_or_arn.split(":")[0]


_JSON_NAME_KEYS = ("TableName", "logGroupName", "FunctionName", "AlarmName", "Name", "QueueUrl")


def resource_of(op: Operation, path: str, headers: dict[str, str], body: bytes) -> str:
    """Best-effort name of the resource a call is about (for the timeline's lanes); "" if unknown.

    Lambda: the function in the path; IAM: ``RoleName``; S3: the bucket (path-style or virtual
    host); JSON protocols: the first of TableName, logGroupName, FunctionName, AlarmName, Name;
    query protocols: RoleName, AlarmName, AlarmNames.member.1. CBOR bodies are not decoded.
    """
    import json

    if op.service == "lambda":
        named = lambda_function_name(path)
        if named:
            return named
        try:
            data = json.loads(body or b"{}")  # CreateFunction names it in the body
        except ValueError:
            return ""
        name = data.get("FunctionName") if isinstance(data, dict) else None
        return function_name(name) if isinstance(name, str) else ""
    if op.service == "s3":
        host = headers.get("host", "").split(":")[0]
        if host.count(".") >= 1 and not host.replace(".", "").isdigit() and host != "localhost":
            return host.split(".")[0]
        return path.lstrip("/").split("/", 1)[0]
    if op.protocol == "query":
        fields = form_fields(body)
        for key in ("RoleName", "AlarmName", "AlarmNames.member.1", "TopicArn", "Name"):
            if fields.get(key):
                return fields[key]
        return ""
    if op.protocol == "json":
        try:
            data = json.loads(body or b"{}")
        except ValueError:
            return ""
        if isinstance(data, dict):
            for key in _JSON_NAME_KEYS:
                value = data.get(key)
                if isinstance(value, str) and value:
                    return value
    return ""
