"""What a link grants: the exact IAM actions on the exact ARNs, and the environment variables.

One entry per resource type, with the actions of each access level (`read`, `write`, `readwrite`).
Keep each list to what an agent needs to use the resource as data (no management actions: an
agent never creates or deletes tables).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from strands_deploy.aws.arns import partition_for
from strands_deploy.synth.graph import Join, Ref
from strands_deploy.synth.naming import env_var_name

Access = Literal["read", "write", "readwrite"]


@dataclass(frozen=True)
class Grant:
    """The actions of each access level on some of a resource's ARNs (one IAM statement)."""

    read: tuple[str, ...]
    write: tuple[str, ...]
    # (attr of the resource's outputs, extra ARN suffix) for each Resource entry
    arns: tuple[tuple[str, str], ...]
    # the statement's Sid is <sid_prefix><Name>; distinct prefixes keep Sids unique in a policy
    # (a suffix would not: "docs" + "List" is also what a resource "docs-list" gives)
    sid_prefix: str = "Link"

    def actions(self, access: Access) -> list[str]:
        wanted = {"read": self.read, "write": self.write, "readwrite": self.read + self.write}[access]
        return list(dict.fromkeys(wanted))  # in order, once each


@dataclass(frozen=True)
class LinkSpec:
    suffix: str  # address suffix of the resource: resource.<name>.<suffix>
    grants: tuple[Grant, ...]
    env: tuple[tuple[str, str], ...]  # (env var attr, output attr)

    def actions(self, access: Access = "readwrite") -> list[str]:
        return list(dict.fromkeys(a for g in self.grants for a in g.actions(access)))


# What each access level means, per type. Reading a queue is consuming it: ReceiveMessage, and
# DeleteMessage / ChangeMessageVisibility on what was received, are all on the read side. A topic
# is only ever written (published) to: `access: read` on a topic is refused by validation.
# `write` on a secret or parameter lets the agent change its value (PutSecretValue, PutParameter).
LINKS: dict[str, LinkSpec] = {
    "table": LinkSpec(
        "table",
        (
            Grant(
                read=(
                    "dynamodb:GetItem",
                    "dynamodb:Query",
                    "dynamodb:Scan",
                    "dynamodb:BatchGetItem",
                    "dynamodb:ConditionCheckItem",
                    "dynamodb:DescribeTable",
                ),
                write=(
                    "dynamodb:PutItem",
                    "dynamodb:UpdateItem",
                    "dynamodb:DeleteItem",
                    "dynamodb:BatchWriteItem",
                    "dynamodb:DescribeTable",
                ),
                arns=(("arn", ""), ("arn", "/index/*")),
            ),
        ),
        (("TABLE", "name"), ("ARN", "arn")),
    ),
    "bucket": LinkSpec(
        "bucket",
        (
            Grant(read=("s3:GetObject",), write=("s3:PutObject", "s3:DeleteObject"), arns=(("arn", "/*"),)),
            Grant(read=("s3:ListBucket",), write=(), arns=(("arn", ""),), sid_prefix="List"),
        ),
        (("BUCKET", "name"), ("ARN", "arn")),
    ),
    "queue": LinkSpec(
        "queue",
        (
            Grant(
                read=(
                    "sqs:ReceiveMessage",
                    "sqs:ChangeMessageVisibility",
                    "sqs:DeleteMessage",
                    "sqs:GetQueueAttributes",
                    "sqs:GetQueueUrl",
                ),
                write=("sqs:SendMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl"),
                arns=(("arn", ""),),
            ),
        ),
        (("QUEUE_URL", "url"), ("ARN", "arn")),
    ),
    "topic": LinkSpec(
        "topic",
        (Grant(read=(), write=("sns:Publish",), arns=(("arn", ""),)),),
        (("TOPIC_ARN", "arn"),),
    ),
    "secret": LinkSpec(
        "secret",
        (
            Grant(
                read=("secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"),
                write=("secretsmanager:PutSecretValue", "secretsmanager:DescribeSecret"),
                arns=(("arn", ""),),
            ),
        ),
        (("SECRET_ARN", "arn"), ("SECRET_NAME", "name")),
    ),
    "parameter": LinkSpec(
        "parameter",
        (
            Grant(
                read=("ssm:GetParameter", "ssm:GetParameters"),
                write=("ssm:PutParameter",),
                arns=(("arn", ""),),
            ),
        ),
        (("PARAMETER", "name"),),
    ),
}


def resource_address(name: str, rtype: str) -> str:
    return f"resource.{name}.{LINKS[rtype].suffix}"


partition = partition_for  # the name synthesis uses


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


def link_statements(
    name: str, rtype: str, known: dict[str, str] | None = None, access: Access = "readwrite"
) -> list[dict[str, Any]]:
    """The statements a link grants: for each of the type's grants, the actions of ``access`` on
    its ARNs (a grant without actions at that level is left out)."""
    spec = LINKS[rtype]
    address = resource_address(name, rtype)
    k = known or {}
    statements = []
    for grant in spec.grants:
        actions = grant.actions(access)
        if not actions:
            continue
        resources: list[Any] = []
        for attr, extra in grant.arns:
            base = _value(address, attr, k)
            resources.append(
                base if not extra else (base + extra if isinstance(base, str) else Join((base, extra)))
            )
        statements.append(
            {
                "Sid": f"{grant.sid_prefix}{_sid(name)}",
                "Effect": "Allow",
                "Action": actions,
                "Resource": resources,
            }
        )
    return statements


def link_env(name: str, rtype: str, known: dict[str, str] | None = None) -> dict[str, Any]:
    spec = LINKS[rtype]
    address = resource_address(name, rtype)
    return {env_var_name(name, var): _value(address, attr, known or {}) for var, attr in spec.env}


def _sid(name: str) -> str:
    return "".join(part.capitalize() for part in name.replace("_", "-").split("-"))
