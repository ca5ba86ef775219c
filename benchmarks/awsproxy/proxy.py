"""A threaded HTTP proxy in front of a moto server that answers like real AWS does.

Any client (our tool, a peer tool, a script) pointed at the proxy sees the same cloud, with:
per-operation latency, IAM propagation, Lambda Pending/InProgress states and their 409s, DynamoDB
CREATING, token-bucket rate limits answered with each service's own throttling error, optional
random throttles, and a count of every call (``GET /_proxy/stats``; ``POST /_proxy/reset``).
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import random
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
import zlib
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from benchmarks.awsproxy import model
from benchmarks.awsproxy.errors import Response, error_response
from benchmarks.awsproxy.identify import (
    Operation,
    form_fields,
    function_name,
    identify,
    lambda_function_name,
    resource_of,
)

ACCOUNT = "123456789012"
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "trailers",
        "transfer-encoding",
        "upgrade",
        "expect",
        "content-length",
    }
)

# Kinds of error the proxy answers itself (keys of stats["injected"]).
THROTTLE = "throttle"  # --throttle-rate: random throttling
RATE_LIMIT = "rate_limit"  # a token bucket was empty
PROPAGATION = "iam_propagation"  # CreateFunction with a role younger than the propagation time
CONFLICT = "conflict"  # an update / PublishVersion while the function is Pending or InProgress


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class TokenBucket:
    def __init__(self, rate: float, burst: float) -> None:
        self.rate = rate
        self.burst = max(1.0, burst)
        self.tokens = self.burst
        self.last = time.monotonic()

    def available(self, now: float) -> bool:
        self.tokens = min(self.burst, self.tokens + (now - self.last) * self.rate)
        self.last = now
        return self.tokens >= 1.0

    def take(self) -> None:
        self.tokens -= 1.0


@dataclass
class ProxyConfig:
    latency: bool = True  # per-call latency
    waits: bool = True  # IAM propagation, Pending / InProgress / CREATING windows
    limits: bool = True  # token-bucket rate limits
    throttle_rate: float = 0.0  # fraction of calls answered with a throttling error
    scale: float = 1.0  # multiplies every latency and wait; divides every rate
    seed: int = 1
    jitter: float = model.JITTER
    waits_model: model.Waits = field(default_factory=model.Waits)
    rate_limits: tuple[model.RateLimit, ...] = model.RATE_LIMITS

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["rate_limits"] = [{"name": r.name, "rate": r.rate, "burst": r.burst} for r in self.rate_limits]
        return out


@dataclass
class _CallRecord:
    start: float
    duration: float
    op: str
    status: int
    injected: str | None
    upstream: float  # seconds moto took (the emulator's own time)
    resource: str = ""  # the resource the call is about, when the request names it


@dataclass
class _Outcome:
    injected: str | None  # the kind of error the proxy answered itself, if it did
    response: Response | None
    modeled: float  # the modeled latency of the call
    upstream: float  # seconds moto took


class _Stats:
    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.errors: dict[str, Counter[str]] = defaultdict(Counter)
        self.injected: Counter[str] = Counter()
        self.upstream_errors: dict[str, Counter[str]] = defaultdict(Counter)
        self.modeled = 0.0
        self.upstream = 0.0  # seconds moto spent answering
        self.excess = 0.0  # seconds moto took beyond the modeled latency (emulator overhead)
        self.first: float | None = None
        self.last: float | None = None
        self.in_flight = 0
        self.max_in_flight = 0
        self.log: list[_CallRecord] = []


class AwsProxy:
    """The proxy, in-process. ``start()`` starts moto (unless ``moto_endpoint`` is given) and serves.

    >>> proxy = AwsProxy(scale=0.05).start()
    >>> proxy.endpoint  # point boto3's endpoint_url here
    >>> proxy.stop()
    """

    def __init__(
        self,
        *,
        moto_endpoint: str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        config: ProxyConfig | None = None,
        moto_log: Path | None = None,
        **overrides: Any,
    ) -> None:
        self.config = config or ProxyConfig()
        for key, value in overrides.items():
            if not hasattr(self.config, key):
                raise TypeError(f"unknown proxy setting {key!r}")
            setattr(self.config, key, value)
        self.host = host
        self.port = port
        self.moto_endpoint = moto_endpoint
        self.moto_log = moto_log
        self._moto_proc: subprocess.Popen[bytes] | None = None
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._local = threading.local()
        self._epoch = time.monotonic()
        self._reset_model()

    # -- lifecycle --------------------------------------------------------------------------
    @property
    def endpoint(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> AwsProxy:
        if self.moto_endpoint is None:
            self._start_moto()
        proxy = self

        class Handler(_Handler):
            owner = proxy

        server = ThreadingHTTPServer((self.host, self.port), Handler)
        server.daemon_threads = True
        self._server = server
        self.port = int(server.server_address[1])
        self._thread = threading.Thread(target=server.serve_forever, name="awsproxy", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._moto_proc is not None:
            stop_process(self._moto_proc)
            self._moto_proc = None

    def __enter__(self) -> AwsProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _start_moto(self) -> None:
        port = free_port()
        log = open(self.moto_log, "ab") if self.moto_log else subprocess.DEVNULL  # noqa: SIM115
        try:
            self._moto_proc = subprocess.Popen(
                [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, "MOTO_ALLOW_NONEXISTENT_REGION": "false"},
            )
        finally:
            if log is not subprocess.DEVNULL:
                log.close()  # type: ignore[union-attr]
        self.moto_endpoint = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            if self._moto_proc.poll() is not None:
                raise RuntimeError(f"moto server exited with code {self._moto_proc.returncode}")
            try:
                urllib.request.urlopen(f"{self.moto_endpoint}/moto-api/", timeout=1).read()
                return
            except Exception:
                if time.monotonic() > deadline:
                    stop_process(self._moto_proc)
                    raise RuntimeError("moto server did not start in 30 s") from None
                time.sleep(0.1)

    def warm_up(self) -> None:
        """Exercise every service once, straight against moto (uncounted), then reset it.

        moto loads each service's backend on first use: the first Lambda calls of a fresh moto
        server take seconds each (measured: 16 concurrent CreateFunction, 4 s each cold, 0.1 s
        warm). That is the emulator, not AWS, so benchmarks warm it up first.
        """
        import io
        import zipfile

        import boto3

        assert self.moto_endpoint is not None
        session: Any = boto3.session.Session(
            aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
        )

        def client(name: str) -> Any:
            return session.client(name, endpoint_url=self.moto_endpoint)

        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            zf.writestr("h.py", "def handler(event, context):\n    return 1\n")
        iam, lam = client("iam"), client("lambda")
        role = iam.create_role(RoleName="warm-up", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        iam.put_role_policy(RoleName="warm-up", PolicyName="p", PolicyDocument=_WARM_POLICY)
        lam.create_function(
            FunctionName="warm-up",
            Runtime="python3.12",
            Role=role,
            Handler="h.handler",
            Code={"ZipFile": buf.getvalue()},
        )
        version = lam.publish_version(FunctionName="warm-up")["Version"]
        lam.create_alias(FunctionName="warm-up", Name="live", FunctionVersion=version)
        lam.create_function_url_config(FunctionName="warm-up", Qualifier="live", AuthType="NONE")
        lam.add_permission(
            FunctionName="warm-up",
            Qualifier="live",
            StatementId="s",
            Action="lambda:InvokeFunction",
            Principal="*",
        )
        lam.get_function(FunctionName="warm-up")
        client("dynamodb").create_table(
            TableName="warm-up",
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        client("s3").create_bucket(Bucket="warm-up-bucket")
        client("logs").create_log_group(logGroupName="warm-up")
        cw = client("cloudwatch")
        cw.put_metric_alarm(
            AlarmName="warm-up",
            Namespace="AWS/Lambda",
            MetricName="Errors",
            Statistic="Sum",
            Period=60,
            EvaluationPeriods=1,
            Threshold=1,
            ComparisonOperator="GreaterThanThreshold",
        )
        cw.describe_alarms(AlarmNames=["warm-up"])
        client("sts").get_caller_identity()
        client("apigatewayv2").get_apis()
        client("resourcegroupstaggingapi").get_resources()
        client("logs").describe_log_groups()
        self.reset(moto=True)

    # -- model state ------------------------------------------------------------------------
    def _reset_model(self) -> None:
        cfg = self.config
        self._rng = random.Random(cfg.seed)
        self._buckets = [
            (limit, TokenBucket(limit.rate / cfg.scale, limit.burst)) for limit in cfg.rate_limits
        ]
        self._role_created: dict[str, float] = {}
        self._pending_until: dict[str, float] = {}
        self._updating_until: dict[str, float] = {}
        self._creating_until: dict[str, float] = {}
        self._stats = _Stats()

    def reset(self, moto: bool = True) -> None:
        """Forget every count and model state; reset moto too (empty cloud)."""
        if moto and self.moto_endpoint:
            req = urllib.request.Request(f"{self.moto_endpoint}/moto-api/reset", method="POST")
            urllib.request.urlopen(req, timeout=30).read()
        with self._lock:
            self._reset_model()

    def configure(self, **settings: Any) -> None:
        """Change settings at run time (throttle_rate, scale, latency, waits, limits, seed)."""
        with self._lock:
            for key, value in settings.items():
                if key not in ("throttle_rate", "scale", "latency", "waits", "limits", "seed", "jitter"):
                    raise ValueError(f"cannot change {key!r} at run time")
                setattr(self.config, key, type(getattr(self.config, key))(value))
            cfg = self.config
            self._buckets = [
                (limit, TokenBucket(limit.rate / cfg.scale, limit.burst)) for limit in cfg.rate_limits
            ]
            if "seed" in settings:
                self._rng = random.Random(cfg.seed)

    def stats(self) -> dict[str, Any]:
        with self._lock:
            st = self._stats
            reads = sum(n for k, n in st.calls.items() if model.is_read(k.split(":", 1)[1]))
            total = sum(st.calls.values())
            return {
                "calls": dict(sorted(st.calls.items())),
                "total": total,
                "reads": reads,
                "writes": total - reads,
                "errors": {k: dict(v) for k, v in sorted(st.errors.items())},
                "injected": dict(st.injected),
                "upstream_errors": {k: dict(v) for k, v in sorted(st.upstream_errors.items())},
                "modeled_seconds": round(st.modeled, 3),
                "upstream_seconds": round(st.upstream, 3),
                "emulator_excess_seconds": round(st.excess, 3),
                "span": round(st.last - st.first, 3) if st.first is not None and st.last else 0.0,
                "max_in_flight": st.max_in_flight,
                "config": self.config.to_json(),
            }

    def calls(self) -> list[dict[str, Any]]:
        with self._lock:
            return [
                {
                    "t": round(c.start, 4),
                    "d": round(c.duration, 4),
                    "u": round(c.upstream, 4),
                    "op": c.op,
                    "status": c.status,
                }
                | ({"injected": c.injected} if c.injected else {})
                | ({"resource": c.resource} if c.resource else {})
                for c in self._stats.log
            ]

    # -- request handling -------------------------------------------------------------------
    def _now(self) -> float:
        return time.monotonic()

    def _latency(self, op: Operation) -> float:
        cfg = self.config
        if not cfg.latency:
            return 0.0
        with self._lock:
            jitter = self._rng.uniform(1 - cfg.jitter, 1 + cfg.jitter)
        return model.latency_of(op.service, op.name) * jitter * cfg.scale

    def handle(self, method: str, raw_path: str, headers: dict[str, str], body: bytes) -> Response:
        """Answer one request (headers with lower-case names)."""
        if raw_path.startswith("/_proxy/"):
            return self._control(method, raw_path, body)
        if raw_path.startswith("/moto-api"):
            return self._forward(method, raw_path, headers, body)
        arrived = self._now()
        op = identify(method, raw_path, headers, body)
        resource = resource_of(op, urllib.parse.unquote(urllib.parse.urlsplit(raw_path).path), headers, body)
        with self._lock:
            st = self._stats
            st.calls[op.key] += 1
            if st.first is None:
                st.first = arrived
            st.in_flight += 1
            st.max_in_flight = max(st.max_in_flight, st.in_flight)
        out = _Outcome(None, None, 0.0, 0.0)
        try:
            out = self._process(op, method, raw_path, headers, body, arrived)
            assert out.response is not None
            return out.response
        finally:
            done = self._now()
            status = out.response.status if out.response is not None else 0
            with self._lock:
                st = self._stats
                st.in_flight -= 1
                st.last = done if st.last is None else max(st.last, done)
                if out.injected is None and status:
                    st.modeled += out.modeled
                    st.upstream += out.upstream
                    st.excess += max(0.0, out.upstream - out.modeled)
                if len(st.log) < 500_000:
                    st.log.append(
                        _CallRecord(
                            arrived - self._epoch,
                            done - arrived,
                            op.key,
                            status,
                            out.injected,
                            out.upstream,
                            resource,
                        )
                    )

    def _refuse(
        self, op: Operation, kind: str, status: int, code: str, message: str, delay: float
    ) -> _Outcome:
        with self._lock:
            self._stats.injected[kind] += 1
            self._stats.errors[op.key][code] += 1
        if delay > 0:
            time.sleep(delay)
        return _Outcome(kind, error_response(op, status, code, message), 0.0, 0.0)

    def _process(
        self, op: Operation, method: str, raw_path: str, headers: dict[str, str], body: bytes, now: float
    ) -> _Outcome:
        cfg = self.config
        fast = model.FAST_ERROR_LATENCY * cfg.scale if cfg.latency else 0.0
        # 1. random throttling (--throttle-rate)
        if cfg.throttle_rate > 0:
            with self._lock:
                hit = self._rng.random() < cfg.throttle_rate
            if hit:
                err = model.throttle_error(op.service)
                return self._refuse(op, THROTTLE, err.status, err.code, err.message, fast)
        # 2. rate limits
        if cfg.limits:
            with self._lock:
                matching = [b for limit, b in self._buckets if limit.matches(op.service, op.name)]
                allowed = all(b.available(now) for b in matching)
                if allowed:
                    for b in matching:
                        b.take()
            if not allowed:
                err = model.throttle_error(op.service)
                return self._refuse(op, RATE_LIMIT, err.status, err.code, err.message, fast)
        latency = self._latency(op)
        path = urllib.parse.urlsplit(raw_path).path
        waits = cfg.waits_model
        # 3. eventual consistency and readiness
        if cfg.waits and op.service == "lambda":
            refused = self._lambda_check(op, path, body, now, latency, fast)
            if refused is not None:
                return refused
        # 4. the call itself
        resp = self._forward(method, raw_path, headers, body)
        upstream = self._now() - now
        if resp.status >= 400:
            with self._lock:
                self._stats.upstream_errors[op.key][str(resp.status)] += 1
        elif cfg.waits:
            resp = self._rewrite(op, raw_path, path, body, resp, now)
        remaining = latency - (self._now() - now)
        if remaining > 0:
            time.sleep(remaining)
        if 200 <= resp.status < 300 and cfg.waits:
            self._record(op, path, body, self._now(), waits)
        return _Outcome(None, resp, latency, upstream)

    def _lambda_check(
        self, op: Operation, path: str, body: bytes, now: float, latency: float, fast: float
    ) -> _Outcome | None:
        cfg = self.config
        if op.name in ("CreateFunction", "UpdateFunctionConfiguration"):
            role = _json(body).get("Role")
            if isinstance(role, str):
                with self._lock:
                    created = self._role_created.get(role.rsplit("/", 1)[-1])
                if created is not None and now < created + cfg.waits_model.iam_propagation * cfg.scale:
                    return self._refuse(
                        op,
                        PROPAGATION,
                        400,
                        "InvalidParameterValueException",
                        "The role defined for the function cannot be assumed by Lambda.",
                        latency,
                    )
        if op.name in ("UpdateFunctionCode", "UpdateFunctionConfiguration", "PublishVersion"):
            name = lambda_function_name(path)
            if name:
                arn = f"arn:aws:lambda:{op.region}:{ACCOUNT}:function:{name}"
                with self._lock:
                    pending = now < self._pending_until.get(name, 0.0)
                    updating = now < self._updating_until.get(name, 0.0)
                if pending:
                    msg = (
                        "The operation cannot be performed at this time. "
                        "The function is currently in the following state: Pending"
                    )
                    return self._refuse(op, CONFLICT, 409, "ResourceConflictException", msg, fast)
                if updating:
                    msg = (
                        "The operation cannot be performed at this time. "
                        f"An update is in progress for resource: {arn}"
                    )
                    return self._refuse(op, CONFLICT, 409, "ResourceConflictException", msg, fast)
        return None

    def _rewrite(
        self, op: Operation, raw_path: str, path: str, body: bytes, resp: Response, now: float
    ) -> Response:
        """Make responses say what real AWS says at this moment (Pending, InProgress, CREATING)."""
        if op.service == "lambda":
            if op.name == "CreateFunction":
                return _patch_json(resp, None, _PENDING)
            if op.name in ("UpdateFunctionCode", "UpdateFunctionConfiguration"):
                return _patch_json(resp, None, _IN_PROGRESS)
            if op.name in ("GetFunction", "GetFunctionConfiguration"):
                query = urllib.parse.parse_qs(urllib.parse.urlsplit(raw_path).query)
                if query.get("Qualifier", ["$LATEST"])[0] != "$LATEST":
                    return resp
                name = lambda_function_name(path)
                if not name:
                    return resp
                with self._lock:
                    pending = now < self._pending_until.get(name, 0.0)
                    updating = now < self._updating_until.get(name, 0.0)
                where = "Configuration" if op.name == "GetFunction" else None
                if pending:
                    return _patch_json(resp, where, _PENDING)
                if updating:
                    return _patch_json(resp, where, _IN_PROGRESS)
        elif op.service == "dynamodb":
            if op.name == "CreateTable":
                return _patch_json(resp, "TableDescription", {"TableStatus": "CREATING"})
            if op.name == "DescribeTable":
                name = str(_json(body).get("TableName", ""))
                with self._lock:
                    creating = now < self._creating_until.get(name, 0.0)
                if creating:
                    return _patch_json(resp, "Table", {"TableStatus": "CREATING"})
        return resp

    def _record(self, op: Operation, path: str, body: bytes, done: float, waits: model.Waits) -> None:
        """Remember what a successful write started (timed from when its response was sent)."""
        scale = self.config.scale
        with self._lock:
            if op.service == "iam" and op.name == "CreateRole":
                name = form_fields(body).get("RoleName")
                if name:
                    self._role_created[name] = done
            elif op.service == "iam" and op.name == "DeleteRole":
                self._role_created.pop(form_fields(body).get("RoleName", ""), None)
            elif op.service == "lambda" and op.name == "CreateFunction":
                name = _json(body).get("FunctionName")
                if isinstance(name, str):
                    self._pending_until[function_name(name)] = done + waits.function_pending * scale
            elif op.service == "lambda" and op.name in ("UpdateFunctionCode", "UpdateFunctionConfiguration"):
                fn = lambda_function_name(path)
                if fn:
                    self._updating_until[fn] = done + waits.function_update * scale
            elif op.service == "lambda" and op.name == "DeleteFunction":
                fn = lambda_function_name(path)
                if fn and "Qualifier=" not in path:
                    self._pending_until.pop(fn, None)
                    self._updating_until.pop(fn, None)
            elif op.service == "dynamodb" and op.name == "CreateTable":
                name = _json(body).get("TableName")
                if isinstance(name, str):
                    self._creating_until[name] = done + waits.table_creating * scale
            elif op.service == "dynamodb" and op.name == "DeleteTable":
                self._creating_until.pop(str(_json(body).get("TableName", "")), None)

    # -- upstream ---------------------------------------------------------------------------
    def _connection(self) -> http.client.HTTPConnection:
        conn: http.client.HTTPConnection | None = getattr(self._local, "conn", None)
        if conn is None:
            assert self.moto_endpoint is not None
            parts = urllib.parse.urlsplit(self.moto_endpoint)
            conn = _NoDelayConnection(parts.hostname or "127.0.0.1", parts.port or 80, timeout=300)
            self._local.conn = conn
        return conn

    def _forward(self, method: str, raw_path: str, headers: dict[str, str], body: bytes) -> Response:
        for attempt in range(2):
            conn = self._connection()
            try:
                conn.putrequest(method, raw_path, skip_host=True, skip_accept_encoding=True)
                for name, value in headers.items():
                    if name not in HOP_BY_HOP:
                        conn.putheader(name, value)
                if body or method in ("POST", "PUT", "PATCH"):
                    conn.putheader("content-length", str(len(body)))
                conn.endheaders(body or None)
                upstream = conn.getresponse()
                data = upstream.read()
                out = {k: v for k, v in upstream.getheaders() if k.lower() not in HOP_BY_HOP}
                if method == "HEAD":
                    length = upstream.getheader("content-length")
                    if length is not None:
                        out["Content-Length"] = length
                if upstream.will_close:
                    conn.close()
                return Response(upstream.status, out, data)
            except (http.client.HTTPException, OSError):
                conn.close()
                self._local.conn = None
                if attempt:
                    raise
        raise AssertionError("unreachable")

    # -- control endpoints ------------------------------------------------------------------
    def _control(self, method: str, raw_path: str, body: bytes) -> Response:
        path = urllib.parse.urlsplit(raw_path).path
        if path == "/_proxy/stats" and method == "GET":
            return _json_response(self.stats())
        if path == "/_proxy/calls" and method == "GET":
            return _json_response(self.calls())
        if path == "/_proxy/reset" and method == "POST":
            self.reset(moto=True)
            return _json_response({"ok": True})
        if path == "/_proxy/config" and method == "POST":
            try:
                self.configure(**_json(body))
            except (ValueError, TypeError) as e:
                return _json_response({"error": str(e)}, 400)
            return _json_response(self.config.to_json())
        if path == "/_proxy/config" and method == "GET":
            return _json_response(self.config.to_json())
        return _json_response({"error": f"no such proxy endpoint: {method} {path}"}, 404)


_WARM_POLICY = json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}
)

_PENDING = {
    "State": "Pending",
    "StateReason": "The function is being created.",
    "StateReasonCode": "Creating",
    "LastUpdateStatus": "InProgress",
}
_IN_PROGRESS = {
    "State": "Active",
    "LastUpdateStatus": "InProgress",
    "LastUpdateStatusReason": "The function is being updated.",
    "LastUpdateStatusReasonCode": "Updating",
}


def _json(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body or b"{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _patch_json(resp: Response, where: str | None, values: dict[str, str]) -> Response:
    try:
        data = json.loads(resp.body)
    except ValueError:
        return resp
    target = data.get(where) if where else data
    if not isinstance(target, dict):
        return resp
    target.update(values)
    body = json.dumps(data).encode()
    headers = dict(resp.headers)
    for name in list(headers):
        if name.lower() == "x-amz-crc32":  # DynamoDB: clients check the body against it
            headers[name] = str(zlib.crc32(body) & 0xFFFFFFFF)
    return Response(resp.status, headers, body)


def _json_response(data: Any, status: int = 200) -> Response:
    return Response(status, {"Content-Type": "application/json"}, json.dumps(data).encode())


def stop_process(proc: subprocess.Popen[bytes]) -> None:
    """Stop exactly this process (by pid): SIGTERM, then SIGKILL."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


class _NoDelayConnection(http.client.HTTPConnection):
    def connect(self) -> None:
        super().connect()
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class _Handler(BaseHTTPRequestHandler):
    owner: AwsProxy
    protocol_version = "HTTP/1.1"
    server_version = "awsproxy"

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in separate writes: without this, Nagle's algorithm and the
        # client's delayed ACK add ~40 ms to every response.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _handle(self) -> None:
        body = self._read_body()
        headers = {k.lower(): v for k, v in self.headers.items()}
        try:
            resp = self.owner.handle(self.command, self.path, headers, body)
        except Exception as e:  # the upstream failed: say so as a 502
            resp = _json_response({"error": f"proxy: {type(e).__name__}: {e}"}, 502)
        self.send_response(resp.status)
        has_length = False
        for name, value in resp.headers.items():
            if name.lower() == "content-length":
                has_length = True
            self.send_header(name, value)
        if not has_length:
            self.send_header("Content-Length", str(len(resp.body)))
        self.end_headers()
        if self.command != "HEAD" and resp.body:
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.wfile.write(resp.body)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _handle
