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


def partition(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def known_outputs(rtype: str, physical_name: str, region: str, account: str) -> dict[str, str]:
    """Outputs that follow from the deterministic physical name, known before the resource exists.

    Links use these instead of references, so an agent's policy and function do not wait for its
    linked table (7 s to become ACTIVE) or bucket: IAM accepts ARNs of resources still being
    created. The alias (the version that serves traffic) still waits for the linked resources.
    """
    p = partition(region)
    arns = {
        "table": f"arn:{p}:dynamodb:{region}:{account}:table/{physical_name}",
        "bucket": f"arn:{p}:s3:::{physical_name}",
        "queue": f"arn:{p}:sqs:{region}:{account}:{physical_name}",
        "topic": f"arn:{p}:sns:{region}:{account}:{physical_name}",
        "parameter": f"arn:{p}:ssm:{region}:{account}:parameter{physical_name}",
    }
    if rtype not in arns:
        return {}  # secrets: AWS appends a random suffix to the ARN
    return {"arn": arns[rtype], "name": physical_name}


def _value(address: str, attr: str, known: dict[str, str]) -> Any:
    return known[attr] if attr in known else Ref(address, attr)


def link_statement(name: str, rtype: str, known: dict[str, str] | None = None) -> dict[str, Any]:
    spec = LINKS[rtype]
    address = resource_address(name, rtype)
    k = known or {}
    resources: list[Any] = []
    for attr, extra in spec.arns:
        base = _value(address, attr, k)
        resources.append(
            base if not extra else (base + extra if isinstance(base, str) else Join((base, extra)))
        )
    return {
        "Sid": f"Link{_sid(name)}",
        "Effect": "Allow",
        "Action": list(spec.actions),
        "Resource": resources,
    }


def link_env(name: str, rtype: str, known: dict[str, str] | None = None) -> dict[str, Any]:
    spec = LINKS[rtype]
    address = resource_address(name, rtype)
    return {env_var_name(name, var): _value(address, attr, known or {}) for var, attr in spec.env}


def _sid(name: str) -> str:
    return "".join(part.capitalize() for part in name.replace("_", "-").split("-"))
