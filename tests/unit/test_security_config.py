"""Issue 11 on the configuration and synthesis side: own roles by default, the wildcard check,
model access, endpoint auth, data retention and link access levels."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from strands_deploy.config.loader import load_project
from strands_deploy.errors import ConfigError, StrandsDeployError
from strands_deploy.synth import synthesize
from strands_deploy.synth.graph import Graph, Ref
from strands_deploy.synth.models import DEFAULT_MODEL_ID, model_arns
from tests.helpers import write_project

ACCOUNT = "111122223333"


def project_text(
    agents: str, resources: str = "", environments: str = "  prod: {region: eu-west-1}\n"
) -> str:
    text = f"project: acme\nregion: us-east-1\nagents:\n{agents}"
    if resources:
        text += f"resources:\n{resources}"
    return text + f"environments:\n{environments}"


def write(tmp_path: Path, text: str, names: tuple[str, ...] = ("a",)) -> Path:
    return write_project(tmp_path / "p", text, agents={n: "agent = 1\n" for n in names})


def graph(root: Path, env: str = "prod") -> Graph:
    return synthesize(
        load_project(root),
        env,
        target="aws",
        account=ACCOUNT,
        secret_value=lambda s: "v",
        fingerprint_key=b"k" * 32,
    )


def problems(root: Path) -> list[StrandsDeployError]:
    with pytest.raises(ConfigError) as info:
        load_project(root)
    return info.value.problems


def statements(g: Graph, agent: str) -> list[dict[str, Any]]:
    doc: dict[str, Any] = g.resources[f"agent.{agent}.policy"].props["document"]
    return list(doc["Statement"])


def sid(g: Graph, agent: str, name: str) -> dict[str, Any]:
    return next(s for s in statements(g, agent) if s.get("Sid") == name)


# --- item 4: one role per agent by default --------------------------------------------------------


def test_each_agent_gets_its_own_role_and_policy_by_default(tmp_path: Path) -> None:
    text = project_text(
        "  a: {path: agents/a, link: [t]}\n  b: {path: agents/b}\n", "  t: {type: table, key: id}\n"
    )
    root = write(tmp_path, text, ("a", "b"))
    g = graph(root)
    assert "shared.execution-role" not in g.resources
    for agent in ("a", "b"):
        role = g.resources[f"agent.{agent}.role"]
        assert role.type == "aws.iam.role" and role.props["name"] == f"acme-prod-{agent}"
        policy = g.resources[f"agent.{agent}.policy"]
        assert policy.props["role_name"] == Ref(f"agent.{agent}.role", "name")
        assert g.resources[f"agent.{agent}.function"].props["role_arn"] == Ref(f"agent.{agent}.role", "arn")
        assert not role.dependencies()  # roles wait for nothing: the engine creates them together
    assert not any(s.get("Sid") == "LinkT" for s in statements(g, "b"))  # b cannot reach a's table
    assert load_project(root).warnings == []


def test_a_shared_role_is_kept_when_asked_with_a_warning_in_validate(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from strands_deploy.cli.main import cli

    text = project_text("  a:\n    path: agents/a\n    role: shared\n")
    root = write(tmp_path, text)
    project = load_project(root)
    [w] = project.warnings
    assert "shared execution role" in w.what and w.where == f"{root / 'strands.yaml'}:6:11"
    g = graph(root)
    assert "shared.execution-role" in g.resources and "agent.a.role" not in g.resources
    assert [x.to_dict() for x in g.warnings] == [
        w.to_dict()
    ]  # plan and deploy can show the project's warnings too
    result = CliRunner().invoke(cli, ["-C", str(root), "validate"])
    assert result.exit_code == 0, result.output
    assert "warning:" in result.output and "shared execution role" in result.output
    as_json = CliRunner().invoke(cli, ["-C", str(root), "validate", "--json"])
    assert as_json.exit_code == 0 and '"warnings"' in as_json.output


# --- item 5: the wildcard check -------------------------------------------------------------------


def permission_project(statement: str, extra: str = "") -> str:
    return project_text(f"  a:\n    path: agents/a\n{extra}    permissions:\n      - {statement}\n")


@pytest.mark.parametrize(
    ("statement", "named"),
    [
        ("{Action: ['s3:Put*'], Resource: '*'}", "s3:Put*"),
        ("{Action: ['iam:Pass*'], Resource: '*'}", "iam:Pass*"),
        ("{Action: ['iam:*Role*'], Resource: '*'}", "iam:*Role*"),
        ("{Action: ['S3:putobject'], Resource: '*'}", "S3:putobject"),
        ("{Action: ['s3:PutObjec?'], Resource: '*'}", "s3:PutObjec?"),
        ("{Action: ['dynamodb:*'], Resource: 'arn:aws:dynamodb:*:*:table/*'}", "dynamodb:*"),
        ("{Action: '*', Resource: 'arn:aws:s3:::my-bucket/*'}", "all actions"),
        ("{Action: ['iam:PassRole'], Resource: '*'}", "iam:PassRole"),
        ("{Action: ['sts:AssumeRole'], Resource: 'arn:aws:iam::111122223333:role/*'}", "sts:AssumeRole"),
        ("{Action: ['kms:Decrypt'], Resource: '*'}", "kms:Decrypt"),
        ("{Action: ['iam:GetRole'], Resource: '*'}", "iam:GetRole"),
        ("{NotAction: ['s3:DeleteBucket'], Resource: 'arn:aws:s3:::b'}", "NotAction"),
        ("{Action: ['s3:GetObject'], NotResource: 'arn:aws:s3:::b/*'}", "NotResource"),
    ],
)
def test_wildcards_are_refused_whatever_their_spelling(tmp_path: Path, statement: str, named: str) -> None:
    root = write(tmp_path, permission_project(statement))
    [p] = problems(root)
    assert named in p.what
    assert p.where == f"{root / 'strands.yaml'}:7:9"  # the statement itself
    assert "allow_wildcards" in (p.fix or "")


@pytest.mark.parametrize(
    "statement",
    [
        "{Action: ['s3:GetObject'], Resource: ['arn:aws:s3:::b/*']}",
        "{Action: ['s3:Get*'], Resource: ['arn:aws:s3:::b/*']}",  # a wildcard action on one bucket
        "{Action: ['xray:PutTraceSegments'], Resource: 'arn:aws:xray:us-east-1:111122223333:group/x'}",
        "{Effect: Deny, Action: '*', Resource: '*'}",  # a Deny only takes away
        "{Action: ['getobject'], Resource: ['arn:aws:s3:::b/*']}",  # IAM itself judges the name
    ],
)
def test_precise_statements_pass(tmp_path: Path, statement: str) -> None:
    load_project(write(tmp_path, permission_project(statement)))


@pytest.mark.parametrize("action", ["iam:PassRole", "iam:*", "sts:AssumeRole", "kms:*", "iAm:pAsS*", "*"])
def test_sensitive_actions_on_a_wildcard_need_allow_wildcards_and_a_reason(
    tmp_path: Path, action: str
) -> None:
    statement = f"{{Action: ['{action}'], Resource: '*'}}"
    root = write(tmp_path, permission_project(statement, "    allow_wildcards: true\n"))
    [p] = problems(root)
    assert action in p.what and "wildcards_reason" in (p.fix or "")
    assert p.where == f"{root / 'strands.yaml'}:8:9"
    reasoned = permission_project(
        statement, "    allow_wildcards: true\n    wildcards_reason: deploys stacks\n"
    )
    load_project(write(tmp_path, reasoned))


def test_allow_wildcards_still_lets_a_broad_non_sensitive_statement_through(tmp_path: Path) -> None:
    text = permission_project("{Action: ['s3:Put*'], Resource: '*'}", "    allow_wildcards: true\n")
    load_project(write(tmp_path, text))


# --- item 6: model access -------------------------------------------------------------------------


def test_the_default_model_matches_the_strands_sdk() -> None:
    from strands.models.bedrock import DEFAULT_BEDROCK_MODEL_ID

    assert DEFAULT_MODEL_ID == DEFAULT_BEDROCK_MODEL_ID


def test_model_arns_per_kind_of_id() -> None:
    assert model_arns("anthropic.claude-3-haiku-20240307-v1:0", "eu-west-1", ACCOUNT) == [
        "arn:aws:bedrock:eu-west-1::foundation-model/anthropic.claude-3-haiku-20240307-v1:0"
    ]
    us = model_arns("us.anthropic.claude-sonnet-4-20250514-v1:0", "us-east-1", ACCOUNT)
    assert (
        us[0]
        == f"arn:aws:bedrock:us-east-1:{ACCOUNT}:inference-profile/us.anthropic.claude-sonnet-4-20250514-v1:0"
    )
    regions = {a.split(":")[3] for a in us[1:]}
    assert {"us-east-1", "us-east-2", "us-west-2"} <= regions and all(r.startswith("us-") for r in regions)
    assert all(a.endswith("::foundation-model/anthropic.claude-sonnet-4-20250514-v1:0") for a in us[1:])
    eu = model_arns("eu.anthropic.claude-sonnet-4-20250514-v1:0", "eu-west-1", ACCOUNT)
    assert {"eu-central-1", "eu-west-1", "eu-west-3", "eu-north-1"} <= {a.split(":")[3] for a in eu[1:]}
    apac = model_arns("apac.amazon.nova-pro-v1:0", "ap-southeast-2", ACCOUNT)
    assert {"ap-northeast-1", "ap-southeast-1", "ap-southeast-2", "ap-south-1", "ap-northeast-2"} <= {
        a.split(":")[3] for a in apac[1:]
    }
    assert model_arns("global.anthropic.claude-sonnet-4-6", "us-east-1", ACCOUNT) == [
        f"arn:aws:bedrock:us-east-1:{ACCOUNT}:inference-profile/global.anthropic.claude-sonnet-4-6",
        "arn:aws:bedrock:*::foundation-model/anthropic.claude-sonnet-4-6",  # the one wildcard region
    ]


def test_each_agent_may_invoke_only_its_models(tmp_path: Path) -> None:
    text = project_text(
        "  a: {path: agents/a}\n"
        "  b: {path: agents/b, model: anthropic.claude-3-haiku-20240307-v1:0}\n"
        "  c: {path: agents/c, model: [eu.anthropic.claude-sonnet-4-20250514-v1:0, amazon.nova-pro-v1:0]}\n"
    )
    g = graph(write(tmp_path, text, ("a", "b", "c")))
    models = {agent: sid(g, agent, "Models") for agent in "abc"}
    assert all(
        m["Action"] == ["bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"]
        for m in models.values()
    )
    assert models["a"]["Resource"] == model_arns(DEFAULT_MODEL_ID, "eu-west-1", ACCOUNT)
    assert models["b"]["Resource"] == [
        "arn:aws:bedrock:eu-west-1::foundation-model/anthropic.claude-3-haiku-20240307-v1:0"
    ]
    assert (
        f"arn:aws:bedrock:eu-west-1:{ACCOUNT}:inference-profile/eu.anthropic.claude-sonnet-4-20250514-v1:0"
        in (models["c"]["Resource"])
    )
    assert "arn:aws:bedrock:eu-west-1::foundation-model/amazon.nova-pro-v1:0" in models["c"]["Resource"]
    for m in models.values():  # never every model, never a wildcard account or profile
        for arn in m["Resource"]:
            _, _, _, region, account, resource = arn.split(":", 5)
            assert "*" not in resource and "*" not in account
            assert region != "*" or resource == "foundation-model/anthropic.claude-sonnet-4-6"  # global
    env = {agent: g.resources[f"agent.{agent}.function"].props["environment"] for agent in "abc"}
    assert env["a"]["STRANDS_MODEL_ID"] == DEFAULT_MODEL_ID
    assert env["b"]["STRANDS_MODEL_ID"] == "anthropic.claude-3-haiku-20240307-v1:0"
    assert env["c"]["STRANDS_MODEL_ID"] == "eu.anthropic.claude-sonnet-4-20250514-v1:0"


@pytest.mark.parametrize("model", ["'anthropic.*'", "[]", "'us.anthropic.claude?'"])
def test_a_model_id_with_a_wildcard_is_refused(tmp_path: Path, model: str) -> None:
    [p] = problems(write(tmp_path, project_text(f"  a: {{path: agents/a, model: {model}}}\n")))
    assert "model" in p.what


# --- items 7 and 8: endpoint auth -----------------------------------------------------------------


def test_an_endpoint_on_aws_must_state_its_auth(tmp_path: Path) -> None:
    text = project_text(
        "  a: {path: agents/a, expose: url}\n  b: {path: agents/b, expose: http}\n",
        environments="  prod: {}\n  staging: {endpoint: 'http://127.0.0.1:4566'}\n",
    )
    root = write(tmp_path, text, ("a", "b"))
    with pytest.raises(ConfigError) as info:
        graph(root, "prod")
    found = {p.where: p for p in info.value.problems}
    assert set(found) == {f"{root / 'strands.yaml'}:4:3", f"{root / 'strands.yaml'}:5:3"}
    for p in found.values():
        assert "without `auth:`" in p.what and "'prod'" in p.what
        assert p.fix == "add `auth: iam` (signed requests), `auth: jwt` or `auth: none` (public)"
    # emulated environments serve it openly, as before
    assert graph(root, "local").resources["agent.a.url"].props["auth"] == "NONE"
    assert graph(root, "staging").resources["agent.b.route"].props["authorization"] == "NONE"
    # validate says so ahead of time (exit code unchanged)
    assert any("no `auth:`" in w.what for w in load_project(root).warnings)


def test_auth_values_reach_the_url_and_the_route(tmp_path: Path) -> None:
    text = project_text(
        "  a: {path: agents/a, expose: url, auth: iam}\n"
        "  b: {path: agents/b, expose: url, auth: AWS_IAM}\n"  # the 0.1 spelling
        "  c: {path: agents/c, expose: http, auth: iam}\n"
        "  d:\n"
        "    path: agents/d\n"
        "    expose: http\n"
        "    auth: jwt\n"
        "    jwt: {issuer: 'https://cognito-idp.eu-west-1.amazonaws.com/pool', audience: [web, cli]}\n"
    )
    g = graph(write(tmp_path, text, ("a", "b", "c", "d")))
    assert g.resources["agent.a.url"].props["auth"] == "AWS_IAM"
    assert g.resources["agent.b.url"].props["auth"] == "AWS_IAM"
    assert g.resources["agent.c.route"].props["authorization"] == "AWS_IAM"
    route = g.resources["agent.d.route"].props
    assert route["authorization"] == "JWT"
    assert route["authorizer_id"] == Ref("agent.d.authorizer", "authorizer_id")
    authorizer = g.resources["agent.d.authorizer"]
    assert authorizer.type == "aws.apigw.jwt_authorizer"
    assert authorizer.props == {
        "api_id": Ref("shared.http-api", "api_id"),
        "name": "acme-prod-d-jwt",
        "issuer": "https://cognito-idp.eu-west-1.amazonaws.com/pool",
        "audience": ["web", "cli"],
    }
    assert g.warnings == []  # nothing public


@pytest.mark.parametrize(
    ("agent", "message"),
    [
        (
            "{path: agents/a, expose: url, auth: jwt, jwt: {issuer: 'https://i.example', audience: [x]}}",
            "cannot check JWTs",
        ),
        ("{path: agents/a, expose: http, auth: jwt}", "needs the token issuer"),
        (
            "{path: agents/a, expose: http, auth: iam, jwt: {issuer: 'https://i.example', audience: [x]}}",
            "only with `auth: jwt`",
        ),
        (
            "{path: agents/a, expose: http, auth: jwt, jwt: {issuer: 'http://i.example', audience: [x]}}",
            "https://",
        ),
        (
            "{path: agents/a, expose: http, auth: jwt, jwt: {issuer: 'https://i.example', audience: []}}",
            "audience",
        ),
        ("{path: agents/a, expose: url, auth: public}", "auth"),
    ],
)
def test_auth_an_exposure_cannot_honour_is_an_error(tmp_path: Path, agent: str, message: str) -> None:
    found = problems(write(tmp_path, project_text(f"  a: {agent}\n")))
    assert any(message in p.what for p in found), [p.render() for p in found]


def test_a_public_endpoint_on_aws_is_capped_and_warned_about(tmp_path: Path) -> None:
    text = project_text(
        "  a: {path: agents/a, expose: url, auth: none}\n"
        "  b: {path: agents/b, expose: http, auth: none, reserved_concurrency: 3}\n"
        "  c: {path: agents/c, expose: url, auth: iam}\n"
    )
    root = write(tmp_path, text, ("a", "b", "c"))
    g = graph(root)
    fn = {agent: g.resources[f"agent.{agent}.function"].props for agent in "abc"}
    assert (fn["a"]["reserved_concurrency"], fn["b"]["reserved_concurrency"]) == (10, 3)
    assert fn["c"]["reserved_concurrency"] is None
    warned = sorted(w.what for w in g.warnings)
    assert len(warned) == 2 and all("spend your model budget" in w for w in warned)
    assert "agent 'a'" in warned[0] and "agent 'b'" in warned[1]
    assert graph(root, "local").resources["agent.a.function"].props["reserved_concurrency"] is None
    # the cap is configurable
    (root / "strands.yaml").write_text("defaults: {public_concurrency: 2}\n" + text)
    assert graph(root).resources["agent.a.function"].props["reserved_concurrency"] == 2


# --- item 9: data is kept -------------------------------------------------------------------------


def test_tables_are_retained_and_protected_on_aws(tmp_path: Path) -> None:
    text = project_text(
        "  a: {path: agents/a, sessions: true}\n  b: {path: agents/b, sessions: {ttl_days: 90}}\n",
        "  kept: {type: table, key: id}\n  scratch: {type: table, key: id, retain: false}\n",
    )
    root = write(tmp_path, text, ("a", "b"))
    g = graph(root)
    kept, scratch = (g.resources[f"resource.{n}.table"].props for n in ("kept", "scratch"))
    assert (kept["retain"], kept["deletion_protection"]) == (True, True)
    assert (scratch["retain"], scratch["deletion_protection"]) == (False, True)
    assert graph(root, "local").resources["resource.kept.table"].props["deletion_protection"] is False
    assert g.resources["shared.sessions"].props["expire_days"] == 90  # the longest ttl of the agents
    # only synthesising agent a does not shorten b's conversations
    only_a = synthesize(
        load_project(root),
        "prod",
        target="aws",
        account=ACCOUNT,
        secret_value=lambda s: "v",
        fingerprint_key=b"k" * 32,
        agents=["a"],
    )
    assert only_a.resources["shared.sessions"].props["expire_days"] == 90
    (root / "strands.yaml").write_text(text.replace(", sessions: {ttl_days: 90}", ""))
    assert graph(root).resources["shared.sessions"].props["expire_days"] == 30


# --- item 11: link access levels ------------------------------------------------------------------

RESOURCES = """\
  t: {type: table, key: id}
  b: {type: bucket}
  q: {type: queue}
  n: {type: topic}
  s: {type: secret, from_env: S}
  p: {type: parameter, from_env: P}
"""


@pytest.mark.parametrize(
    ("access", "expected"),
    [
        (
            "read",
            {
                "t": {
                    "dynamodb:GetItem",
                    "dynamodb:Query",
                    "dynamodb:Scan",
                    "dynamodb:BatchGetItem",
                    "dynamodb:ConditionCheckItem",
                    "dynamodb:DescribeTable",
                },
                "b": {"s3:GetObject", "s3:ListBucket"},
                "q": {
                    "sqs:ReceiveMessage",
                    "sqs:ChangeMessageVisibility",
                    "sqs:DeleteMessage",
                    "sqs:GetQueueAttributes",
                    "sqs:GetQueueUrl",
                },
                "s": {"secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"},
                "p": {"ssm:GetParameter", "ssm:GetParameters"},
            },
        ),
        (
            "write",
            {
                "t": {
                    "dynamodb:PutItem",
                    "dynamodb:UpdateItem",
                    "dynamodb:DeleteItem",
                    "dynamodb:BatchWriteItem",
                    "dynamodb:DescribeTable",
                },
                "b": {"s3:PutObject", "s3:DeleteObject"},
                "q": {"sqs:SendMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl"},
                "n": {"sns:Publish"},
                "s": {"secretsmanager:PutSecretValue", "secretsmanager:DescribeSecret"},
                "p": {"ssm:PutParameter"},
            },
        ),
    ],
)
def test_link_access_levels(tmp_path: Path, access: str, expected: dict[str, set[str]]) -> None:
    links = ", ".join(f"{{to: {name}, access: {access}}}" for name in expected)
    text = project_text(f"  a: {{path: agents/a, link: [{links}]}}\n", RESOURCES)
    g = graph(write(tmp_path, text))
    granted: dict[str, set[str]] = {}
    for st in statements(g, "a"):
        if st["Sid"].startswith(("Link", "List")):
            granted.setdefault(st["Sid"][4:].lower(), set()).update(st["Action"])
    assert granted == expected
    readwrite = graph(
        write(tmp_path, project_text("  a: {path: agents/a, link: [t, b, q, n, s, p]}\n", RESOURCES))
    )
    all_actions = {
        a for st in statements(readwrite, "a") if st["Sid"].startswith(("Link", "List")) for a in st["Action"]
    }
    assert set().union(*expected.values()) <= all_actions  # readwrite (the default) is both


def test_bucket_read_lists_the_bucket_and_reads_objects_only(tmp_path: Path) -> None:
    text = project_text("  a: {path: agents/a, link: [{to: b, access: read}]}\n", RESOURCES)
    g = graph(write(tmp_path, text))
    arn = f"arn:aws:s3:::acme-prod-b-{ACCOUNT}"
    assert sid(g, "a", "LinkB")["Resource"] == [f"{arn}/*"]
    assert sid(g, "a", "ListB") == {
        "Sid": "ListB",
        "Effect": "Allow",
        "Action": ["s3:ListBucket"],
        "Resource": [arn],
    }


def test_bad_access_values_are_refused_with_a_suggestion(tmp_path: Path) -> None:
    root = write(tmp_path, project_text("  a: {path: agents/a, link: [{to: t, access: raed}]}\n", RESOURCES))
    [p] = problems(root)
    assert "access" in p.what and p.fix == "did you mean 'read'?"
    assert p.where == f"{root / 'strands.yaml'}:4:46"
    [topic] = problems(
        write(tmp_path, project_text("  a: {path: agents/a, link: [{to: n, access: read}]}\n", RESOURCES))
    )
    assert "a topic can only be written (published) to" in topic.what
    [unknown] = problems(
        write(tmp_path, project_text("  a: {path: agents/a, link: [{to: tt}]}\n", RESOURCES))
    )
    assert "unknown resource 'tt'" in unknown.what and unknown.fix == "did you mean 't'?"
    [twice] = problems(
        write(tmp_path, project_text("  a: {path: agents/a, link: [t, {to: t, access: read}]}\n", RESOURCES))
    )
    assert "twice" in twice.what
