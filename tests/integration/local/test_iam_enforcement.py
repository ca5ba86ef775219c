"""IAM in the local cloud: a function's calls are checked against its role, as in AWS."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.integration.local.conftest import Cloud, create_function, invoke, unique

CODE = """
import boto3
from botocore.exceptions import ClientError

def handler(event, context):
    client = boto3.client(event["service"])
    try:
        getattr(client, event["op"])(**event["args"])
        return {"ok": True}
    except ClientError as e:
        return {
            "ok": False,
            "code": e.response["Error"]["Code"],
            "message": e.response["Error"].get("Message", ""),
            "status": e.response["ResponseMetadata"]["HTTPStatusCode"],
        }
"""


def _role(cloud: Cloud, statements: list[dict[str, Any]]) -> tuple[str, str]:
    iam = cloud.client("iam")
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
    name = unique("iam-role")
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    if not statements:
        return name, str(arn)
    iam.put_role_policy(
        RoleName=name,
        PolicyName="links",
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": statements}),
    )
    return name, str(arn)


def _table(cloud: Cloud) -> str:
    name = unique("iam-table")
    ddb = cloud.client("dynamodb")
    ddb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return name


def _call(cloud: Cloud, fn: str, service: str, op: str, **args: Any) -> dict[str, Any]:
    _, result = invoke(cloud, fn, {"service": service, "op": op, "args": args})
    assert isinstance(result, dict), result
    return result


@pytest.fixture
def iam_on(cloud: Cloud) -> Any:
    cloud.set_config(iam=True)
    yield
    cloud.set_config(iam=True)


def test_dynamodb_get_item_on_the_linked_table_only(cloud: Cloud, iam_on: Any) -> None:
    table_a, table_b = _table(cloud), _table(cloud)
    arn_a = f"arn:aws:dynamodb:us-east-1:123456789012:table/{table_a}"
    role_name, role = _role(cloud, [{"Effect": "Allow", "Action": "dynamodb:GetItem", "Resource": arn_a}])
    fn = create_function(cloud, role, CODE)
    key = {"id": {"S": "1"}}

    assert _call(cloud, fn, "dynamodb", "get_item", TableName=table_a, Key=key) == {"ok": True}

    refused = _call(cloud, fn, "dynamodb", "get_item", TableName=table_b, Key=key)
    arn_b = f"arn:aws:dynamodb:us-east-1:123456789012:table/{table_b}"
    assert refused["ok"] is False and refused["status"] == 403
    assert refused["code"] == "AccessDeniedException"
    assert refused["message"] == (
        f"User: arn:aws:sts::123456789012:assumed-role/{role_name}/{fn} is not authorized to perform: "
        f"dynamodb:GetItem on resource: {arn_b} because no identity-based policy allows the "
        "dynamodb:GetItem action"
    )

    put = _call(cloud, fn, "dynamodb", "put_item", TableName=table_a, Item=key)
    assert put["code"] == "AccessDeniedException" and put["status"] == 403
    assert "dynamodb:PutItem on resource: " + arn_a in put["message"]
    # nothing was written
    assert "Item" not in cloud.client("dynamodb").get_item(TableName=table_a, Key=key)


def test_s3_get_object_on_a_prefix_only(cloud: Cloud, iam_on: Any) -> None:
    bucket = unique("iam-bucket")
    s3 = cloud.client("s3")
    s3.create_bucket(Bucket=bucket)
    for key in ("agent/a.txt", "other/b.txt"):
        s3.put_object(Bucket=bucket, Key=key, Body=b"x")
    _, role = _role(
        cloud,
        [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/agent/*"}],
    )
    fn = create_function(cloud, role, CODE)

    assert _call(cloud, fn, "s3", "get_object", Bucket=bucket, Key="agent/a.txt") == {"ok": True}
    refused = _call(cloud, fn, "s3", "get_object", Bucket=bucket, Key="other/b.txt")
    assert refused["code"] == "AccessDenied" and refused["status"] == 403
    assert f"s3:GetObject on resource: arn:aws:s3:::{bucket}/other/b.txt" in refused["message"]
    put = _call(cloud, fn, "s3", "put_object", Bucket=bucket, Key="agent/new.txt", Body="y")
    assert put["code"] == "AccessDenied"


def test_other_callers_and_no_iam_are_not_checked(cloud: Cloud, iam_on: Any) -> None:
    table = _table(cloud)
    _, role = _role(cloud, [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}])
    fn = create_function(cloud, role, CODE)
    item = {"id": {"S": "1"}}
    assert _call(cloud, fn, "dynamodb", "put_item", TableName=table, Item=item)["code"] == (
        "AccessDeniedException"
    )
    # the test's own ("testing") credentials act as the account's admin
    cloud.client("dynamodb").put_item(TableName=table, Item=item)

    cloud.set_config(iam=False)
    assert _call(cloud, fn, "dynamodb", "put_item", TableName=table, Item=item) == {"ok": True}
    assert _call(cloud, fn, "dynamodb", "get_item", TableName=table, Key=item) == {"ok": True}


def test_lambda_invoke_and_secrets_use_their_arns(cloud: Cloud, iam_on: Any) -> None:
    secret = unique("iam-secret")
    cloud.client("secretsmanager").create_secret(Name=secret, SecretString="s")
    target = create_function(cloud, _role(cloud, [])[1], "def handler(e, c):\n    return 1\n")
    _, role = _role(
        cloud,
        [
            {
                "Effect": "Allow",
                "Action": "secretsmanager:GetSecretValue",
                "Resource": f"arn:aws:secretsmanager:us-east-1:123456789012:secret:{secret}-*",
            },
            {
                "Effect": "Allow",
                "Action": "lambda:InvokeFunction",
                "Resource": f"arn:aws:lambda:us-east-1:123456789012:function:{target}",
            },
        ],
    )
    fn = create_function(cloud, role, CODE)
    assert _call(cloud, fn, "secretsmanager", "get_secret_value", SecretId=secret) == {"ok": True}
    denied = _call(cloud, fn, "secretsmanager", "put_secret_value", SecretId=secret, SecretString="t")
    assert denied["code"] == "AccessDeniedException"
    assert _call(cloud, fn, "lambda", "invoke", FunctionName=target) == {"ok": True}
    qualified = _call(cloud, fn, "lambda", "invoke", FunctionName=target, Qualifier="$LATEST")
    assert qualified["code"] == "AccessDeniedException"
    assert f"function:{target}:$LATEST" in qualified["message"]
