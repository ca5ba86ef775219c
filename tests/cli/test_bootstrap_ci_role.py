"""`bootstrap ci-role`: the IAM OIDC provider and a deploy role, against a real moto server."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import boto3
import botocore.session
import pytest
from botocore import xform_name
from click.testing import CliRunner

from strands_deploy.aws.ci_role import ACCOUNT_ACTIONS, DEPLOY_ACTIONS, UNSCOPED_ACTIONS
from strands_deploy.cli.main import cli
from strands_deploy.errors import StrandsDeployError

SRC = Path(__file__).resolve().parents[2] / "src" / "strands_deploy"


def iam(endpoint: str) -> Any:
    return boto3.client("iam", endpoint_url=endpoint, region_name="us-east-1")


def project(tmp_path: Path, endpoint: str, state: str) -> Path:
    (tmp_path / "agents" / "bot").mkdir(parents=True)
    (tmp_path / "agents" / "bot" / "agent.py").write_text("agent = None\n")
    (tmp_path / "agents" / "bot" / "requirements.txt").write_text("strands-agents\n")
    (tmp_path / "strands.yaml").write_text(
        "project: acme\nregion: us-east-1\nagents:\n  bot: {path: agents/bot}\n"
        f'environments:\n  prod:\n    endpoint: "{endpoint}"\n    state: {state}\n'
    )
    return tmp_path


def run(folder: Path, *args: str) -> Any:
    return CliRunner().invoke(cli, ["-C", str(folder), "bootstrap", "ci-role", *args])


def bootstrap(folder: Path, *args: str) -> dict[str, Any]:
    result = run(folder, "--env", "prod", *args, "--json")
    assert result.exit_code == 0, (result.output, result.exception)
    doc: dict[str, Any] = json.loads(result.stdout)
    return doc


def wildcard_actions(policy: dict[str, Any]) -> list[str]:
    return [a for s in policy["Statement"] if s["Resource"] == "*" for a in s["Action"]]


def role_documents(endpoint: str, name: str) -> tuple[dict[str, Any], dict[str, Any]]:
    role = iam(endpoint).get_role(RoleName=name)["Role"]
    policy = iam(endpoint).get_role_policy(RoleName=name, PolicyName="strands-deploy-ci")["PolicyDocument"]
    return role["AssumeRolePolicyDocument"], policy


def test_github_role_is_limited_to_the_repo_and_idempotent(tmp_path: Path, moto: str) -> None:
    state = "{backend: s3, bucket: acme-state, lock: dynamodb, lock_table: acme-locks}"
    folder = project(tmp_path, moto, state)
    first = bootstrap(folder, "--repo", "acme/agents")
    assert first["role_arn"] == "arn:aws:iam::123456789012:role/strands-deploy-acme-prod-ci"
    assert first["changes"] == [
        "created the IAM OIDC provider for token.actions.githubusercontent.com",
        "created the role strands-deploy-acme-prod-ci",
        "wrote the permissions of strands-deploy-acme-prod-ci (strands-deploy-ci)",
    ]
    providers = iam(moto).list_open_id_connect_providers()["OpenIDConnectProviderList"]
    assert [p["Arn"] for p in providers] == [
        "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"
    ]
    trust, policy = role_documents(moto, "strands-deploy-acme-prod-ci")
    (statement,) = trust["Statement"]
    assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert statement["Principal"] == {"Federated": providers[0]["Arn"]}
    assert statement["Condition"]["StringEquals"] == {
        "token.actions.githubusercontent.com:aud": "sts.amazonaws.com"
    }
    assert statement["Condition"]["StringLike"]["token.actions.githubusercontent.com:sub"] == [
        "repo:acme/agents:environment:prod",
        "repo:acme/agents:pull_request",
    ]
    by_sid = {s["Sid"]: s for s in policy["Statement"]}
    # every resource-level grant is scoped to the project's environment or its state
    assert (
        by_sid["DeployLambda"]["Resource"][0] == "arn:aws:lambda:us-east-1:123456789012:function:acme-prod-*"
    )
    assert "lambda:CreateFunction" in by_sid["DeployLambda"]["Action"]
    assert by_sid["PassOnlyTheAgentsRolesToLambda"]["Condition"] == {
        "StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}
    }
    assert by_sid["StateObjects"]["Resource"] == "arn:aws:s3:::acme-state/acme/prod.json*"
    assert by_sid["StateLockTable"]["Resource"] == "arn:aws:dynamodb:us-east-1:123456789012:table/acme-locks"
    wildcard = [s["Sid"] for s in policy["Statement"] if s["Resource"] == "*"]
    assert wildcard == ["ReadsWithoutResource"]
    assert all(
        ":Get" in a or ":List" in a or ":Describe" in a or a.endswith(":GET") for a in UNSCOPED_ACTIONS
    )

    assert bootstrap(folder, "--repo", "acme/agents")["changes"] == []  # a second run changes nothing

    moved = bootstrap(folder, "--repo", "acme/renamed")
    assert moved["changes"] == ["updated who may assume strands-deploy-acme-prod-ci (its trust policy)"]
    trust, _ = role_documents(moto, "strands-deploy-acme-prod-ci")
    assert (
        "repo:acme/renamed:pull_request"
        in trust["Statement"][0]["Condition"]["StringLike"]["token.actions.githubusercontent.com:sub"]
    )


def test_gitlab_reuses_an_existing_provider(tmp_path: Path, moto: str) -> None:
    folder = project(tmp_path, moto, "{backend: s3, bucket: acme-state, kms_key: alias/acme-state}")
    arn = iam(moto).create_open_id_connect_provider(
        Url="https://gitlab.example.com", ClientIDList=["sts.amazonaws.com"], ThumbprintList=["0" * 40]
    )["OpenIDConnectProviderArn"]
    doc = bootstrap(
        folder,
        "--repo",
        "platform/ai/agents",
        "--provider",
        "gitlab",
        "--issuer",
        "https://gitlab.example.com/",
    )
    assert not any("OIDC provider" in change for change in doc["changes"])
    assert len(iam(moto).list_open_id_connect_providers()["OpenIDConnectProviderList"]) == 1
    trust, policy = role_documents(moto, "strands-deploy-acme-prod-ci")
    condition = trust["Statement"][0]["Condition"]
    assert condition["StringLike"] == {
        "gitlab.example.com:sub": ["project_path:platform/ai/agents:ref_type:branch:ref:*"]
    }
    assert trust["Statement"][0]["Principal"]["Federated"] == arn
    key = {s["Sid"]: s for s in policy["Statement"]}["StateKey"]
    assert "kms:GenerateDataKey" in key["Action"]


class ProviderWithoutOurAudience:
    """An IAM client holding one provider with another audience (moto lacks AddClientIDTo...)."""

    def __init__(self) -> None:
        self.arn = "arn:aws:iam::123456789012:oidc-provider/gitlab.com"
        self.audiences = ["something-else"]

    def list_open_id_connect_providers(self) -> dict[str, Any]:
        return {
            "OpenIDConnectProviderList": [
                {"Arn": "arn:aws:iam::123456789012:oidc-provider/other"},
                {"Arn": self.arn},
            ]
        }

    def get_open_id_connect_provider(self, OpenIDConnectProviderArn: str) -> dict[str, Any]:
        assert OpenIDConnectProviderArn == self.arn
        return {"ClientIDList": list(self.audiences)}

    def add_client_id_to_open_id_connect_provider(self, OpenIDConnectProviderArn: str, ClientID: str) -> None:
        assert OpenIDConnectProviderArn == self.arn
        self.audiences.append(ClientID)


def test_an_existing_provider_gets_our_audience_once() -> None:
    from strands_deploy.aws.ci_role import ensure_oidc_provider

    client = ProviderWithoutOurAudience()
    arn, changes = ensure_oidc_provider(client, "https://gitlab.com")
    assert arn == client.arn
    assert changes == ["added the audience sts.amazonaws.com to the OIDC provider for gitlab.com"]
    assert ensure_oidc_provider(client, "https://gitlab.com") == (client.arn, [])
    assert client.audiences == ["something-else", "sts.amazonaws.com"]


def test_refusals(tmp_path: Path, moto: str) -> None:
    folder = project(tmp_path, moto, "{backend: local}")
    bad = run(folder, "--env", "prod", "--repo", "not a repo").exception
    assert isinstance(bad, StrandsDeployError) and "is not a repository path" in bad.what and bad.fix
    local = run(folder, "--repo", "acme/agents").exception
    assert isinstance(local, StrandsDeployError) and local.what == "the local cloud needs no CI role"
    assert not iam(moto).list_roles()["Roles"]
    noted = run(folder, "--env", "prod", "--repo", "acme/agents")
    assert noted.exit_code == 0, noted.output
    assert "keeps its state on local disk" in noted.output and "STRANDS_DEPLOY_ROLE_ARN" in noted.output


# operations the source names that belong to another service of the same spelling
NOT_DEPLOY_CALLS = {
    "kms": {"CreateAlias", "DeleteAlias", "UpdateAlias", "ListAliases", "TagResource", "UntagResource", "Verify",
            "Encrypt", "Decrypt", "GenerateDataKey", "ListKeys"},  # the state key: a statement of its own
    "logs": {"DeleteIntegration", "GetIntegration"},
    "events": {"RemovePermission"},
    "sns": {"AddPermission", "RemovePermission"},
    "sqs": {"AddPermission", "RemovePermission"},
    "iam": {"GetPolicy"},
    "dynamodb": {"DeleteItem", "GetItem", "PutItem", "Scan"},  # the lock table's: StateLockTable
    "s3": {"DeleteObject", "DeleteObjects", "GetObject", "HeadObject", "PutObject", "ListObjectsV2",
           "ListObjectVersions", "HeadBucket", "DeleteBucketLifecycle", "DeleteBucketTagging",
           "GetBucketEncryption", "GetBucketLifecycleConfiguration", "GetBucketNotificationConfiguration",
           "GetPublicAccessBlock", "PutBucketEncryption", "PutBucketLifecycleConfiguration",
           "PutBucketNotificationConfiguration", "PutPublicAccessBlock"},  # IAM names differ: below
    "ssm": {"DescribeParameters"},
    "sns_unscoped": set(),
}  # fmt: skip
# S3 operations whose IAM action has another name
S3_IAM_NAMES = {
    "GetBucketEncryption": "GetEncryptionConfiguration",
    "PutBucketEncryption": "PutEncryptionConfiguration",
    "GetBucketLifecycleConfiguration": "GetLifecycleConfiguration",
    "PutBucketLifecycleConfiguration": "PutLifecycleConfiguration",
    "GetPublicAccessBlock": "GetBucketPublicAccessBlock",
    "PutPublicAccessBlock": "PutBucketPublicAccessBlock",
    "GetBucketNotificationConfiguration": "GetBucketNotification",
    "PutBucketNotificationConfiguration": "PutBucketNotification",
    "ListBuckets": "ListAllMyBuckets",
}


def called_operations(service: str) -> set[str]:
    """The operations of ``service`` whose boto3 method name the deployer's source mentions."""
    text = ""
    for folder in ("providers", "aws", "stateops", "state", "planning", "engine", "synth"):
        for path in (SRC / folder).rglob("*.py"):
            if path.name != "ci_role.py":
                text += path.read_text()
    names = set(re.findall(r"\.([a-z_0-9]+)\(", text)) | set(re.findall(r"\"([a-z][a-z_0-9]+)\"", text))
    model = botocore.session.get_session().get_service_model(service)
    return {op for op in model.operation_names if xform_name(op) in names}


@pytest.mark.parametrize("service", sorted({*DEPLOY_ACTIONS, *ACCOUNT_ACTIONS}))
def test_the_policy_covers_every_call_the_deployer_makes(service: str) -> None:
    granted = set(DEPLOY_ACTIONS.get(service, [])) | set(ACCOUNT_ACTIONS.get(service, []))
    granted |= {a.split(":")[1] for a in UNSCOPED_ACTIONS if a.startswith(service + ":")}
    for op in called_operations(service):
        if op in granted:
            continue
        if service == "s3" and S3_IAM_NAMES.get(op) in granted:
            continue
        assert op in NOT_DEPLOY_CALLS.get(service, set()), (
            f"{service}:{op} is called by the deployer but not granted by aws/ci_role.py DEPLOY_ACTIONS"
        )


def test_account_level_services_only_when_the_environment_turns_them_on() -> None:
    from strands_deploy.aws.ci_role import CiRoleSpec, deploy_policy

    spec = CiRoleSpec("github", "acme/app", "acme", "prod", account_services=("budgets", "guardduty"))
    by_sid = {s["Sid"]: s for s in deploy_policy(spec, "123456789012", "us-east-1")["Statement"]}
    actions = by_sid["AccountLevelServices"]["Action"]
    assert "budgets:CreateBudget" in actions and "guardduty:CreateDetector" in actions
    assert not any(a.startswith(("config:", "securityhub:", "ce:")) for a in actions)
    plain = deploy_policy(CiRoleSpec("github", "acme/app", "acme", "prod"), "123456789012", "us-east-1")
    assert "AccountLevelServices" not in {s["Sid"] for s in plain["Statement"]}
