"""Function URLs and API Gateway HTTP APIs, served by the local cloud itself.

URL forms (``BASE`` is ``http://127.0.0.1:<port>``):

* Function URL: ``BASE/lambda-url/<url-id>/`` - moto's ``https://<url-id>.lambda-url.<region>.on.aws/``
  is rewritten to this in Create/Get/Update/ListFunctionUrlConfig(s) responses.
* HTTP API: ``BASE/execute-api/<api-id>`` (+ ``/<stage>`` for a named stage, nothing for
  ``$default``) - moto's ``https://<api-id>.execute-api.<region>.amazonaws.com`` is rewritten in
  CreateApi/GetApi/GetApis/UpdateApi responses.

Requests to those paths invoke the function with a payload format 2.0 event (1.0 when an HTTP API
integration asks for it) and turn its result into the HTTP response.

Auth is enforced as AWS enforces it, so "it worked locally" predicts AWS:

* ``AWS_IAM`` (a Function URL's AuthType, an HTTP API route's AuthorizationType): an unsigned
  request gets 403 ``Forbidden``. Any SigV4-signed request passes (the local cloud accepts any
  credentials and does not verify the signature, as moto does); the function sees the caller's
  access key in ``requestContext.authorizer.iam``.
* ``JWT`` (a route with a JWT authorizer): no token, or a token whose ``iss``, ``aud`` or ``exp``
  the authorizer refuses, gets 401 ``Unauthorized``; otherwise the function sees the claims in
  ``requestContext.authorizer.jwt.claims``. The token's signature is not checked: the local cloud
  is offline and cannot fetch the issuer's keys (see :func:`http_events.check_jwt`).
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from werkzeug.wrappers import Request, Response

from strands_deploy.local import http_events, limits
from strands_deploy.local.lambda_invoke import LocalLambda
from strands_deploy.local.workers import Throttled

FUNCTION_URL_PREFIX = "/lambda-url/"
EXECUTE_API_PREFIX = "/execute-api/"
MOTO_FUNCTION_URL = re.compile(r"^https://(?P<id>[0-9a-z]+)\.lambda-url\.(?P<region>[a-z0-9-]+)\.on\.aws/?$")
MOTO_API_ENDPOINT = re.compile(
    r"^https://(?P<id>[0-9a-z]+)\.execute-api\.(?P<region>[a-z0-9-]+)\.amazonaws\.com$"
)
LAMBDA_ARN = re.compile(r"(arn:[^:/]+:lambda:(?P<region>[^:/]+):(?P<account>\d{12}):function:[^/]+)")
STAGE_VARIABLE = re.compile(r"\$\{stageVariables\.([A-Za-z0-9_]+)\}")


def _json(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(body), status=status, headers=headers or {}, content_type="application/json")


def _raw_path(request: Request, prefix_len: int) -> str:
    """The still-encoded path after the ``/lambda-url/<id>`` or ``/execute-api/<id>`` prefix."""
    raw = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI") or quote(request.path)
    raw = raw.split("?", 1)[0]
    return raw[prefix_len:] or "/"


def _error_header(payload: bytes) -> dict[str, str]:
    """A one-line hint for local debugging (the full error is in the function's log)."""
    try:
        err = json.loads(payload)
        text = f"{err.get('errorType')}: {err.get('errorMessage')}"
    except (ValueError, AttributeError):
        text = "function error"
    safe = text.encode("latin-1", "replace").decode("latin-1").replace("\r", " ").replace("\n", " ")
    return {"X-Strands-Local-Error": safe[:500]}


class Cors:
    """Function URL ``Cors`` (PascalCase) or HTTP API ``corsConfiguration`` (camelCase)."""

    def __init__(self, config: dict[str, Any] | None) -> None:
        c = {k[:1].lower() + k[1:]: v for k, v in (config or {}).items()}
        self.enabled = bool(config)
        self.origins = [str(o) for o in c.get("allowOrigins") or []]
        self.methods = [str(m) for m in c.get("allowMethods") or []]
        self.headers = [str(h) for h in c.get("allowHeaders") or []]
        self.expose = [str(h) for h in c.get("exposeHeaders") or []]
        self.max_age = c.get("maxAge")
        self.credentials = bool(c.get("allowCredentials"))

    def origin_for(self, origin: str | None) -> str | None:
        if not self.enabled or not origin:
            return None
        if "*" in self.origins:
            return origin if self.credentials else "*"
        return origin if origin in self.origins else None

    def preflight(self, request: Request) -> Response | None:
        if not (self.enabled and request.method == "OPTIONS"):
            return None
        if "Access-Control-Request-Method" not in request.headers:
            return None
        response = Response(b"", status=200)
        origin = self.origin_for(request.headers.get("Origin"))
        if origin:
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Access-Control-Allow-Methods"] = ",".join(self.methods or ["*"])
            if self.headers:
                response.headers["Access-Control-Allow-Headers"] = ",".join(self.headers)
            if self.max_age is not None:
                response.headers["Access-Control-Max-Age"] = str(self.max_age)
            if self.credentials:
                response.headers["Access-Control-Allow-Credentials"] = "true"
        return response

    def decorate(self, request: Request, response: Response) -> Response:
        origin = self.origin_for(request.headers.get("Origin"))
        if origin:
            response.headers["Access-Control-Allow-Origin"] = origin
            if self.expose:
                response.headers["Access-Control-Expose-Headers"] = ",".join(self.expose)
            if self.credentials:
                response.headers["Access-Control-Allow-Credentials"] = "true"
        return response


def match_route(route_key: str, method: str, path: str) -> tuple[tuple[int, ...], dict[str, str]] | None:
    """Score how specifically ``route_key`` matches (higher wins) and its path parameters.

    Invariant (API Gateway's rule): a literal path beats ``{param}``, which beats ``{proxy+}``;
    an exact method beats ``ANY``; ``$default`` only catches what nothing else matched.
    """
    if route_key == "$default":
        return (0,), {}
    route_method, _, pattern = route_key.partition(" ")
    if route_method not in ("ANY", method):
        return None
    want = [s for s in pattern.strip("/").split("/") if s]
    have = [s for s in path.strip("/").split("/") if s]
    params: dict[str, str] = {}
    literals, greedy = 0, False
    for i, seg in enumerate(want):
        if seg.startswith("{") and seg.endswith("+}"):
            if i >= len(have):
                return None
            params[seg[1:-2]] = "/".join(have[i:])
            greedy = True
            break
        if i >= len(have):
            return None
        if seg.startswith("{") and seg.endswith("}"):
            params[seg[1:-1]] = have[i]
        elif seg == have[i]:
            literals += 1
        else:
            return None
    else:
        if len(want) != len(have):
            return None
    return (1, literals, 0 if greedy else 1, 1 if route_method == method else 0), params


@dataclass(frozen=True)
class Caller:
    """Who passed a route's authorization: an IAM access key, a JWT's claims, or nobody (NONE)."""

    access_key: str | None = None
    claims: dict[str, Any] | None = None
    scopes: tuple[str, ...] = ()

    def context(self, account: str, version: str) -> dict[str, Any] | None:
        """``requestContext.authorizer`` for a payload of ``version`` ("1.0" or "2.0")."""
        if self.claims is not None:
            return http_events.jwt_context(self.claims, self.scopes, version)
        if self.access_key is not None and version == "2.0":  # 1.0 has no IAM authorizer context
            return http_events.iam_context(self.access_key, account)
        return None


def authorize_route(request: Request, api: Any, route: Any) -> Caller | Response:
    """The caller of an HTTP API ``route`` (a moto Route of the moto Api ``api``), or the
    response API Gateway gives instead of invoking: 403 for an unsigned request to an ``AWS_IAM``
    route, 401 for a JWT route without an acceptable token."""
    kind = str(route.authorization_type or "NONE")
    if kind == "AWS_IAM":
        key = http_events.sigv4_access_key(request)
        if key is None:
            return _json(403, {"message": "Forbidden"})
        return Caller(access_key=key)
    if kind == "JWT":
        authorizer = api.authorizers.get(str(route.authorizer_id or ""))
        jwt = (authorizer.jwt_config if authorizer is not None else None) or {}
        if authorizer is None or str(authorizer.authorizer_type or "") != "JWT":
            return _json(
                500,
                {"message": "Internal Server Error"},
                {"X-Strands-Local-Error": f"route has no JWT authorizer {route.authorizer_id!r}"},
            )
        scopes = tuple(str(s) for s in route.authorization_scopes or [])
        try:
            claims = http_events.check_jwt(
                request,
                issuer=str(jwt.get("issuer") or jwt.get("Issuer") or ""),
                audience=[str(a) for a in jwt.get("audience") or jwt.get("Audience") or []],
                scopes=scopes,
            )
        except http_events.Unauthorized as refused:
            return _json(401, {"message": "Unauthorized"}, {"www-authenticate": str(refused)})
        return Caller(claims=claims, scopes=scopes)
    return Caller()


class UrlRouter:
    def __init__(self, runtime: LocalLambda) -> None:
        self.runtime = runtime
        self.base_url = ""  # http://127.0.0.1:<port>, set once the server is bound
        self._lock = threading.Lock()
        self.url_qualifiers: dict[str, str | None] = {}  # url id -> qualifier (moto drops it)

    # -- response rewriting --------------------------------------------------------------
    def rewrite_url_config(self, data: dict[str, Any], qualifier: str | None, created: bool) -> None:
        m = MOTO_FUNCTION_URL.match(str(data.get("FunctionUrl", "")))
        if not m:
            return
        url_id = m.group("id")
        with self._lock:
            if created:
                self.url_qualifiers[url_id] = qualifier
            qualifier = self.url_qualifiers.get(url_id, qualifier)
        data["FunctionUrl"] = f"{self.base_url}{FUNCTION_URL_PREFIX}{url_id}/"
        arn = str(data.get("FunctionArn", ""))
        if qualifier and arn and not arn.endswith(f":{qualifier}"):
            data["FunctionArn"] = f"{arn}:{qualifier}"

    def rewrite_api(self, data: dict[str, Any]) -> None:
        for item in [data, *(data.get("items") or data.get("Items") or [])]:
            m = MOTO_API_ENDPOINT.match(str(item.get("apiEndpoint", "")))
            if m:
                item["apiEndpoint"] = f"{self.base_url}{EXECUTE_API_PREFIX}{m.group('id')}"

    def list_url_configs(self, account: str, region: str, name: str) -> Response:
        """ListFunctionUrlConfigs, which moto does not implement."""
        fn = self.runtime.resolve(account, region, name, None)
        configs = []
        if fn.url_config is not None:
            data = fn.url_config.to_dict()
            self.rewrite_url_config(data, None, created=False)
            configs.append(data)
        return _json(200, {"FunctionUrlConfigs": configs})

    def forget(self) -> None:
        with self._lock:
            self.url_qualifiers.clear()

    # -- serving ---------------------------------------------------------------------------
    def _invoke(
        self, fn: Any, event: dict[str, Any], account: str, region: str, qualifier: str | None
    ) -> Any:
        data = json.dumps(event).encode("utf-8")
        if len(data) > limits.SYNC_PAYLOAD:  # the event Lambda would receive is over its 6 MB
            raise limits.EventTooLarge()
        return self.runtime.invoke(fn, data, account, region, qualifier)

    def serve_function_url(self, request: Request, url_id: str) -> Response:
        from moto.awslambda.models import lambda_backends

        found: tuple[str, str, Any, Any] | None = None
        backend: Any
        for account, region, backend in list(lambda_backends.iter_backends()):
            for fn in list(backend.list_functions()):
                cfg = fn.url_config
                if cfg is not None and f"//{url_id}." in cfg.url:
                    found = (account, region, fn, cfg)
        if found is None:
            return _json(404, {"Message": f"no Function URL with id {url_id} in the local cloud"})
        account, region, fn, cfg = found
        cors = Cors(cfg.config.get("Cors"))
        preflight = cors.preflight(request)
        if preflight is not None:
            return preflight
        if (request.content_length or 0) > limits.SYNC_PAYLOAD:
            return cors.decorate(request, limits.function_url_too_large())
        authorizer = None
        caller_account = "anonymous"
        if cfg.config.get("AuthType") == "AWS_IAM":
            key = http_events.sigv4_access_key(request)
            if key is None:  # Lambda's own answer (capital M, as its other errors here)
                return cors.decorate(request, _json(403, {"Message": "Forbidden"}))
            caller_account = account
            authorizer = http_events.iam_context(key, account)
        with self._lock:
            qualifier = self.url_qualifiers.get(url_id)
        target = self.runtime.resolve(account, region, fn.function_name, qualifier)
        raw_path = _raw_path(request, len(FUNCTION_URL_PREFIX) + len(url_id))
        event = http_events.event_v2(
            request,
            raw_path,
            route_key="$default",
            api_id=url_id,
            domain=f"{url_id}.lambda-url.{region}.on.aws",
            stage="$default",
            account=caller_account,
            authorizer=authorizer,
        )
        try:
            result = self._invoke(target, event, account, region, qualifier)
        except Throttled:
            return _json(429, {"Message": "Rate Exceeded."})
        except limits.EventTooLarge:
            return cors.decorate(request, limits.function_url_too_large())
        if result.function_error:
            response = Response(b"Internal Server Error", status=502, headers=_error_header(result.payload))
        else:
            response = http_events.to_response(result.payload)
        response.headers["x-amzn-RequestId"] = result.request_id
        return cors.decorate(request, response)

    def serve_http_api(self, request: Request, api_id: str) -> Response:
        from moto.apigatewayv2.models import apigatewayv2_backends

        api: Any = None
        region: str | None = None
        api_account = ""
        backend: Any
        for acct, reg, backend in list(apigatewayv2_backends.iter_backends()):
            if api_id in backend.apis:
                api, region, api_account = backend.apis[api_id], reg, acct
        if api is None:
            return _json(404, {"message": "Not Found"})
        path = _raw_path(request, len(EXECUTE_API_PREFIX) + len(api_id))
        stage = "$default"
        first = path.strip("/").split("/", 1)[0]
        if first and first != "$default" and first in api.stages:
            stage, path = first, "/" + path.strip("/").partition("/")[2]
        cors = Cors(api.cors_configuration if isinstance(api.cors_configuration, dict) else None)
        preflight = cors.preflight(request)
        if preflight is not None:
            return preflight
        if (request.content_length or 0) > limits.SYNC_PAYLOAD:
            return cors.decorate(request, limits.http_api_too_large())
        decoded = request.path[len(EXECUTE_API_PREFIX) + len(api_id) :]
        if stage != "$default":
            decoded = "/" + decoded.strip("/").partition("/")[2]
        best: tuple[tuple[int, ...], dict[str, str], Any] | None = None
        for route in list(api.routes.values()):
            hit = match_route(route.route_key, request.method, decoded)
            if hit and (best is None or hit[0] > best[0]):
                best = (hit[0], hit[1], route)
        if best is None:
            return cors.decorate(request, _json(404, {"message": "Not Found"}))
        _, params, route = best
        caller = authorize_route(request, api, route)
        if isinstance(caller, Response):  # refused before the function runs, as API Gateway does
            return cors.decorate(request, caller)
        integration_id = str(route.target or "").removeprefix("integrations/")
        integration = api.integrations.get(integration_id)
        # the stage's variables, substituted in the integration URI as API Gateway does (an
        # agent with `stages:` invokes `<function>:${stageVariables.alias_<agent>}`)
        variables = dict(getattr(api.stages.get(stage), "stage_variables", None) or {})
        uri = str(getattr(integration, "integration_uri", "") or "")
        unset = sorted({v for v in STAGE_VARIABLE.findall(uri) if v not in variables})
        if unset:
            why = f"stage {stage} does not set stage variable(s) {', '.join(unset)}"
            return _json(500, {"message": "Internal Server Error"}, {"X-Strands-Local-Error": why})
        arn = LAMBDA_ARN.search(STAGE_VARIABLE.sub(lambda m: variables[m.group(1)], uri))
        if integration is None or arn is None:
            return _json(
                500,
                {"message": "Internal Server Error"},
                {"X-Strands-Local-Error": "route has no Lambda integration"},
            )
        account, fn_region = arn.group("account"), arn.group("region")
        try:
            fn = self.runtime.resolve(account, fn_region, arn.group(1), None)
        except Exception:
            return _json(
                500,
                {"message": "Internal Server Error"},
                {"X-Strands-Local-Error": f"function {arn.group(1)} not found"},
            )
        domain = f"{api_id}.execute-api.{region}.amazonaws.com"
        if str(integration.payload_format_version or "2.0") == "1.0":
            event = http_events.event_v1(
                request,
                path,
                resource=route.route_key.partition(" ")[2] or "/{proxy+}",
                api_id=api_id,
                domain=domain,
                stage=stage,
                account=account,
                path_parameters=params,
                authorizer=caller.context(api_account, "1.0"),
            )
        else:
            event = http_events.event_v2(
                request,
                path,
                route_key=route.route_key,
                api_id=api_id,
                domain=domain,
                stage=stage,
                account=account,
                path_parameters=params,
                authorizer=caller.context(api_account, "2.0"),
            )
        if variables:  # both payload formats carry them
            event["stageVariables"] = variables
        qualifier = arn.group(1).split(":function:", 1)[1].partition(":")[2] or None
        try:
            result = self._invoke(fn, event, account, fn_region, qualifier)
        except Throttled:
            return _json(429, {"message": "Too Many Requests"})
        except limits.EventTooLarge:
            return cors.decorate(request, limits.http_api_too_large())
        if result.function_error:
            response = _json(500, {"message": "Internal Server Error"}, _error_header(result.payload))
        else:
            response = http_events.to_response(result.payload)
        response.headers["apigw-requestid"] = result.request_id
        return cors.decorate(request, response)
