"""The provisioned concurrency provider over real HTTP with real boto3 calls.

moto has no provisioned concurrency API (its server answers 404), so this test serves Lambda's
three REST operations itself, with AWS's status codes, error types and response shapes
(``/2019-09-30/functions/{name}/provisioned-concurrency?Qualifier=...``): botocore parses the
answers exactly as it parses AWS's. The server runs in a thread this test starts and stops.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from strands_deploy.aws.session import AwsContext, AwsSettings
from strands_deploy.errors import StrandsDeployError
from strands_deploy.providers.base import ProviderContext
from strands_deploy.providers.registry import get_provider

ADDR = "agent.support.provisioned"
TYPE = "aws.lambda.provisioned_concurrency"
LIMIT = 100  # more instances than this: the allocation FAILS, as over an account's quota


class FakeLambda:
    """What Lambda keeps: (function, qualifier) → requested count; functions that exist; and a
    number of update-in-progress conflicts to answer before accepting a PUT."""

    def __init__(self) -> None:
        self.configs: dict[tuple[str, str], int] = {}
        self.functions = {"acme-dev-support"}
        self.conflicts = 0
        self.calls: list[str] = []


def handler_for(lam: FakeLambda) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:  # keep pytest output clean
            pass

        def _answer(self, status: int, body: dict[str, Any] | None, error: str | None = None) -> None:
            data = json.dumps(body).encode() if body is not None else b""
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            if error:
                self.send_header("x-amzn-ErrorType", error)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _target(self) -> tuple[str, str] | None:
            url = urlparse(self.path)
            parts = url.path.strip("/").split("/")
            if len(parts) != 4 or parts[0] != "2019-09-30" or parts[3] != "provisioned-concurrency":
                self._answer(404, {"message": "not emulated"}, "UnknownOperationException")
                return None
            function, qualifier = parts[2], parse_qs(url.query)["Qualifier"][0]
            if function not in lam.functions:
                self._answer(
                    404,
                    {"Type": "User", "Message": f"Function not found: {function}"},
                    "ResourceNotFoundException",
                )
                return None
            return function, qualifier

        def _config(self, count: int) -> dict[str, Any]:
            failed = count > LIMIT
            return {
                "RequestedProvisionedConcurrentExecutions": count,
                "AvailableProvisionedConcurrentExecutions": LIMIT,
                "AllocatedProvisionedConcurrentExecutions": 0,
                "Status": "FAILED" if failed else "IN_PROGRESS",
                **({"StatusReason": "FUNCTION_ERROR_INIT_FAILURE"} if failed else {}),
                "LastModified": "2026-01-01T00:00:00+0000",
            }

        def do_PUT(self) -> None:  # noqa: N802
            lam.calls.append("PUT")
            target = self._target()
            if target is None:
                return
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            if lam.conflicts:
                lam.conflicts -= 1
                msg = "The operation cannot be performed at this time. An update is in progress for resource"
                self._answer(409, {"Type": "User", "message": msg}, "ResourceConflictException")
                return
            lam.configs[target] = int(body["ProvisionedConcurrentExecutions"])
            self._answer(202, self._config(lam.configs[target]))

        def do_GET(self) -> None:  # noqa: N802
            lam.calls.append("GET")
            target = self._target()
            if target is None:
                return
            if target not in lam.configs:
                msg = "No Provisioned Concurrency Config found for this function"
                self._answer(
                    404, {"Type": "User", "message": msg}, "ProvisionedConcurrencyConfigNotFoundException"
                )
                return
            self._answer(200, self._config(lam.configs[target]))

        def do_DELETE(self) -> None:  # noqa: N802
            lam.calls.append("DELETE")
            target = self._target()
            if target is None:
                return
            if lam.configs.pop(target, None) is None:
                msg = "No Provisioned Concurrency Config found for this function"
                self._answer(
                    404, {"Type": "User", "message": msg}, "ProvisionedConcurrencyConfigNotFoundException"
                )
                return
            self._answer(204, None)

    return Handler


@pytest.fixture
def lam() -> Iterator[tuple[FakeLambda, str]]:
    fake = FakeLambda()
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler_for(fake))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture
def ctx(lam: tuple[FakeLambda, str], tmp_path: Path) -> ProviderContext:
    aws = AwsContext(AwsSettings(region="us-east-1", endpoint_url=lam[1], local=True, max_attempts=1))
    return ProviderContext(
        aws=aws,
        project="acme",
        environment="dev",
        project_dir=tmp_path,
        cache_dir=tmp_path / ".cache",
        sleep=lambda seconds: None,  # the retry of a conflict does not really wait
    )


def props(count: int = 3, function: str = "acme-dev-support") -> dict[str, Any]:
    return {"function_name": function, "qualifier": "live", "count": count}


def test_lifecycle(ctx: ProviderContext, lam: tuple[FakeLambda, str]) -> None:
    fake, _ = lam
    provider = get_provider(TYPE)
    assert provider.find(ctx, ADDR, props()) is None  # nothing configured yet
    fake.conflicts = 2  # the function is still being updated: retried until it is not
    created = provider.create(ctx, ADDR, props(3))
    assert created.physical_id == "acme-dev-support:live"
    assert fake.configs == {("acme-dev-support", "live"): 3} and fake.calls.count("PUT") == 3
    assert created.outputs["status"] == "IN_PROGRESS" and created.outputs["observed"]["count"] == 3
    assert provider.drift(props(3), created.outputs) == {}

    out = provider.update(ctx, ADDR, created.physical_id, props(3), props(5), created.outputs)
    assert fake.configs[("acme-dev-support", "live")] == 5 and out["observed"]["count"] == 5

    fake.configs[("acme-dev-support", "live")] = 1  # changed behind our back
    live = provider.read(ctx, ADDR, created.physical_id, props(5))
    assert live is not None and provider.drift(props(5), live) == {"count": (1, 5)}

    found = provider.find(
        ctx, ADDR, {**props(5), "function_name": "arn:aws:lambda:us-east-1:1:function:acme-dev-support"}
    )
    assert found is not None and found.physical_id == created.physical_id

    provider.delete(ctx, ADDR, created.physical_id, props(5), out)
    assert fake.configs == {} and provider.read(ctx, ADDR, created.physical_id, props(5)) is None
    provider.delete(ctx, ADDR, created.physical_id, props(5), out)  # already gone: fine


def test_gone_function_and_failed_allocation(ctx: ProviderContext) -> None:
    provider = get_provider(TYPE)
    assert provider.read(ctx, ADDR, "acme-dev-gone:live", props()) is None
    provider.delete(ctx, ADDR, "acme-dev-gone:live", props(), {})  # function gone: nothing to do
    with pytest.raises(
        StrandsDeployError, match="could not provision the instances: FUNCTION_ERROR_INIT_FAILURE"
    ):
        provider.create(ctx, ADDR, props(LIMIT + 1))
    with pytest.raises(StrandsDeployError, match="ProvisionedProps"):
        provider.create(ctx, ADDR, props(0))
