"""Who may talk to the console: only a browser on this machine that was given the URL.

- The server binds 127.0.0.1 only (see ``server.py``).
- Every request carries the random token: ``?token=`` on the first page load (which sets an
  HttpOnly, SameSite=Strict cookie and redirects to a URL without it), then the cookie.
  Without it: 401.
- ``Host`` must be ``127.0.0.1:PORT`` or ``localhost:PORT``: a page on another site whose name
  was rebound to 127.0.0.1 (DNS rebinding) is refused with 403.
- A state-changing request (POST, PUT, PATCH, DELETE) must come from the console's own origin
  (``Origin``, when the browser sends it) and carry the CSRF token of the page in
  ``X-CSRF-Token``: 403 otherwise.
"""

from __future__ import annotations

import hmac
import json
import secrets
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qs

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

COOKIE = "strands_console"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


@dataclass
class Secrets:
    token: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(24))


def allowed_hosts(port: int) -> set[str]:
    return {f"127.0.0.1:{port}", f"localhost:{port}"}


class Guard:
    """ASGI middleware enforcing the rules above before any route runs."""

    def __init__(self, app: ASGIApp, keys: Secrets, hosts: set[str]) -> None:
        self.app = app
        self.keys = keys
        self.hosts = hosts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        host = headers.get("host", "")
        if host not in self.hosts:
            await _refuse(send, 403, f"host {host!r} is not this console (use the URL it printed)")
            return
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        from_query = (query.get("token") or [""])[0]
        if from_query and _same(from_query, self.keys.token):
            if scope["method"] == "GET" and scope["path"] == "/":
                await _enter(send, self.keys.token)
                return
        elif not _same(_cookie(headers), self.keys.token):
            await _refuse(send, 401, "this console needs its token: open the URL `strands-deploy ui` printed")
            return
        if scope["method"] not in SAFE_METHODS:
            origin = headers.get("origin")
            if origin is not None and origin not in {f"http://{h}" for h in self.hosts}:
                await _refuse(send, 403, f"requests from {origin} may not change anything here")
                return
            if not _same(headers.get(CSRF_HEADER, ""), self.keys.csrf):
                await _refuse(send, 403, "missing or wrong CSRF token: reload the console page")
                return
        await self.app(scope, receive, send)


def _same(given: str, expected: str) -> bool:
    return bool(given) and hmac.compare_digest(given.encode(), expected.encode())


def _cookie(headers: dict[str, str]) -> str:
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(headers.get("cookie", ""))
    except Exception:
        return ""
    morsel = jar.get(COOKIE)
    return morsel.value if morsel is not None else ""


async def _enter(send: Send, token: str) -> None:
    """The first visit: keep the token in a cookie and drop it from the address bar."""
    cookie = f"{COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict"
    await send(
        {
            "type": "http.response.start",
            "status": 303,
            "headers": [(b"location", b"/"), (b"set-cookie", cookie.encode()), (b"content-length", b"0")],
        }
    )
    await send({"type": "http.response.body", "body": b""})


async def _refuse(send: Send, status: int, what: str) -> None:
    body = json.dumps({"error": {"what": what, "where": None, "fix": None}}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})
