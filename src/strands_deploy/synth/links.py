"""What a link grants: the exact IAM actions on the exact ARNs, and the environment variables.

One entry per resource type. Keep each list to what an agent needs to use the resource as data
(no management actions: an agent never creates or deletes tables).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from strands_deploy.synth.graph import Join, Ref
from strands_deploy.synth.naming import env_var_name


@dataclass(frozen=True)
class LinkSpec:
    suffix: str  # address suffix of the resource: resource.<name>.<suffix>
    actions: tuple[str, ...]
    # (attr of the resource's outputs, extra ARN suffix) for each Resource entry
    arns: tuple[tuple[str, str], ...]
    env: tuple[tuple[str, str], ...]  # (env var attr, output attr)


LINKS: dict[str, LinkSpec] = {
    "table": LinkSpec(
        "table",
        (
            "dynamodb:GetItem",
            "dynamodb:PutItem",
            "dynamodb:UpdateItem",
            "dynamodb:DeleteItem",
            "dynamodb:Query",
            "dynamodb:Scan",
            "dynamodb:BatchGetItem",
            "dynamodb:BatchWriteItem",
            "dynamodb:ConditionCheckItem",
            "dynamodb:DescribeTable",
        ),
        (("arn", ""), ("arn", "/index/*")),
        (("TABLE", "name"), ("ARN", "arn")),
    ),
    "bucket": LinkSpec(
        "bucket",
        ("s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:ListBucket"),
        (("arn", ""), ("arn", "/*")),
        (("BUCKET", "name"), ("ARN", "arn")),
    ),
    "queue": LinkSpec(
        "queue",
        ("sqs:SendMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl"),
        (("arn", ""),),
        (("QUEUE_URL", "url"), ("ARN", "arn")),
    ),
    "topic": LinkSpec("topic", ("sns:Publish",), (("arn", ""),), (("TOPIC_ARN", "arn"),)),
    "secret": LinkSpec(
        "secret",
        ("secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"),
        (("arn", ""),),
        (("SECRET_ARN", "arn"), ("SECRET_NAME", "name")),
    ),
    "parameter": LinkSpec(
        "parameter",
        ("ssm:GetParameter", "ssm:GetParameters"),
        (("arn", ""),),
        (("PARAMETER", "name"),),
    ),
}


def resource_address(name: str, rtype: str) -> str:
    return f"resource.{name}.{LINKS[rtype].suffix}"


def link_statement(name: str, rtype: str) -> dict[str, Any]:
    spec = LINKS[rtype]
    address = resource_address(name, rtype)
    resources: list[Any] = [
        Ref(address, attr) if not extra else Join((Ref(address, attr), extra)) for attr, extra in spec.arns
    ]
    return {
        "Sid": f"Link{_sid(name)}",
        "Effect": "Allow",
        "Action": list(spec.actions),
        "Resource": resources,
    }


def link_env(name: str, rtype: str) -> dict[str, Any]:
    spec = LINKS[rtype]
    address = resource_address(name, rtype)
    return {env_var_name(name, var): Ref(address, attr) for var, attr in spec.env}


def _sid(name: str) -> str:
    return "".join(part.capitalize() for part in name.replace("_", "-").split("-"))
