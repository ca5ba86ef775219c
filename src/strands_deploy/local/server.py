"""The embedded local cloud: ``python -m strands_deploy.local.server --port P --state-dir DIR``.

One process, one port, on 127.0.0.1: moto's own server app (the control plane for every AWS
service moto has) wrapped by :class:`LocalCloud`, a WSGI middleware that answers what moto cannot
do without Docker or does not have:

* Lambda ``Invoke`` runs the function in a local worker (:mod:`.lambda_invoke`); moto-internal
  invocations (SQS/SNS/Kinesis/DynamoDB triggers) are routed to the same workers; SNS, S3 and
  EventBridge deliveries (patterns and schedules) are completed by :mod:`.triggers`;
* Bedrock Runtime ``Converse`` / ``ConverseStream`` / ``InvokeModel`` (and its stream) answer from the
  model script (:mod:`.bedrock`);
* Logs ``FilterLogEvents`` applies CloudWatch's filter pattern syntax (:mod:`.filter_pattern`);
* Function URLs and HTTP APIs are served at local URLs (:mod:`.urls`), and moto's responses are
  rewritten to point at them; ``ListFunctionUrlConfigs`` and ``LoggingConfig`` (which moto drops)
  are filled in;
* ``/_strands/health``, ``/_strands/workers`` (GET) and ``/_strands/reset`` (POST) for the CLI.

State survives restarts (:mod:`.persist`): the snapshot is restored before the first request is
served, saved after mutating requests and at stop. A server that gets no request (other than
``/_strands/*``) for ``idle_timeout_seconds`` (``config.json``, default 4 hours) saves its state
and stops itself.

Everything else goes to moto unchanged. Invariant: an error while handling one request becomes
an error response for that request; the server keeps serving.

Who may ask (checked before any of the above, see :meth:`LocalCloud.refusal`; the user-facing
summary is in docs/local-cloud.md, "What the local cloud accepts from where"):

* every request must name a loopback host (``127.0.0.1``, ``localhost``, ``[::1]``,
  ``*.localhost``, any port): a page whose DNS name was rebound to 127.0.0.1 is refused;
* outside the user's own endpoints (Function URLs, HTTP APIs, which apply their own CORS as in
  AWS), a browser request (one with an ``Origin``, or a cross-site ``Sec-Fetch-Site``) is refused
  unless its origin is one the user configured (``config.json``'s ``cors_origins``) or the server's
  own; only configured origins get CORS headers, and moto's answer-everyone CORS is turned off;
* ``/_strands/*`` control routes, except health, need this start's token (``endpoint.json``) in
  the ``X-Strands-Token`` header;
* a call signed by a function worker (with the credentials :mod:`.iam` issued for it) must be
  allowed by the function's role, else it gets the service's own 403 (``AccessDeniedException`` /
  ``AccessDenied``); ``config.json``'s ``"iam": false`` turns this off
  (:meth:`LocalCloud.iam_refusal`).
"""

from __future__ import annotations

import argparse
import errno
import hmac
import io
import json
import logging
import os
import re
import secrets
import signal
import socket
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote
from xml.sax.saxutils import escape

from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Request, Response
from werkzeug.wsgi import get_input_stream

from strands_deploy.local import iam, limits, settings
from strands_deploy.local.bedrock import CONVERSE_PATH, FakeBedrock
from strands_deploy.local.cost_explorer import FakeCostExplorer, operation_of
from strands_deploy.local.filter_pattern import FILTER_LOG_EVENTS_TARGET, answer_filter_log_events
from strands_deploy.local.lambda_invoke import LocalLambda
from strands_deploy.local.persist import Persister
from strands_deploy.local.settings import (
    TOKEN_HEADER,
    ConfigReader,
    make_private_dir,
    normalize_origin,
    read_json,
    write_json_atomic,
)
from strands_deploy.local.triggers import install_trigger_hooks, server_scheduler
from strands_deploy.local.urls import EXECUTE_API_PREFIX, FUNCTION_URL_PREFIX, UrlRouter
from strands_deploy.local.workers import Throttled
from strands_deploy.process import pid_alive

log = logging.getLogger("strands_deploy.local.server")

StartResponse = Callable[..., Any]
SCOPE = re.compile(r"Credential=(?P<key>[^/,\s]+)/\d{8}/(?P<region>[^/]+)/(?P<service>[^/]+)/aws4_request")
INVOKE = re.compile(r"^/2015-03-31/functions/(?P<name>.+)/invocations/?$")
FUNCTIONS = re.compile(r"^/2015-03-31/functions/?$")
FUNCTION = re.compile(r"^/2015-03-31/functions/(?P<name>[^/]+)(?P<config>/configuration)?/?$")
URL_CONFIG = re.compile(r"^/2021-10-31/functions/(?P<name>[^/]+)/url/?$")
URL_CONFIGS = re.compile(r"^/2021-10-31/functions/(?P<name>[^/]+)/urls/?$")
APIS = re.compile(r"^/v2/apis(?:/(?P<id>[^/]+))?/?$")
EXIT_PORT_IN_USE = 3
EXIT_ALREADY_RUNNING = 4
LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "[::1]"})
_HOST_LABELS = re.compile(r"^[a-z0-9_-]+(?:\.[a-z0-9_-]+)*$")
_PORT = re.compile(r"^:[0-9]{1,5}$")
TOKEN_ENVIRON = "HTTP_" + TOKEN_HEADER.upper().replace("-", "_")
# health stays open: the CLI finds a server (and checks it is this project's) before it knows the token
OPEN_CONTROL_PATHS = frozenset({"/_strands/health"})
CORS_METHODS = "GET, HEAD, POST, PUT, PATCH, DELETE"
CORS_EXPOSE = (
    "ETag, x-amz-request-id, x-amz-id-2, x-amz-version-id, x-amzn-RequestId, x-amzn-ErrorType, "
    "X-Amz-Function-Error, X-Amz-Executed-Version, X-Amz-Log-Result, x-amz-crc32"
)


def _lambda_error(status: int, code: str, message: str, **extra: str) -> Response:
    body = {"Type": "User", "message": message, **extra}
    return Response(
        json.dumps(body), status=status, headers={"x-amzn-ErrorType": code}, content_type="application/json"
    )


def is_loopback_host(host: str | None) -> bool:
    """True if a ``Host`` header names this machine's loopback: ``127.0.0.1``, ``localhost``,
    ``[::1]`` or a ``*.localhost`` name (S3 virtual-host style: ``<bucket>.localhost``), with or
    without a port. Anything else - above all a public name rebound to 127.0.0.1 - is refused."""
    if not host:
        return False
    text = host.strip().lower()
    if text.startswith("["):
        name, bracket, rest = text.partition("]")
        name += bracket
    else:
        name, colon, port = text.partition(":")
        rest = colon + port
    if rest and not _PORT.match(rest):
        return False
    if name in LOOPBACK_NAMES:
        return True
    return name.endswith(".localhost") and bool(_HOST_LABELS.match(name))


def _wants_xml(environ: dict[str, Any], service: str | None) -> bool:
    """S3 and the query-protocol services (IAM, STS, SQS, SNS...) parse XML errors; the rest JSON."""
    return (
        service == "s3"
        or environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded")
        or "Action=" in environ.get("QUERY_STRING", "")
    )


def _denied(environ: dict[str, Any], message: str) -> Response:
    """403 in the shape the caller's SDK parses (AWS's ``AccessDenied``), so the message shows."""
    scope = SCOPE.search(environ.get("HTTP_AUTHORIZATION", ""))
    path = environ.get("PATH_INFO", "")
    if not path.startswith("/_strands/") and _wants_xml(environ, scope.group("service") if scope else None):
        body = (
            "<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code>"
            f"<Message>{escape(message)}</Message></Error><RequestId>{uuid.uuid4()}</RequestId></ErrorResponse>"
        )
        return Response(body, status=403, content_type="application/xml")
    return Response(
        json.dumps({"__type": "AccessDeniedException", "message": message}),
        status=403,
        headers={"x-amzn-ErrorType": "AccessDeniedException"},
        content_type="application/json",
    )


def _iam_denied(service: str, environ: dict[str, Any], message: str) -> Response:
    """A 403 in the refusing service's own error shape."""
    request_id = str(uuid.uuid4())
    if service == "s3":
        body = (
            f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code>'
            f"<Message>{escape(message)}</Message><RequestId>{request_id}</RequestId></Error>"
        )
        return Response(body, status=403, content_type="application/xml")
    json_protocol = "HTTP_X_AMZ_TARGET" in environ or service not in ("sqs", "sns")
    if not json_protocol:
        body = (
            "<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code>"
            f"<Message>{escape(message)}</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>"
        )
        return Response(body, status=403, content_type="text/xml")
    return Response(
        json.dumps({"__type": "AccessDeniedException", "message": message, "Message": message}),
        status=403,
        headers={"x-amzn-ErrorType": "AccessDeniedException", "x-amzn-RequestId": request_id},
        content_type="application/x-amz-json-1.0" if "HTTP_X_AMZ_TARGET" in environ else "application/json",
    )


def _user_endpoint(path: str) -> bool:
    """Function URLs and HTTP APIs: the user's own endpoints, open (or not) as their config says."""
    return path.startswith((FUNCTION_URL_PREFIX, EXECUTE_API_PREFIX))


def _account_for(access_key: str | None) -> str:
    if not access_key:
        return settings.LOCAL_ACCOUNT
    from moto.iam.models import get_account_id_from

    return str(get_account_id_from(access_key))


class LocalCloud:
    """The WSGI app: our routes first, then moto."""

    def __init__(self, state_dir: Path) -> None:
        import moto.moto_server.werkzeug_app as moto_app
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

        # moto answers CORS for every origin (flask-cors); CORS is ours to decide, per origin
        moto_app.DISABLE_GLOBAL_CORS = True
        self.state_dir = state_dir
        self.moto = DomainDispatcherApplication(create_backend_app)
        self.runtime = LocalLambda(state_dir, endpoint="")
        self.router = UrlRouter(self.runtime)
        self.config = ConfigReader(state_dir)
        self.bedrock = FakeBedrock(self.config)
        self.cost_explorer = FakeCostExplorer()  # ce anomaly calls, which moto lacks
        self.token = secrets.token_urlsafe(32)  # per start; in endpoint.json only, never in health
        self.stopping = False
        self._endpoint_lock = threading.Lock()
        self.persist = Persister(state_dir, self._extras, self._apply_extras)
        self._activity_lock = threading.Lock()
        self.in_flight = 0  # requests being answered, /_strands/* aside
        self.last_request = time.monotonic()
        self.info: dict[str, Any] = {
            "service": "strands-deploy-local-cloud",
            "pid": os.getpid(),
            "boot_id": uuid.uuid4().hex,  # changes on every start (the state itself is restored)
            "started_at": datetime.now(UTC).isoformat(),
            "state_dir": str(state_dir),
        }

    # -- persistence -----------------------------------------------------------------------
    def _extras(self) -> dict[str, Any]:
        """What the local cloud keeps beside moto, for the snapshot."""
        return {
            "url_qualifiers": dict(self.router.url_qualifiers),
            "logging_configs": dict(self.runtime.logging_configs),
            "cost_explorer": self.cost_explorer.snapshot(),
        }

    def _apply_extras(self, extras: dict[str, Any]) -> None:
        self.router.url_qualifiers.update(extras.get("url_qualifiers") or {})
        self.runtime.logging_configs.update(extras.get("logging_configs") or {})
        self.cost_explorer.restore(extras.get("cost_explorer"))

    def health(self) -> dict[str, Any]:
        return {
            "ok": True,
            **self.info,
            "snapshot": dict(self.persist.status),
            "idle_timeout_seconds": self.config.idle_timeout(),
            "idle_seconds": round(time.monotonic() - self.last_request, 1),
        }

    def idle_for(self) -> float:
        """Seconds since the last request ended (0 while one is being answered)."""
        with self._activity_lock:
            if self.in_flight:
                return 0.0
        if any(w.get("busy") for w in self.runtime.describe_workers()):
            return 0.0
        return time.monotonic() - self.last_request

    def bind(self, host: str, port: int) -> None:
        base = f"http://{host}:{port}"
        self.router.base_url = base
        self.runtime.endpoint = base
        self.info.update({"port": port, "endpoint": base})

    @property
    def endpoint_file(self) -> Path:
        return self.state_dir / settings.ENDPOINT_FILE

    def write_endpoint_file(self) -> None:
        """``endpoint.json``: what health says plus the control token (the file is 0600)."""
        with self._endpoint_lock:
            write_json_atomic(
                self.endpoint_file, {**self.info, "token": self.token, "written_at": time.time()}
            )

    def _restore_endpoint_file(self) -> None:
        """Write ``endpoint.json`` again if it was lost while this server runs, so the CLI that
        finds the server by its port (health) can read the token again."""
        if self.stopping or "port" not in self.info:
            return
        current = read_json(self.endpoint_file)
        if not current or current.get("pid") != self.info["pid"] or current.get("token") != self.token:
            self.write_endpoint_file()

    # -- access ----------------------------------------------------------------------------
    def allowed_origin(self, environ: dict[str, Any]) -> str | None:
        """The request's ``Origin`` if the user configured it (``cors_origins``), else None."""
        origin = environ.get("HTTP_ORIGIN")
        if not origin or normalize_origin(origin) not in self.config.cors_origins():
            return None
        return str(origin)

    def refusal(self, environ: dict[str, Any]) -> Response | None:
        """Why this request is refused (a 403), or None. See the module docstring."""
        host = environ.get("HTTP_HOST")
        if not is_loopback_host(host):
            return _denied(
                environ,
                f"the local cloud only answers requests addressed to 127.0.0.1, localhost, [::1] or "
                f"*.localhost, not Host {host!r} (a DNS name pointing at this machine is refused)",
            )
        path: str = environ.get("PATH_INFO", "")
        if _user_endpoint(path):
            return None
        origin = environ.get("HTTP_ORIGIN")
        if origin is not None:
            same = origin.strip().lower().rstrip("/") == f"http://{str(host).strip().lower()}"
            if not same and self.allowed_origin(environ) is None:
                return _denied(
                    environ,
                    f"browser requests from origin {origin!r} are refused; to allow a page of yours, "
                    "start the local cloud with `strands-deploy local start --cors-origin ORIGIN`",
                )
        elif environ.get("HTTP_SEC_FETCH_SITE", "none").lower() not in ("none", "same-origin"):
            return _denied(environ, "cross-site browser requests without an Origin are refused")
        if path.startswith("/_strands/") and path not in OPEN_CONTROL_PATHS:
            given = environ.get(TOKEN_ENVIRON, "").encode("utf-8", "replace")
            if not hmac.compare_digest(given, self.token.encode("ascii")):
                return _denied(
                    environ,
                    f"control routes need the {TOKEN_HEADER} header with the token from "
                    f"{self.endpoint_file} (missing or wrong)",
                )
        return None

    def iam_refusal(self, environ: dict[str, Any]) -> Response | None:
        """A function's call its role does not allow, refused as AWS would (see :mod:`.iam`).
        Only requests signed with credentials issued to a function worker are checked."""
        scope = SCOPE.search(environ.get("HTTP_AUTHORIZATION", ""))
        if scope is None:
            return None
        caller = iam.caller_for(scope.group("key"))
        service = scope.group("service")
        if caller is None or service not in iam.SERVICES or not self.config.iam_enabled():
            return None
        path = environ.get("PATH_INFO", "")
        if path.startswith("/_strands/") or _user_endpoint(path):
            return None
        request = Request(environ)
        body = self._buffer_body(environ) if service in iam.BODY_SERVICES else b""
        if service == "s3" and environ.get("REQUEST_METHOD") == "POST" and "delete" in request.args:
            body = self._buffer_body(environ)
        denial = iam.authorize(
            caller,
            iam.Request(
                service=service,
                method=environ.get("REQUEST_METHOD", "GET"),
                path=unquote(path),
                query={k: request.args.getlist(k) for k in request.args},
                headers={k.lower(): v for k, v in request.headers.items()},
                host=environ.get("HTTP_HOST", ""),
                region=scope.group("region"),
                account=caller.account,
                body=body,
            ),
        )
        if denial is None:
            return None
        return _iam_denied(service, environ, denial.message)

    def preflight(self, environ: dict[str, Any]) -> Response | None:
        """Answer a CORS preflight outside the user's endpoints: allowed for configured origins only."""
        if environ.get("REQUEST_METHOD") != "OPTIONS" or "HTTP_ACCESS_CONTROL_REQUEST_METHOD" not in environ:
            return None
        origin = self.allowed_origin(environ)
        if origin is None:
            return _denied(environ, "CORS preflight refused: this origin is not configured")
        headers = {
            "Access-Control-Allow-Origin": origin,
            "Access-Control-Allow-Methods": CORS_METHODS,
            "Access-Control-Max-Age": "600",
            "Vary": "Origin",
        }
        requested = environ.get("HTTP_ACCESS_CONTROL_REQUEST_HEADERS")
        if requested:
            headers["Access-Control-Allow-Headers"] = requested
        return Response(b"", status=200, headers=headers)

    def with_server_cors(self, environ: dict[str, Any], start_response: StartResponse) -> StartResponse:
        """Drop any CORS header from the answer (moto's S3 bucket CORS included) and add ours,
        for a configured origin only."""
        origin = self.allowed_origin(environ)

        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            kept = [(k, v) for k, v in headers if not k.lower().startswith("access-control-")]
            if origin is not None:
                kept += [
                    ("Access-Control-Allow-Origin", origin),
                    ("Access-Control-Expose-Headers", CORS_EXPOSE),
                    ("Vary", "Origin"),
                ]
            return start_response(status, kept, exc_info) if exc_info else start_response(status, kept)

        return start

    # -- WSGI ------------------------------------------------------------------------------
    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path: str = environ.get("PATH_INFO", "")
        if path.startswith("/_strands/"):
            return self.answer(environ, start_response)
        with self._activity_lock:
            self.in_flight += 1
        try:
            return self.answer(environ, start_response)
        finally:
            if environ.get("REQUEST_METHOD", "GET") not in ("GET", "HEAD", "OPTIONS"):
                self.persist.changed()
            with self._activity_lock:
                self.in_flight -= 1
                self.last_request = time.monotonic()

    def answer(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        try:
            early = self.refusal(environ)
            if early is None and not _user_endpoint(environ.get("PATH_INFO", "")):
                early = self.preflight(environ)
                if early is None:
                    start_response = self.with_server_cors(environ, start_response)
            if early is None:
                early = self.iam_refusal(environ)
            if early is not None:
                return early(environ, start_response)
            response = self.route(environ)
        except HTTPException as e:  # moto's own errors (unknown function...) render themselves
            return e(environ, start_response)
        except Exception as e:
            log.exception("error handling %s %s", environ.get("REQUEST_METHOD"), environ.get("PATH_INFO"))
            response = Response(
                json.dumps({"message": f"local cloud internal error: {type(e).__name__}: {e}"}),
                status=500,
                headers={"x-amzn-ErrorType": "ServiceException"},
                content_type="application/json",
            )
        if response is None:
            with self.persist.request():
                return self.moto(environ, start_response)
        return response(environ, start_response)

    def filter_log_events(self, environ: dict[str, Any]) -> Response:
        """FilterLogEvents with CloudWatch's filter pattern semantics (moto's ignore JSON patterns)."""
        body = self._buffer_body(environ)

        def call(stripped: bytes) -> Response:
            environ["wsgi.input"] = io.BytesIO(stripped)
            environ["CONTENT_LENGTH"] = str(len(stripped))
            return self.call_moto(environ)

        answer: Response = answer_filter_log_events(body, call)
        return answer

    def call_moto(self, environ: dict[str, Any]) -> Response:
        """Run moto and capture its response so it can be rewritten."""
        captured: dict[str, Any] = {}
        chunks: list[bytes] = []

        def start(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Callable[[bytes], None]:
            captured["status"], captured["headers"] = status, headers
            return chunks.append

        with self.persist.request():
            result = self.moto(environ, start)
            try:
                chunks.extend(result)
            finally:
                close = getattr(result, "close", None)
                if close:
                    close()
        response = Response(status=int(captured["status"].split()[0]), headers=captured["headers"])
        response.set_data(b"".join(chunks))
        return response

    @staticmethod
    def _buffer_body(environ: dict[str, Any]) -> bytes:
        """Read the request body once and put it back, so moto can read it too."""
        body = get_input_stream(environ).read()
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        environ.pop("HTTP_TRANSFER_ENCODING", None)
        environ["wsgi.input_terminated"] = False
        return body

    def route(self, environ: dict[str, Any]) -> Response | None:
        path: str = environ.get("PATH_INFO", "")
        method: str = environ.get("REQUEST_METHOD", "GET")
        if path.startswith("/_strands/"):
            return self.control(path, method)
        if path.startswith(FUNCTION_URL_PREFIX):
            url_id = path[len(FUNCTION_URL_PREFIX) :].split("/", 1)[0]
            return self.router.serve_function_url(Request(environ), url_id)
        if path.startswith(EXECUTE_API_PREFIX):
            api_id = path[len(EXECUTE_API_PREFIX) :].split("/", 1)[0]
            return self.router.serve_http_api(Request(environ), api_id)
        if path.rstrip("/") == "/moto-api/reset" and method == "POST":

            def moto_reset() -> Response:
                response = self.call_moto(environ)
                self.forget_all()
                return response

            reset_response: Response = self.persist.reset(moto_reset)
            return reset_response
        scope = SCOPE.search(environ.get("HTTP_AUTHORIZATION", ""))
        service = scope.group("service") if scope else None
        region = scope.group("region") if scope else "us-east-1"
        account = _account_for(scope.group("key") if scope else None)
        if method == "POST" and service in (None, "bedrock", "bedrock-runtime"):
            m = CONVERSE_PATH.match(path)
            if m:
                body = Request(environ).get_data()
                return self.bedrock.handle(unquote(m.group("model")), m.group("op"), body)
        if service == "logs" and environ.get("HTTP_X_AMZ_TARGET") == FILTER_LOG_EVENTS_TARGET:
            return self.filter_log_events(environ)
        if service == "lambda":
            return self.route_lambda(environ, path, method, account, region)
        ce_op = operation_of(environ.get("HTTP_X_AMZ_TARGET")) if service == "ce" else None
        if ce_op is not None:
            return self.cost_explorer.handle(ce_op, Request(environ).get_data(), account)
        if service == "apigateway" and APIS.match(path) and method in ("GET", "POST", "PATCH", "PUT"):
            response = self.call_moto(environ)
            return self._rewrite_json(response, self.router.rewrite_api)
        return None

    def forget_all(self) -> None:
        self.runtime.reset()
        self.cost_explorer.reset()
        self.router.forget()

    # -- Lambda ----------------------------------------------------------------------------
    def route_lambda(
        self, environ: dict[str, Any], path: str, method: str, account: str, region: str
    ) -> Response | None:
        m = INVOKE.match(path)
        if m and method == "POST":
            return self.invoke(Request(environ), unquote(m.group("name")), account, region)
        m = URL_CONFIGS.match(path)
        if m and method == "GET":
            return self.router.list_url_configs(account, region, unquote(m.group("name")))
        m = URL_CONFIG.match(path)
        if m:
            qualifier = Request(environ).args.get("Qualifier")
            response = self.call_moto(environ)
            if method == "DELETE":
                return response
            created = method == "POST"
            return self._rewrite_json(
                response, lambda d: self.router.rewrite_url_config(d, qualifier, created)
            )
        if FUNCTIONS.match(path) and method == "POST":
            body = self._buffer_body(environ)
            self._record_logging_config(account, region, body, None)
            return self._with_logging_config(self.call_moto(environ), account, region)
        m = FUNCTION.match(path)
        if m:
            name = unquote(m.group("name")).rsplit(":function:", 1)[-1].split(":", 1)[0]
            if method == "PUT" and m.group("config"):
                self._record_logging_config(account, region, self._buffer_body(environ), name)
            response = self.call_moto(environ)
            if method == "DELETE" and response.status_code < 300 and ":" not in unquote(m.group("name")):
                if "Qualifier" not in Request(environ).args:
                    self.runtime.logging_configs.pop((account, region, name), None)
                return response
            return self._with_logging_config(response, account, region)
        return None

    def invoke(self, request: Request, name: str, account: str, region: str) -> Response:
        qualifier = request.args.get("Qualifier") or None
        fn = self.runtime.resolve(account, region, name, qualifier)
        payload = request.get_data()
        try:  # Lambda's own quotas: 6 MB synchronous, 256 KB asynchronous
            limits.check_invoke_payload(
                len(payload), request.headers.get("X-Amz-Invocation-Type", "RequestResponse")
            )
        except limits.RequestTooLarge as e:
            return _lambda_error(413, "RequestEntityTooLargeException", e.message)
        if payload.strip():
            try:
                json.loads(payload)
            except ValueError as e:
                return _lambda_error(
                    400,
                    "InvalidRequestContentException",
                    f"Could not parse request body into json: Could not parse payload into json: {e}",
                )
        if ":" in name.rsplit(":function:", 1)[-1] and qualifier is None:
            qualifier = name.rsplit(":", 1)[1]
        invocation_type = request.headers.get("X-Amz-Invocation-Type", "RequestResponse")
        if invocation_type == "DryRun":
            return Response(b"", status=204)
        if invocation_type == "Event":
            request_id = self.runtime.invoke_event(fn, payload, account, region, qualifier)
            return Response(b"", status=202, headers={"x-amzn-RequestId": request_id})
        client_context = None
        raw_context = request.headers.get("X-Amz-Client-Context")
        if raw_context:
            try:
                import base64

                client_context = json.loads(base64.b64decode(raw_context))
            except ValueError:
                client_context = None
        try:
            result = self.runtime.invoke(
                fn,
                payload,
                account,
                region,
                qualifier,
                log_type=request.headers.get("X-Amz-Log-Type"),
                client_context=client_context,
            )
        except Throttled:
            return _lambda_error(
                429,
                "TooManyRequestsException",
                "Rate Exceeded.",
                Reason="ReservedFunctionConcurrentInvocationLimitExceeded",
            )
        headers = {"X-Amz-Executed-Version": result.executed_version, "x-amzn-RequestId": result.request_id}
        if result.function_error:
            headers["X-Amz-Function-Error"] = result.function_error
        if result.log_tail is not None:
            headers["X-Amz-Log-Result"] = result.log_tail
        return Response(result.payload, status=200, headers=headers, content_type="application/json")

    def _record_logging_config(self, account: str, region: str, body: bytes, name: str | None) -> None:
        try:
            data = json.loads(body or b"{}")
        except ValueError:
            return
        if not isinstance(data, dict) or "LoggingConfig" not in data:
            return
        fn_name = name or str(data.get("FunctionName", "")).rsplit(":", 1)[-1]
        if fn_name and isinstance(data["LoggingConfig"], dict):
            key = (account, region, fn_name)
            merged = {**self.runtime.logging_configs.get(key, {}), **data["LoggingConfig"]}
            self.runtime.logging_configs[key] = merged

    def _with_logging_config(self, response: Response, account: str, region: str) -> Response:
        def add(data: dict[str, Any]) -> None:
            for cfg in (data, data.get("Configuration")):
                if isinstance(cfg, dict) and "FunctionName" in cfg and "FunctionArn" in cfg:
                    name = str(cfg["FunctionName"])
                    cfg["LoggingConfig"] = {
                        "LogFormat": "Text",
                        **self.runtime.logging_configs.get((account, region, name), {}),
                        "LogGroup": self.runtime.log_group_for(account, region, name),
                    }

        return self._rewrite_json(response, add)

    @staticmethod
    def _rewrite_json(response: Response, edit: Callable[[dict[str, Any]], None]) -> Response:
        if response.status_code >= 300:
            return response
        try:
            data = json.loads(response.get_data())
        except ValueError:
            return response
        if isinstance(data, dict):
            edit(data)
            response.set_data(json.dumps(data).encode("utf-8"))
        return response

    # -- control ---------------------------------------------------------------------------
    def control(self, path: str, method: str) -> Response:
        if path == "/_strands/health":
            self._restore_endpoint_file()
            return Response(json.dumps(self.health()), content_type="application/json")
        if path == "/_strands/workers" and method == "GET":
            body = {"workers": self.runtime.describe_workers()}
            return Response(json.dumps(body), content_type="application/json")
        if path == "/_strands/reset" and method == "POST":
            from moto.moto_api._internal.models import moto_api_backend

            def reset() -> None:
                moto_api_backend.reset()
                self.forget_all()
                self.runtime.cache.clear()

            self.persist.reset(reset)
            return Response(json.dumps({"reset": True}), content_type="application/json")
        return Response(
            json.dumps({"message": f"unknown control path {path}"}), 404, content_type="application/json"
        )


def install_moto_invoke_hook(runtime: LocalLambda) -> None:
    """Route moto's in-process invocations (event source mappings, SNS subscriptions...) to our
    workers instead of its Docker runner. Only ever called in the server process."""
    from moto.awslambda.models import LambdaFunction

    def invoke(fn: Any, body: Any, request_headers: Any, response_headers: Any) -> bytes:
        payload = body.encode("utf-8") if isinstance(body, str) else bytes(body or b"{}")
        try:
            result = runtime.invoke(fn, payload, fn.account_id, fn.region)
        except Throttled:
            response_headers["x-amz-function-error"] = "Unhandled"
            return b'{"errorType": "TooManyRequestsException", "errorMessage": "Rate Exceeded."}'
        if result.function_error:
            response_headers["x-amz-function-error"] = result.function_error
        return result.payload

    LambdaFunction.invoke = invoke  # type: ignore[method-assign,assignment]


def _listen(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if os.name == "posix":
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # TIME_WAIT only, not a live listener
    try:
        sock.bind((host, port))
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    return sock


def _check_existing(state_dir: Path) -> None:
    """Refuse to start twice for one state dir; replace a stale endpoint.json."""
    existing = read_json(state_dir / settings.ENDPOINT_FILE)
    if not existing:
        return
    pid = int(existing.get("pid") or 0)
    if pid and pid != os.getpid() and pid_alive(pid):
        import urllib.request

        try:
            with urllib.request.urlopen(f"{existing.get('endpoint')}/_strands/health", timeout=2) as r:
                info = json.loads(r.read())
            if info.get("pid") == pid:
                print(
                    f"error: the local cloud for {state_dir} is already running (pid {pid}, {existing.get('endpoint')})\n"
                    "  fix: use it, or stop it first with `strands-deploy local stop`",
                    file=sys.stderr,
                )
                sys.exit(EXIT_ALREADY_RUNNING)
        except (OSError, ValueError):
            pass
    log.info("replacing stale %s (pid %s is not a running local cloud)", settings.ENDPOINT_FILE, pid)


def _idle_watch(app: LocalCloud, shutdown: Callable[[], None]) -> None:
    """Stop the server (which saves its state) once nothing asked it anything for the idle timeout."""
    while not app.stopping:
        timeout = app.config.idle_timeout()
        time.sleep(max(0.2, min(30.0, timeout / 4)) if timeout else 30.0)
        timeout = app.config.idle_timeout()
        if timeout and not app.stopping and app.idle_for() >= timeout:
            log.info(
                "idle for %ss (idle_timeout_seconds %s): saving the state and stopping",
                int(app.idle_for()),
                timeout,
            )
            shutdown()
            return


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m strands_deploy.local.server")
    parser.add_argument("--port", type=int, default=int(os.environ.get("STRANDS_LOCAL_PORT", "4566")))
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--state-dir", required=True, type=Path)
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )
    state_dir: Path = args.state_dir.resolve()
    make_private_dir(state_dir)
    _check_existing(state_dir)
    try:
        sock = _listen(args.host, args.port)
    except OSError as e:
        if e.errno == errno.EADDRINUSE:
            print(
                f"error: port {args.port} on {args.host} is already in use by another program\n"
                "  fix: stop that program, or choose another port: `strands-deploy local start --port 4567`, "
                "STRANDS_LOCAL_PORT=4567, or --port 0 for any free port",
                file=sys.stderr,
            )
            sys.exit(EXIT_PORT_IN_USE)
        print(f"error: cannot listen on {args.host}:{args.port}: {e.strerror}", file=sys.stderr)
        sys.exit(1)
    port = int(sock.getsockname()[1])
    os.environ["MOTO_PORT"] = str(port)
    app = LocalCloud(state_dir)
    app.bind(args.host, port)
    install_moto_invoke_hook(app.runtime)
    from strands_deploy.local.routing import install_percentiles

    install_percentiles()
    install_trigger_hooks(app.runtime)
    app.persist.restore()  # before the first request is served
    app.persist.start()
    scheduler = server_scheduler(app.config)
    scheduler.start()

    import werkzeug.serving
    from moto.moto_server.werkzeug_app import MotoRequestHandler
    from werkzeug.serving import make_server

    if hasattr(werkzeug.serving, "_log_add_style"):
        werkzeug.serving._log_add_style = False  # plain request lines in server.log, no ANSI colors

    server = make_server(
        args.host, port, app, threaded=True, request_handler=MotoRequestHandler, fd=sock.fileno()
    )
    endpoint_file = app.endpoint_file

    def shutdown(signum: int, frame: Any) -> None:
        log.info("signal %s: shutting down", signum)
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, shutdown)
    signal.signal(signal.SIGINT, shutdown)
    threading.Thread(target=_idle_watch, args=(app, server.shutdown), name="idle-stop", daemon=True).start()
    app.write_endpoint_file()
    log.info("local cloud listening on %s (pid %s, state %s)", app.info["endpoint"], os.getpid(), state_dir)
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        app.stopping = True
        scheduler.stop()
        try:
            app.persist.stop()  # the final snapshot
        except Exception:
            log.exception("could not save the state at stop")
        app.runtime.pools.stop_all(final=True)
        current = read_json(endpoint_file)
        if current and current.get("pid") == os.getpid():
            endpoint_file.unlink(missing_ok=True)
        log.info("local cloud stopped")


if __name__ == "__main__":
    main()
