"""ownership(): whose a live resource is, by its strands:project / strands:environment tags."""

from __future__ import annotations

from pathlib import Path

import pytest

from strands_deploy.aws.session import AwsContext, AwsSettings
from strands_deploy.providers._common import ownership
from strands_deploy.providers.base import ProviderContext


@pytest.fixture
def ctx(tmp_path: Path) -> ProviderContext:
    aws = AwsContext(AwsSettings(region="us-east-1", local=True))
    return ProviderContext(
        aws=aws, project="acme", environment="dev", project_dir=tmp_path, cache_dir=tmp_path
    )


@pytest.mark.parametrize(
    ("tags", "expected"),
    [
        ({"strands:project": "acme", "strands:environment": "dev"}, "ours"),
        ({"strands:project": "acme", "strands:environment": "dev", "team": "x"}, "ours"),
        ({"strands:project": "other", "strands:environment": "dev"}, "foreign"),
        ({"strands:project": "acme", "strands:environment": "prod"}, "foreign"),
        ({"strands:project": "other"}, "foreign"),  # one tag naming someone else is enough
        ({"strands:environment": "prod"}, "foreign"),
        ({}, "untagged"),
        (None, "untagged"),  # a type that cannot carry tags
        ({"team": "x"}, "untagged"),
        ({"strands:project": "acme"}, "untagged"),  # matching but incomplete: not proven ours
    ],
)
def test_ownership(ctx: ProviderContext, tags: dict[str, str] | None, expected: str) -> None:
    assert ownership(ctx, tags) == expected
