"""One agent's code, running in its own process for ``strands-deploy dev``.

Started by :mod:`strands_deploy.dev.server` as ``python -m strands_deploy.dev.worker``. It loads
the runtime adapter (``runtime/adapter.py``, the very file shipped to Lambda as
``_strands_runtime.py``) as a module, with the agent folder as import root, so a request takes
the same code path locally as when deployed.

Lifecycle, driven by the parent over stdin (one command a line) and answered on a status pipe
(one JSON object a line), so the agent's own prints on stdout/stderr can never garble it:

1. start: import strands and boto3 (the slow part), report ``{"event": "warm"}``;
2. ``load``: import the user's entry, report ``{"event": "loaded", "ok": bool, "error"...}``;
3. ``serve``: accept HTTP requests on the listening socket inherited from the parent (the parent
   owns the port, so replacing this process never closes it), report ``{"event": "serving"}``;
4. ``stop`` or end of stdin (the parent went away): stop accepting, finish in-flight requests, exit.
"""

from __future__ import annotations

import argparse
import base64
import importlib.util
import json
import os
import socket
import sys
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType
from typing import IO, Any

ADAPTER_FILE = Path(__file__).resolve().parent.parent / "runtime" / "adapter.py"
MAX_BODY = 6 * 1024 * 1024  # the Lambda synchronous payload limit


def load_adapter() -> ModuleType:
    """The adapter file as a module named like in the function package."""
    spec = importlib.util.spec_from_file_location("_strands_runtime", ADAPTER_FILE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["_strands_runtime"] = module
    spec.loader.exec_module(module)
    return module


def http_event(handler: BaseHTTPRequestHandler, body: bytes) -> dict[str, Any]:
    """The request as a Function URL (payload format 2.0) event."""
    path, _, query = handler.path.partition("?")
    try:
        text: str | None = body.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": query,
        "headers": {k.lower(): v for k, v in handler.headers.items()},
        "requestContext": {
            "http": {
                "method": handler.command,
                "path": path,
                "protocol": handler.request_version,
                "sourceIp": handler.client_address[0],
                "userAgent": handler.headers.get("user-agent", ""),
            },
            "requestId": str(uuid.uuid4()),
        },
        "body": text if text is not None else base64.b64encode(body).decode(),
        "isBase64Encoded": text is None,
    }


def make_handler(runtime: Any) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "strands-dev"

        def _answer(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            if length > MAX_BODY:
                self._send(413, {"content-type": "application/json"}, json.dumps({"error": "body too large"}))
                return
            body = self.rfile.read(length) if length else b""
            out = runtime.handle(http_event(self, body))
            status, headers, data = url_response(out)
            self._send(status, headers, data)

        def _send(self, status: int, headers: Any, body: str | bytes) -> None:
            data = body.encode() if isinstance(body, str) else body
            self.send_response(status)
            for k, v in headers.items() if isinstance(headers, dict) else headers:
                if v is not None:
                    self.send_header(k, str(v))
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_POST = do_GET = do_PUT = do_DELETE = do_PATCH = _answer  # noqa: N815

        def log_message(self, format: str, *args: Any) -> None:  # the adapter logs each request
            return None

    return Handler


def url_response(out: Any) -> tuple[int, list[tuple[str, Any]], bytes]:
    """What a Function URL makes of a handler's return value: a dict with ``statusCode`` is a
    response (``body`` base64-decoded when ``isBase64Encoded``, v2 ``cookies`` as Set-Cookie);
    anything else is a 200 JSON body."""
    if not isinstance(out, dict) or "statusCode" not in out:
        return 200, [("content-type", "application/json")], json.dumps(out, default=str).encode()
    body = out.get("body") or ""
    data = base64.b64decode(body) if out.get("isBase64Encoded") else str(body).encode()
    headers = [(k, v) for k, v in (out.get("headers") or {}).items()]
    headers += [("set-cookie", cookie) for cookie in out.get("cookies") or []]
    return int(out.get("statusCode", 200)), headers, data


class Worker:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.status: IO[str] = os.fdopen(args.status_fd, "w", buffering=1)
        self.server: ThreadingHTTPServer | None = None
        self.runtime: Any = None

    def report(self, event: str, **fields: Any) -> None:
        try:
            self.status.write(json.dumps({"event": event, "pid": os.getpid(), **fields}) + "\n")
            self.status.flush()
        except (BrokenPipeError, ValueError):
            pass

    def warm(self) -> None:
        adapter = load_adapter()
        self.runtime = adapter.Runtime(
            root=self.args.root,
            entry=self.args.entry,
            agent_name=self.args.name,
            sessions_bucket=os.environ.get("STRANDS_SESSIONS_BUCKET"),
            sessions_prefix=os.environ.get("STRANDS_SESSIONS_PREFIX", ""),
            sessions_dir=os.environ.get("STRANDS_SESSIONS_DIR"),
        )
        os.chdir(self.args.root)
        try:  # pay for the heavy imports before the code changes, not after
            import boto3  # noqa: F401
            import strands  # noqa: F401
        except ImportError:
            pass  # the adapter reports a missing strands-agents on load
        self.report("warm")

    def load(self) -> None:
        error = self.runtime.load()
        if error is None:
            self.report("loaded", ok=True)
        else:
            self.report("loaded", ok=False, **error)

    def serve(self) -> None:
        sock = socket.socket(fileno=self.args.listen_fd)
        sock.setblocking(False)  # shared with the next worker: whoever loses an accept race moves on
        server = ThreadingHTTPServer(
            sock.getsockname()[:2], make_handler(self.runtime), bind_and_activate=False
        )
        server.socket.close()
        server.socket = sock
        server.daemon_threads = False  # shutdown waits for in-flight requests
        self.server = server
        self.report("serving")
        server.serve_forever(poll_interval=0.2)
        server.server_close()

    def commands(self) -> None:
        """Read commands until stop/EOF. Runs in a thread once serving starts."""
        for line in sys.stdin:
            if line.strip() == "stop":
                break
        if self.server is not None:
            self.server.shutdown()

    def run(self) -> int:
        self.warm()
        for line in sys.stdin:
            cmd = line.strip()
            if cmd == "load":
                self.load()
            elif cmd == "serve":
                threading.Thread(target=self.commands, name="commands", daemon=True).start()
                self.serve()
                break
            elif cmd == "stop":
                break
        self.report("stopped")
        return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="strands_deploy.dev.worker")
    parser.add_argument("--root", required=True)
    parser.add_argument("--entry", required=True)
    parser.add_argument("--name", default="")
    parser.add_argument("--listen-fd", type=int, required=True)
    parser.add_argument("--status-fd", type=int, required=True)
    args = parser.parse_args(argv)
    return Worker(args).run()


if __name__ == "__main__":
    sys.exit(main())
