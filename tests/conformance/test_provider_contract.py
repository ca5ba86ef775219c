"""The provider conformance suite: every case runs the same contract (base.Provider's invariants)
against the real moto server. A type joins by adding a :class:`Case` to ``CASES``: its props, an
optional ``prepare`` (what must exist first, made with raw boto3) and a changed set of props that
``update`` applies in place.

The contract: ``create`` returns outputs ``read`` agrees with (no drift); ``update`` to the same
props changes nothing and to ``changed`` applies it (no drift after); ``find`` without a state
record locates what ``create`` made; ``delete`` removes it, ``read`` then says ``None``, and a
second ``delete`` succeeds silently.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest

from strands_deploy.aws.session import AwsContext
from strands_deploy.providers.base import Props, ProviderContext
from strands_deploy.providers.registry import get_provider

PROJECT, ENV = "demo", "test"
TAGS = {"strands:project": PROJECT, "strands:environment": ENV, "strands:managed-by": "strands-deploy"}
Raw = Callable[[str], Any]


def _config_role(raw: Raw) -> Props:
    trust = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"config.amazonaws.com"},"Action":"sts:AssumeRole"}]}'
    arn = raw("iam").create_role(RoleName="demo-test-config", AssumeRolePolicyDocument=trust)["Role"]["Arn"]
    raw("s3").create_bucket(Bucket="demo-test-config-bucket")
    return {"role_arn": arn}


@dataclass
class Case:
    type: str
    props: Props
    changed: Props
    prepare: Callable[[Raw], Props] = field(default=lambda raw: {})  # extra props from what it made


CASES = [
    Case(
        "aws.config.rule",
        {
            "name": "demo-test-lambda-public",
            "identifier": "LAMBDA_FUNCTION_PUBLIC_ACCESS_PROHIBITED",
            "scope_tag_key": "strands:project",
            "scope_tag_value": PROJECT,
            "tags": dict(TAGS),
        },
        {
            "name": "demo-test-lambda-public",
            "identifier": "LAMBDA_FUNCTION_PUBLIC_ACCESS_PROHIBITED",
            "scope_tag_key": "strands:project",
            "scope_tag_value": PROJECT,
            "description": "checked",
            "tags": {**TAGS, "team": "agents"},
        },
    ),
    Case(
        "aws.config.recorder",
        {
            "name": "demo-test-config",
            "role_arn": "",
            "bucket": "demo-test-config-bucket",
            "resource_types": ["AWS::Lambda::Function"],
        },
        {
            "name": "demo-test-config",
            "role_arn": "",
            "bucket": "demo-test-config-bucket",
            "resource_types": ["AWS::IAM::Role", "AWS::Lambda::Function"],
        },
        _config_role,
    ),
    Case(
        "aws.securityhub.hub",
        {"default_standards": True, "tags": dict(TAGS)},
        {"default_standards": False, "tags": dict(TAGS)},
    ),
    Case(
        "aws.guardduty.detector",
        {"features": ["LAMBDA_NETWORK_LOGS"], "tags": dict(TAGS)},
        {
            "features": ["LAMBDA_NETWORK_LOGS", "RUNTIME_MONITORING"],
            "finding_publishing_frequency": "ONE_HOUR",
            "tags": dict(TAGS),
        },
    ),
]


@pytest.fixture
def ctx(aws: AwsContext, tmp_path: Path) -> ProviderContext:
    return ProviderContext(
        aws=aws,
        project=PROJECT,
        environment=ENV,
        project_dir=tmp_path,
        cache_dir=tmp_path / ".cache",
        sleep=lambda seconds: None,
    )


@pytest.fixture
def raw(moto: str) -> Raw:
    def make(service: str) -> Any:
        return boto3.client(  # type: ignore[call-overload]
            service,
            endpoint_url=moto,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    return make


@pytest.mark.parametrize("case", CASES, ids=[c.type for c in CASES])
def test_provider_contract(case: Case, ctx: ProviderContext, raw: Raw) -> None:
    extra = case.prepare(raw)
    props, changed = {**case.props, **extra}, {**case.changed, **extra}
    provider = get_provider(case.type)
    provider.props_model.parse(props)  # the case's props are valid for the type
    address = f"shared.{case.type.rsplit('.', 1)[-1]}"

    created = provider.create(ctx, address, props)
    live = provider.read(ctx, address, created.physical_id, props)
    assert live is not None and provider.drift(props, live) == {}
    assert {k: v for k, v in live.items() if k != "observed"}.items() <= created.outputs.items()

    # same props: nothing changes; changed props: applied in place, no drift left
    again = provider.update(ctx, address, created.physical_id, props, props, created.outputs)
    assert provider.drift(props, again) == {}
    after = provider.update(ctx, address, created.physical_id, props, changed, again)
    live = provider.read(ctx, address, created.physical_id, changed)
    assert live is not None
    assert provider.drift(changed, live) == {}

    found = provider.find(ctx, address, changed)  # no state record: located all the same
    assert found is not None and found.physical_id == created.physical_id

    provider.delete(ctx, address, created.physical_id, changed, after)
    assert provider.read(ctx, address, created.physical_id, changed) is None
    provider.delete(ctx, address, created.physical_id, changed, after)  # already gone: silent
