"""Fixtures for the resource handler tests: a provider context on the moto server, raw boto3
clients to act behind the tool's back, and small builders (a role, an agent folder, a function)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest

from strands_deploy.aws.session import AwsContext
from strands_deploy.providers.base import ProviderContext
from tests.integration.providers.helpers import ENVIRONMENT, PROJECT


class Notes:
    """Collects progress notes and sleeps (for assertions) without sleeping."""

    def __init__(self) -> None:
        self.notes: list[tuple[str, str]] = []
        self.slept: list[float] = []

    def progress(self, address: str, note: str) -> None:
        self.notes.append((address, note))

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)


@pytest.fixture
def notes() -> Notes:
    return Notes()


@pytest.fixture
def secrets() -> dict[str, str]:
    """Values the test's secret resolver returns, by env var name."""
    return {}


@pytest.fixture
def ctx(aws: AwsContext, tmp_path: Path, notes: Notes, secrets: dict[str, str]) -> ProviderContext:
    def resolve(source: dict[str, str]) -> str:
        if "env" in source:
            return secrets[source["env"]]
        return (tmp_path / source["file"]).read_text()

    return ProviderContext(
        aws=aws,
        project=PROJECT,
        environment=ENVIRONMENT,
        project_dir=tmp_path,
        cache_dir=tmp_path / ".cache",
        tags={"team": "agents"},
        progress=notes.progress,
        secret_value=resolve,
        target="local",
        sleep=notes.sleep,
    )


@pytest.fixture
def raw(moto: str) -> Callable[[str], Any]:
    """A plain boto3 client for a service, to check or change things behind the tool's back."""

    def make(service: str) -> Any:
        return boto3.client(  # type: ignore[call-overload]
            service,
            endpoint_url=moto,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    return make


@pytest.fixture
def api_calls(ctx: ProviderContext) -> Callable[[str], list[str]]:
    """Record the API operations the tool's own client for a service makes (botocore events)."""
    recorded: dict[str, list[str]] = {}

    def watch(service: str) -> list[str]:
        if service not in recorded:
            calls: list[str] = []
            recorded[service] = calls

            def before_call(model: Any, **_: Any) -> None:
                calls.append(str(model.name))

            ctx.client(service).meta.events.register("before-call.*.*", before_call)
        return recorded[service]

    return watch
