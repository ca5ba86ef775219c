"""`security:` on an environment → the guardrail resources: Config rules (scoped to the project's
resources, account-level ones unscoped) with their recorder, bucket and role; Security Hub; a
GuardDuty detector with Lambda protection. Nothing without `security:`."""

from __future__ import annotations

from pathlib import Path

import pytest

from strands_deploy.errors import ConfigError
from strands_deploy.synth.graph import Join, Ref
from tests.unit.policy.helpers import ACCOUNT, graph_of, write

SECURITY = {
    "config_rules": [
        "LAMBDA_FUNCTION_PUBLIC_ACCESS_PROHIBITED",
        "IAM_PASSWORD_POLICY",
        "IAM_PASSWORD_POLICY",
    ],
    "security_hub": True,
    "guardduty": True,
}


def test_security_creates_the_guardrail_resources(tmp_path: Path) -> None:
    _, graph = graph_of(write(tmp_path / "p", {"environments": {"prod": {"security": SECURITY}}}), "prod")
    res = graph.resources
    assert res["shared.security-hub"].type == "aws.securityhub.hub"
    assert res["shared.security-hub"].props["tags"]["strands:environment"] == "prod"
    assert res["shared.guardduty"].props["features"] == ["LAMBDA_NETWORK_LOGS"]

    lam = res["shared.config-rule-lambda-function-public-access-prohibited"]
    assert lam.props["identifier"] == "LAMBDA_FUNCTION_PUBLIC_ACCESS_PROHIBITED"
    assert (lam.props["scope_tag_key"], lam.props["scope_tag_value"]) == ("strands:project", "acme")
    assert lam.dependencies() == {"shared.config-recorder"}  # evaluates only once Config records
    account_rule = res["shared.config-rule-iam-password-policy"]
    assert account_rule.props["scope_tag_key"] is None  # judges the account: no tag scope
    assert sum(1 for r in graph if r.type == "aws.config.rule") == 2  # listed twice, made once

    recorder = res["shared.config-recorder"].props
    assert recorder["name"] == "acme-prod-config"
    assert recorder["role_arn"] == Ref("shared.config-role", "arn")
    assert recorder["bucket"] == Ref("shared.config-bucket", "name")
    assert {
        "AWS::Lambda::Function",
        "AWS::IAM::Role",
        "AWS::DynamoDB::Table",
        "AWS::S3::Bucket",
        "AWS::SQS::Queue",
    } <= set(recorder["resource_types"])
    role = res["shared.config-role"].props
    assert role["trust_service"] == "config.amazonaws.com"
    assert role["managed_policies"] == ["arn:aws:iam::aws:policy/service-role/AWS_ConfigRole"]
    policy = res["shared.config-role-policy"].props["document"]["Statement"]
    assert policy[0]["Resource"] == [Join((Ref("shared.config-bucket", "arn"), f"/AWSLogs/{ACCOUNT}/*"))]
    assert res["shared.config-bucket"].props["retain"] is True  # the configuration history is kept


def test_only_what_is_asked_for(tmp_path: Path) -> None:
    root = write(tmp_path / "p", {"environments": {"prod": {"security": {"guardduty": True}}}})
    _, graph = graph_of(root, "prod")
    ours = {
        r.address for r in graph if r.address.startswith(("shared.config", "shared.security", "shared.guard"))
    }
    assert ours == {"shared.guardduty"}
    _, dev = graph_of(root, "dev")  # another environment without `security:`: nothing
    assert not any(r.type.startswith(("aws.config.", "aws.securityhub.", "aws.guardduty.")) for r in dev)


def test_a_malformed_rule_identifier_is_refused_with_where(tmp_path: Path) -> None:
    root = write(
        tmp_path / "p", {"environments": {"prod": {"security": {"config_rules": ["lambda public"]}}}}
    )
    with pytest.raises(ConfigError) as err:
        graph_of(root, "prod")
    [problem] = err.value.problems
    assert problem.where == "environments.prod.security.config_rules" and "lambda public" in problem.what


def test_emulated_environments_get_no_aws_managed_policy(tmp_path: Path) -> None:
    over = {
        "environments": {
            "dev": {"endpoint": "http://127.0.0.1:1", "security": {"config_rules": ["DYNAMODB_PITR_ENABLED"]}}
        }
    }
    _, graph = graph_of(write(tmp_path / "p", over), "dev")
    assert graph.resources["shared.config-role"].props["managed_policies"] == []
