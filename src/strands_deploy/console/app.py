"""The console's ASGI app: the page, its static files and the JSON API (see docs/console.md)."""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from strands_deploy.console import actions, gitops, templates, yamledit
from strands_deploy.console.jobs import Jobs
from strands_deploy.console.security import Guard, Secrets, allowed_hosts
from strands_deploy.errors import StrandsDeployError

STATIC = Path(str(files("strands_deploy.console") / "static"))
Handler = Callable[[Request], Awaitable[Response]]


@dataclass
class Console:
    root: Path
    env: str
    port: int
    keys: Secrets = field(default_factory=Secrets)
    jobs: Jobs = field(default_factory=Jobs)

    def __post_init__(self) -> None:
        self.config = yamledit.ConfigFile(self.root)

    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/?token={self.keys.token}"


def error_body(e: StrandsDeployError) -> dict[str, Any]:
    from strands_deploy.errors import ProblemsError

    problems = e.problems if isinstance(e, ProblemsError) else [e]
    return {"error": e.to_dict(), "problems": [p.to_dict() for p in problems]}


def api(fn: Callable[[Console, Request], Awaitable[Any]], console: Console) -> Handler:
    """A JSON endpoint: our errors become 400 (409 for a conflicting edit), never a traceback."""

    async def endpoint(request: Request) -> Response:
        try:
            result = await fn(console, request)
        except yamledit.Conflict as e:
            return JSONResponse(
                {**error_body(e), "current": e.current, "etag": e.etag, "diff": e.diff}, status_code=409
            )
        except StrandsDeployError as e:
            return JSONResponse(error_body(e), status_code=400)
        if isinstance(result, Response):
            return result
        return JSONResponse(result)

    return endpoint


def _env(console: Console, request: Request) -> str:
    return request.query_params.get("env") or console.env


async def _body(request: Request) -> dict[str, Any]:
    try:
        data = await request.json()
    except ValueError:
        raise StrandsDeployError("the request body is not JSON") from None
    if not isinstance(data, dict):
        raise StrandsDeployError("the request body must be a JSON object")
    return data


# -- the page ---------------------------------------------------------------------------------------
async def index(console: Console, request: Request) -> Response:
    page = (STATIC / "index.html").read_text(encoding="utf-8")
    page = page.replace("{{csrf}}", console.keys.csrf).replace("{{env}}", json.dumps(console.env)[1:-1])
    return HTMLResponse(page, headers={"cache-control": "no-store"})


# -- configuration ----------------------------------------------------------------------------------
async def get_config(console: Console, request: Request) -> Any:
    doc = console.config.read()
    problems = await run_in_threadpool(yamledit.problems_of, console.root)
    return {"text": doc.text, "etag": doc.etag, "problems": problems, "path": str(console.config.path)}


async def get_etag(console: Console, request: Request) -> Any:
    return {"etag": console.config.etag()}


async def put_config(console: Console, request: Request) -> Any:
    body = await _body(request)
    doc = console.config.write_text(str(body.get("text", "")), body.get("etag"))
    problems = await run_in_threadpool(yamledit.problems_of, console.root)
    return {"etag": doc.etag, "text": doc.text, "problems": problems}


async def validate(console: Console, request: Request) -> Any:
    body = await _body(request)
    return {
        "problems": await run_in_threadpool(yamledit.validate_text, console.root, str(body.get("text", "")))
    }


EDITS: dict[str, Callable[[Console, dict[str, Any]], Callable[[Any], None]]] = {
    "set": lambda c, b: lambda d: yamledit.set_field(d, b["section"], b["name"], b["key"], b.get("value")),
    "add-agent": lambda c, b: lambda d: yamledit.add_agent(c.root, d, b["name"], dict(b.get("fields") or {})),
    "add-resource": lambda c, b: (
        lambda d: yamledit.add_resource(d, b["name"], b["type"], dict(b.get("fields") or {}))
    ),
    "link": lambda c, b: (
        lambda d: yamledit.link(d, b["agent"], b["resource"], b.get("access") or "readwrite")
    ),
    "unlink": lambda c, b: lambda d: yamledit.unlink(d, b["agent"], b["resource"]),
    "remove": lambda c, b: lambda d: yamledit.remove(d, b["section"], b["name"]),
}


async def edit(console: Console, request: Request) -> Any:
    """One form edit: ``{"op": ..., "etag": ..., ...}`` applied to the round-trip document."""
    body = await _body(request)
    make = EDITS.get(str(body.get("op")))
    if make is None:
        raise StrandsDeployError(f"unknown edit {body.get('op')!r}", fix=f"one of: {', '.join(EDITS)}")
    change = make(console, body)

    def guarded(data: Any) -> None:
        try:
            change(data)
        except KeyError as e:  # a field of the request is missing (the document is read with `in`)
            raise StrandsDeployError(f"the edit {body['op']!r} needs {e.args[0]!r}") from None

    doc = await run_in_threadpool(console.config.edit, body.get("etag"), guarded)
    problems = await run_in_threadpool(yamledit.problems_of, console.root)
    return {"etag": doc.etag, "text": doc.text, "problems": problems}


async def add_from_template(console: Console, request: Request) -> Any:
    body = await _body(request)
    name = str(body.get("name", ""))
    yamledit._check_name(name, "agent")
    entry = templates.agent_from(str(body.get("template")), str(body.get("agent")), console.root, name)
    change = lambda d: yamledit.add_agent(console.root, d, name, entry)  # noqa: E731
    doc = await run_in_threadpool(console.config.edit, body.get("etag"), change)
    return {"etag": doc.etag, "text": doc.text, "problems": yamledit.problems_of(console.root)}


# -- views over an environment ---------------------------------------------------------------------
async def overview(console: Console, request: Request) -> Any:
    return await run_in_threadpool(actions.overview, console.root, _env(console, request))


async def node(console: Console, request: Request) -> Any:
    return await run_in_threadpool(
        actions.node, console.root, _env(console, request), request.query_params["id"]
    )


async def plan(console: Console, request: Request) -> Any:
    return await run_in_threadpool(actions.plan, console.root, _env(console, request))


async def deploy(console: Console, request: Request) -> Any:
    body = await _body(request)
    env = str(body.get("env") or console.env)
    job = console.jobs.start(env, actions.deploy(console.root, env, body.get("confirm")))
    return {"job": job.id}


async def cancel(console: Console, request: Request) -> Any:
    job = console.jobs.get(request.path_params["job"])
    if job is None:
        raise StrandsDeployError("no such deploy")
    job.cancel.set()
    return {"cancelling": True}


async def deploy_events(console: Console, request: Request) -> Any:
    """Server-sent events: one ``data:`` line per engine event, then the result."""
    job = console.jobs.get(request.path_params["job"])
    if job is None:
        raise StrandsDeployError("no such deploy")

    def stream() -> Any:
        for item in job.follow():
            yield ": keep-alive\n\n" if item is None else f"data: {json.dumps(item, default=str)}\n\n"

    return StreamingResponse(stream(), media_type="text/event-stream", headers={"cache-control": "no-store"})


async def chat(console: Console, request: Request) -> Any:
    body = await _body(request)
    started = time.monotonic()
    answer = await run_in_threadpool(
        actions.chat,
        console.root,
        str(body.get("env") or console.env),
        str(body.get("agent", "")),
        str(body.get("prompt", "")),
        body.get("session"),
    )
    return {**answer, "seconds": round(time.monotonic() - started, 2)}


async def logs(console: Console, request: Request) -> Any:
    q = request.query_params
    since = int(q.get("since") or 0) or int((time.time() - 3600) * 1000)
    return {
        "events": await run_in_threadpool(
            actions.logs, console.root, _env(console, request), q.get("agent", ""), since, q.get("filter")
        )
    }


async def history(console: Console, request: Request) -> Any:
    return {"records": await run_in_threadpool(actions.history, console.root, _env(console, request))}


async def git_status(console: Console, request: Request) -> Any:
    return await run_in_threadpool(gitops.status, console.root)


async def git_commit(console: Console, request: Request) -> Any:
    body = await _body(request)
    return await run_in_threadpool(gitops.commit, console.root, str(body.get("message", "")))


async def gallery(console: Console, request: Request) -> Any:
    return {"templates": await run_in_threadpool(templates.gallery)}


ROUTES: list[tuple[str, Callable[[Console, Request], Awaitable[Any]], list[str]]] = [
    ("/", index, ["GET"]),
    ("/api/config", get_config, ["GET"]),
    ("/api/config", put_config, ["PUT"]),
    ("/api/config/etag", get_etag, ["GET"]),
    ("/api/config/validate", validate, ["POST"]),
    ("/api/config/edit", edit, ["POST"]),
    ("/api/config/agent-from-template", add_from_template, ["POST"]),
    ("/api/graph", overview, ["GET"]),
    ("/api/node", node, ["GET"]),
    ("/api/plan", plan, ["POST"]),
    ("/api/deploy", deploy, ["POST"]),
    ("/api/deploy/{job}/events", deploy_events, ["GET"]),
    ("/api/deploy/{job}/cancel", cancel, ["POST"]),
    ("/api/chat", chat, ["POST"]),
    ("/api/logs", logs, ["GET"]),
    ("/api/history", history, ["GET"]),
    ("/api/git", git_status, ["GET"]),
    ("/api/git/commit", git_commit, ["POST"]),
    ("/api/templates", gallery, ["GET"]),
]


def create_app(console: Console) -> Guard:
    routes: list[Any] = [Route(path, api(fn, console), methods=methods) for path, fn, methods in ROUTES]
    routes.append(Mount("/static", StaticFiles(directory=STATIC), name="static"))
    return Guard(Starlette(routes=routes), console.keys, allowed_hosts(console.port))
