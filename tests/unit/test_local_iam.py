"""The local cloud's IAM: policy evaluation and request -> (action, resource), no server."""

from __future__ import annotations

import json
from typing import Any

from strands_deploy.local import iam
from strands_deploy.local.iam import ALLOW, EXPLICIT_DENY, IMPLICIT_DENY, Request, checks_for, evaluate

TABLE = "arn:aws:dynamodb:us-east-1:123456789012:table/a"


def allow(action: Any, resource: Any, **extra: Any) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": action, "Resource": resource, **extra}],
    }


def test_allow_and_implicit_deny() -> None:
    p = [allow("dynamodb:GetItem", TABLE)]
    assert evaluate(p, "dynamodb:GetItem", TABLE) == ALLOW
    assert evaluate(p, "dynamodb:PutItem", TABLE) == IMPLICIT_DENY
    assert evaluate(p, "dynamodb:GetItem", TABLE + "2") == IMPLICIT_DENY
    assert evaluate([], "dynamodb:GetItem", TABLE) == IMPLICIT_DENY
    assert evaluate([json.dumps(p[0])], "dynamodb:GetItem", TABLE) == ALLOW  # JSON text too


def test_explicit_deny_wins_over_any_allow() -> None:
    deny = {"Statement": {"Effect": "Deny", "Action": "dynamodb:*", "Resource": TABLE}}
    assert evaluate([allow("*", "*"), deny], "dynamodb:GetItem", TABLE) == EXPLICIT_DENY
    assert evaluate([deny, allow("*", "*")], "s3:GetObject", "arn:aws:s3:::b/k") == ALLOW


def test_not_action_and_not_resource() -> None:
    p = [{"Statement": [{"Effect": "Allow", "NotAction": "dynamodb:Delete*", "Resource": TABLE}]}]
    assert evaluate(p, "dynamodb:GetItem", TABLE) == ALLOW
    assert evaluate(p, "dynamodb:DeleteItem", TABLE) == IMPLICIT_DENY
    q = [
        {
            "Statement": [
                {"Effect": "Allow", "Action": "s3:GetObject", "NotResource": "arn:aws:s3:::b/secret/*"}
            ]
        }
    ]
    assert evaluate(q, "s3:GetObject", "arn:aws:s3:::b/public/x") == ALLOW
    assert evaluate(q, "s3:GetObject", "arn:aws:s3:::b/secret/x") == IMPLICIT_DENY


def test_wildcards_actions_ignore_case_resources_do_not() -> None:
    p = [allow(["DynamoDB:get*", "s3:?etObject"], ["arn:aws:s3:::b/agent/*", TABLE + "/index/*"])]
    assert evaluate(p, "dynamodb:GetItem", TABLE + "/index/by-date") == ALLOW
    assert evaluate(p, "s3:GetObject", "arn:aws:s3:::b/agent/x/y") == ALLOW
    assert evaluate(p, "s3:GetObject", "arn:aws:s3:::b/Agent/x") == IMPLICIT_DENY
    assert evaluate(p, "dynamodb:GetItem", TABLE) == IMPLICIT_DENY  # the index pattern is not the table
    assert evaluate(p, "s3:PutObject", "arn:aws:s3:::b/agent/x") == IMPLICIT_DENY


def test_secret_name_suffix_pattern() -> None:
    base = "arn:aws:secretsmanager:us-east-1:123456789012:secret:"
    p = [allow("secretsmanager:GetSecretValue", base + "api-key-*")]
    assert evaluate(p, "secretsmanager:GetSecretValue", base + "api-key-AbC123") == ALLOW
    assert evaluate(p, "secretsmanager:GetSecretValue", base + "other-AbC123") == IMPLICIT_DENY


def test_conditions() -> None:
    listing = allow("s3:ListBucket", "arn:aws:s3:::b", Condition={"StringLike": {"s3:prefix": ["agent/*"]}})
    assert evaluate([listing], "s3:ListBucket", "arn:aws:s3:::b", {"s3:prefix": "agent/s1/"}) == ALLOW
    assert evaluate([listing], "s3:ListBucket", "arn:aws:s3:::b", {"s3:prefix": "other/"}) == IMPLICIT_DENY
    assert evaluate([listing], "s3:ListBucket", "arn:aws:s3:::b") == IMPLICIT_DENY  # key absent

    src = "arn:aws:sns:us-east-1:123456789012:topic"
    arn_like = allow("sqs:SendMessage", "*", Condition={"ArnLike": {"aws:SourceArn": "arn:aws:sns:*:*:top*"}})
    assert evaluate([arn_like], "sqs:SendMessage", "q", {"aws:SourceArn": src}) == ALLOW
    arn_eq = allow("sqs:SendMessage", "*", Condition={"ArnEquals": {"aws:SourceArn": src + "2"}})
    assert evaluate([arn_eq], "sqs:SendMessage", "q", {"aws:SourceArn": src}) == IMPLICIT_DENY
    eq = allow("*", "*", Condition={"StringEquals": {"aws:RequestedRegion": "eu-west-1"}})
    assert evaluate([eq], "s3:GetObject", "x", {"aws:RequestedRegion": "us-east-1"}) == IMPLICIT_DENY
    if_exists = allow("*", "*", Condition={"StringEqualsIfExists": {"aws:RequestedRegion": "eu-west-1"}})
    assert evaluate([if_exists], "s3:GetObject", "x") == ALLOW

    insecure = {
        "Statement": {
            "Effect": "Deny",
            "Action": "*",
            "Resource": "*",
            "Condition": {"Bool": {"aws:SecureTransport": False}},
        }
    }
    assert (
        evaluate([allow("*", "*"), insecure], "s3:GetObject", "x", {"aws:SecureTransport": "true"}) == ALLOW
    )
    assert evaluate([allow("*", "*"), insecure], "s3:GetObject", "x", {"aws:SecureTransport": "false"}) == (
        EXPLICIT_DENY
    )
    not_like = allow("*", "*", Condition={"StringNotLike": {"s3:prefix": "private/*"}})
    assert evaluate([not_like], "s3:ListBucket", "b", {"s3:prefix": "private/x"}) == IMPLICIT_DENY
    assert evaluate([not_like], "s3:ListBucket", "b", {"s3:prefix": "public/x"}) == ALLOW


def test_unsupported_condition_key_makes_the_statement_not_apply() -> None:
    odd = allow("*", "*", Condition={"StringEquals": {"ec2:Vpc": "vpc-1"}})
    assert evaluate([odd], "s3:GetObject", "x") == IMPLICIT_DENY
    deny = {
        "Statement": {
            "Effect": "Deny",
            "Action": "*",
            "Resource": "*",
            "Condition": {"StringEquals": {"x:y": "1"}},
        }
    }
    assert evaluate([allow("*", "*"), deny], "s3:GetObject", "x") == ALLOW


def test_denial_message_is_aws_wording() -> None:
    principal = "arn:aws:sts::123456789012:assumed-role/r/fn"
    assert iam.denial_message(principal, "dynamodb:PutItem", TABLE, IMPLICIT_DENY) == (
        f"User: {principal} is not authorized to perform: dynamodb:PutItem on resource: {TABLE} "
        "because no identity-based policy allows the dynamodb:PutItem action"
    )


def req(service: str, method: str = "POST", path: str = "/", **kw: Any) -> Request:
    body = kw.pop("body", b"")
    if isinstance(body, dict):
        body = json.dumps(body).encode()
    return Request(
        service=service,
        method=method,
        path=path,
        query=kw.pop("query", {}),
        headers=kw.pop("headers", {}),
        host=kw.pop("host", "127.0.0.1:4566"),
        region="us-east-1",
        account="123456789012",
        body=body,
    )


def pairs(r: Request, **kw: Any) -> list[tuple[str, str]] | None:
    checks = checks_for(r, **kw)
    return None if checks is None else [(c.action, c.resource) for c in checks]


def test_dynamodb_mapping() -> None:
    t = {"x-amz-target": "DynamoDB_20120810.Query"}
    assert pairs(req("dynamodb", headers=t, body={"TableName": "a", "IndexName": "i"})) == [
        ("dynamodb:Query", TABLE + "/index/i")
    ]
    batch: dict[str, Any] = {"RequestItems": {"a": {}, "b": {}}}
    got = pairs(req("dynamodb", headers={"x-amz-target": "DynamoDB_20120810.BatchGetItem"}, body=batch))
    assert got == [("dynamodb:BatchGetItem", TABLE), ("dynamodb:BatchGetItem", TABLE[:-1] + "b")]
    tx = {"TransactItems": [{"Put": {"TableName": "a"}}, {"ConditionCheck": {"TableName": "a"}}]}
    got = pairs(req("dynamodb", headers={"x-amz-target": "DynamoDB_20120810.TransactWriteItems"}, body=tx))
    assert got == [("dynamodb:PutItem", TABLE), ("dynamodb:ConditionCheckItem", TABLE)]


def test_s3_mapping() -> None:
    assert pairs(req("s3", "GET", "/b/k/x.txt")) == [("s3:GetObject", "arn:aws:s3:::b/k/x.txt")]
    assert pairs(req("s3", "PUT", "/b/k")) == [("s3:PutObject", "arn:aws:s3:::b/k")]
    assert pairs(req("s3", "DELETE", "/b/k")) == [("s3:DeleteObject", "arn:aws:s3:::b/k")]
    assert pairs(req("s3", "GET", "/k", host="b.localhost:4566")) == [("s3:GetObject", "arn:aws:s3:::b/k")]
    listing = checks_for(req("s3", "GET", "/b", query={"list-type": ["2"], "prefix": ["agent/"]}))
    assert listing and listing[0].action == "s3:ListBucket" and listing[0].resource == "arn:aws:s3:::b"
    assert listing[0].context == {"s3:prefix": "agent/"}
    delete = b"<Delete><Object><Key>a</Key></Object><Object><Key>c/d</Key></Object></Delete>"
    assert pairs(req("s3", "POST", "/b", query={"delete": [""]}, body=delete)) == [
        ("s3:DeleteObject", "arn:aws:s3:::b/a"),
        ("s3:DeleteObject", "arn:aws:s3:::b/c/d"),
    ]


def test_queue_topic_secret_parameter_model_and_function_mapping() -> None:
    url = "http://127.0.0.1:4566/123456789012/jobs"
    queue = "arn:aws:sqs:us-east-1:123456789012:jobs"
    json_sqs = req("sqs", headers={"x-amz-target": "AmazonSQS.SendMessageBatch"}, body={"QueueUrl": url})
    assert pairs(json_sqs) == [("sqs:SendMessage", queue)]
    form = f"Action=ReceiveMessage&QueueUrl={url}".encode()
    assert pairs(req("sqs", body=form)) == [("sqs:ReceiveMessage", queue)]
    topic = "arn:aws:sns:us-east-1:123456789012:t"
    assert pairs(req("sns", body=f"Action=Publish&TopicArn={topic}&Message=m".encode())) == [
        ("sns:Publish", topic)
    ]

    sm = {"x-amz-target": "secretsmanager.GetSecretValue"}
    full = "arn:aws:secretsmanager:us-east-1:123456789012:secret:key-AbC123"
    assert pairs(req("secretsmanager", headers=sm, body={"SecretId": "key"}), secret_arn=lambda n: full) == [
        ("secretsmanager:GetSecretValue", full)
    ]
    ssm = {"x-amz-target": "AmazonSSM.GetParameter"}
    assert pairs(req("ssm", headers=ssm, body={"Name": "/app/p"})) == [
        ("ssm:GetParameter", "arn:aws:ssm:us-east-1:123456789012:parameter/app/p")
    ]
    assert pairs(req("bedrock", path="/model/anthropic.claude-v2/converse-stream")) == [
        (
            "bedrock:InvokeModelWithResponseStream",
            "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-v2",
        )
    ]
    assert pairs(req("bedrock", path="/model/eu.anthropic.claude-v2/converse")) == [
        (
            "bedrock:InvokeModel",
            "arn:aws:bedrock:us-east-1:123456789012:inference-profile/eu.anthropic.claude-v2",
        )
    ]
    invoke = req("lambda", path="/2015-03-31/functions/f/invocations", query={"Qualifier": ["live"]})
    assert pairs(invoke) == [
        ("lambda:InvokeFunction", "arn:aws:lambda:us-east-1:123456789012:function:f:live")
    ]
    assert checks_for(req("logs", headers={"x-amz-target": "Logs_20140328.PutLogEvents"})) is None
    assert checks_for(req("lambda", "GET", "/2015-03-31/functions/f")) is None


def test_issued_keys_map_back_to_their_function() -> None:
    env = iam.issue("123456789012", "us-east-1", "fn-x", "$LATEST")
    assert env["AWS_ACCESS_KEY_ID"].startswith("ASIA")
    assert iam.issue("123456789012", "us-east-1", "fn-x", "$LATEST") == env
    caller = iam.caller_for(env["AWS_ACCESS_KEY_ID"])
    assert caller is not None and caller.function_name == "fn-x"
    assert iam.caller_for("testing") is None
