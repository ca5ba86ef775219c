from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from strands_deploy.errors import StrandsDeployError
from strands_deploy.providers.base import Props, ProviderContext
from strands_deploy.providers.registry import get_provider
from tests.integration.providers.helpers import TAGS

ADDR = "shared.execution-role"
# moto does not load AWS-managed policies by default: the tests make customer-managed ones.
XRAY = "arn:aws:iam::123456789012:policy/xray"
BASIC = "arn:aws:iam::123456789012:policy/basic"
DOC = json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "logs:*", "Resource": "*"}]}
)


@pytest.fixture(autouse=True)
def _policies(raw: Callable[[str], Any]) -> None:
    for name in ("xray", "basic"):
        raw("iam").create_policy(PolicyName=name, PolicyDocument=DOC)


def props(**overrides: Any) -> Props:
    p: Props = {
        "name": "demo-test-exec",
        "trust_service": "lambda.amazonaws.com",
        "managed_policies": [BASIC],
        "description": "execution role",
        "tags": dict(TAGS),
    }
    p.update(overrides)
    return p


def test_role_lifecycle(ctx: ProviderContext, raw: Callable[[str], Any]) -> None:
    provider = get_provider("aws.iam.role")
    iam = raw("iam")

    created = provider.create(ctx, ADDR, props())
    assert created.physical_id == "demo-test-exec"
    assert created.outputs["arn"] == "arn:aws:iam::123456789012:role/demo-test-exec"
    role = iam.get_role(RoleName="demo-test-exec")["Role"]
    trust = role["AssumeRolePolicyDocument"]
    trust = trust if isinstance(trust, dict) else json.loads(trust)
    assert trust["Statement"][0]["Principal"] == {"Service": "lambda.amazonaws.com"}
    attached = iam.list_attached_role_policies(RoleName="demo-test-exec")["AttachedPolicies"]
    assert [p["PolicyArn"] for p in attached] == [BASIC]
    tags = {t["Key"]: t["Value"] for t in iam.list_role_tags(RoleName="demo-test-exec")["Tags"]}
    assert tags["strands:project"] == "demo" and tags["team"] == "agents"

    live = provider.read(ctx, ADDR, created.physical_id, props())
    assert live is not None
    assert live["observed"]["managed_policies"] == [BASIC]
    assert live["observed"]["trust_service"] == "lambda.amazonaws.com"
    assert provider.drift(props(), live) == {}

    new = props(managed_policies=[XRAY], description="changed", tags={**TAGS, "team": "core"})
    out = provider.update(ctx, ADDR, created.physical_id, props(), new, created.outputs)
    assert out["observed"]["managed_policies"] == [XRAY]
    live = provider.read(ctx, ADDR, created.physical_id, new)
    assert live is not None
    assert live["observed"]["description"] == "changed"
    assert live["observed"]["tags"]["team"] == "core"
    assert [
        p["PolicyArn"] for p in iam.list_attached_role_policies(RoleName="demo-test-exec")["AttachedPolicies"]
    ] == [XRAY]

    # An inline policy added by hand does not block deletion.
    iam.put_role_policy(
        RoleName="demo-test-exec",
        PolicyName="manual",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*"}],
            }
        ),
    )
    provider.delete(ctx, ADDR, created.physical_id, new, out)
    assert provider.read(ctx, ADDR, created.physical_id, new) is None
    provider.delete(ctx, ADDR, created.physical_id, new, out)  # already gone: silent


def test_role_deleted_behind_our_back(ctx: ProviderContext, raw: Callable[[str], Any]) -> None:
    provider = get_provider("aws.iam.role")
    created = provider.create(ctx, ADDR, props(managed_policies=[]))
    raw("iam").delete_role(RoleName=created.physical_id)
    assert provider.read(ctx, ADDR, created.physical_id, props()) is None


def test_role_drift_shows_a_detached_policy(ctx: ProviderContext, raw: Callable[[str], Any]) -> None:
    provider = get_provider("aws.iam.role")
    created = provider.create(ctx, ADDR, props())
    raw("iam").detach_role_policy(RoleName=created.physical_id, PolicyArn=BASIC)
    live = provider.read(ctx, ADDR, created.physical_id, props())
    assert live is not None
    assert provider.drift(props(), live) == {"managed_policies": ([], [BASIC])}


def test_role_find_adopts_only_our_role(ctx: ProviderContext, raw: Callable[[str], Any]) -> None:
    provider = get_provider("aws.iam.role")
    assert provider.find(ctx, ADDR, props()) is None
    # An interrupted run created the role (tagged) but did not attach the managed policy.
    raw("iam").create_role(
        RoleName="demo-test-exec",
        AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
        Tags=[{"Key": k, "Value": v} for k, v in TAGS.items()],
    )
    found = provider.find(ctx, ADDR, props())
    assert found is not None
    assert found.physical_id == "demo-test-exec"
    assert found.outputs["arn"].endswith(":role/demo-test-exec")
    assert found.outputs["observed"]["managed_policies"] == [BASIC]

    # Same name, another project's tags: not adopted, and creating it explains the clash.
    other = props(name="someone-elses", tags={**TAGS, "strands:project": "other"})
    raw("iam").create_role(
        RoleName="someone-elses",
        AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
        Tags=[{"Key": k, "Value": v} for k, v in {**TAGS, "strands:project": "other"}.items()],
    )
    assert provider.find(ctx, ADDR, props(name="someone-elses")) is None
    with pytest.raises(StrandsDeployError) as info:
        provider.create(ctx, ADDR, props(name="someone-elses"))
    err = info.value
    assert err.where == ADDR
    assert "iam:CreateRole" in err.what and ADDR in err.what
    assert err.fix is not None and "already exists" in err.fix
    assert other["name"] == "someone-elses"


def test_an_inline_policy_added_by_hand_is_drift_and_removed(
    ctx: ProviderContext, raw: Callable[[str], Any]
) -> None:
    """Issue 11, item 10: drift that widens access is shown and put back."""
    provider = get_provider("aws.iam.role")
    want = props(inline_policies=["demo-test-agent-policy"])
    created = provider.create(ctx, ADDR, want)
    iam = raw("iam")
    iam.put_role_policy(RoleName="demo-test-exec", PolicyName="demo-test-agent-policy", PolicyDocument=DOC)
    live = provider.read(ctx, ADDR, created.physical_id, want)
    assert live is not None and provider.drift(want, live) == {}  # the declared policy is not drift
    iam.put_role_policy(RoleName="demo-test-exec", PolicyName="backdoor", PolicyDocument=DOC)
    live = provider.read(ctx, ADDR, created.physical_id, want)
    assert live is not None
    assert provider.drift(want, live)["inline_policies"][0] == ["backdoor", "demo-test-agent-policy"]
    provider.update(ctx, ADDR, created.physical_id, want, want, created.outputs)
    names = iam.list_role_policies(RoleName="demo-test-exec")["PolicyNames"]
    assert names == ["demo-test-agent-policy"]
    # an extra managed policy is drift too, and detached by deploy
    iam.attach_role_policy(RoleName="demo-test-exec", PolicyArn=XRAY)
    live = provider.read(ctx, ADDR, created.physical_id, want)
    assert live is not None and "managed_policies" in provider.drift(want, live)
    provider.update(ctx, ADDR, created.physical_id, want, want, created.outputs)
    attached = [
        p["PolicyArn"] for p in iam.list_attached_role_policies(RoleName="demo-test-exec")["AttachedPolicies"]
    ]
    assert attached == [BASIC]
