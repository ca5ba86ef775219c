from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from strands_deploy.providers.base import Props, ProviderContext
from strands_deploy.providers.registry import get_provider
from tests.integration.providers.helpers import make_role

ADDR = "agent.support.policy"


def doc(*actions: str) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [{"Sid": "S", "Effect": "Allow", "Action": list(actions), "Resource": ["*"]}],
    }


def props(document: dict[str, Any]) -> Props:
    return {"role_name": "demo-test-role", "policy_name": "demo-test-support-policy", "document": document}


def test_role_policy_lifecycle(ctx: ProviderContext, raw: Callable[[str], Any]) -> None:
    make_role(raw)
    provider = get_provider("aws.iam.role_policy")
    iam = raw("iam")

    created = provider.create(ctx, ADDR, props(doc("s3:GetObject")))
    assert created.physical_id == "demo-test-role:demo-test-support-policy"
    assert created.outputs["name"] == "demo-test-support-policy"
    assert created.outputs["role_name"] == "demo-test-role"
    stored = iam.get_role_policy(RoleName="demo-test-role", PolicyName="demo-test-support-policy")
    stored_doc = stored["PolicyDocument"]
    stored_doc = stored_doc if isinstance(stored_doc, dict) else json.loads(stored_doc)
    assert stored_doc["Statement"][0]["Action"] == ["s3:GetObject"]

    live = provider.read(ctx, ADDR, created.physical_id, props(doc("s3:GetObject")))
    assert live is not None
    assert provider.drift(props(doc("s3:GetObject")), live) == {}

    new = props(doc("s3:GetObject", "s3:PutObject"))
    provider.update(ctx, ADDR, created.physical_id, props(doc("s3:GetObject")), new, created.outputs)
    live = provider.read(ctx, ADDR, created.physical_id, new)
    assert live is not None
    assert live["observed"]["document"]["Statement"][0]["Action"] == ["s3:GetObject", "s3:PutObject"]

    provider.delete(ctx, ADDR, created.physical_id, new, created.outputs)
    assert provider.read(ctx, ADDR, created.physical_id, new) is None
    assert iam.list_role_policies(RoleName="demo-test-role")["PolicyNames"] == []
    provider.delete(ctx, ADDR, created.physical_id, new, created.outputs)


def test_role_policy_gone_behind_our_back(ctx: ProviderContext, raw: Callable[[str], Any]) -> None:
    make_role(raw)
    provider = get_provider("aws.iam.role_policy")
    created = provider.create(ctx, ADDR, props(doc("s3:GetObject")))
    raw("iam").delete_role_policy(RoleName="demo-test-role", PolicyName="demo-test-support-policy")
    assert provider.read(ctx, ADDR, created.physical_id, props(doc())) is None
    # and when the whole role is gone
    raw("iam").delete_role(RoleName="demo-test-role")
    assert provider.read(ctx, ADDR, created.physical_id, props(doc())) is None
    provider.delete(ctx, ADDR, created.physical_id, props(doc()), created.outputs)


def test_role_policy_drift_and_find(ctx: ProviderContext, raw: Callable[[str], Any]) -> None:
    make_role(raw)
    provider = get_provider("aws.iam.role_policy")
    assert provider.find(ctx, ADDR, props(doc("s3:GetObject"))) is None
    raw("iam").put_role_policy(
        RoleName="demo-test-role",
        PolicyName="demo-test-support-policy",
        PolicyDocument=json.dumps(doc("s3:*")),
    )
    found = provider.find(ctx, ADDR, props(doc("s3:GetObject")))
    assert found is not None and found.physical_id == "demo-test-role:demo-test-support-policy"
    live = provider.read(ctx, ADDR, found.physical_id, props(doc("s3:GetObject")))
    assert live is not None
    assert set(provider.drift(props(doc("s3:GetObject")), live)) == {"document"}
