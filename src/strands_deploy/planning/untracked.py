"""Live resources of this project and environment that the state does not record.

Discovery (``aws/discovery.py``) lists what carries this project's and environment's tags. Here
that list is matched against the state and the graph: a live resource whose name is the name a
resource of the graph would be created with, while the state has no record of it, is *adoptable*
(the plan adopts it instead of creating a second one); anything else the state does not know is
*untracked* and reported by ``plan`` ("adopt or delete"), so a duplicate can never hide behind a
clean plan.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from strands_deploy.state.model import State
from strands_deploy.synth.graph import Graph

# The service in a resource's ARN, per resource type that can carry tags.
TYPE_SERVICE = {
    "aws.lambda.function": "lambda",
    "aws.dynamodb.table": "dynamodb",
    "aws.s3.bucket": "s3",
    "aws.sqs.queue": "sqs",
    "aws.sns.topic": "sns",
    "aws.logs.log_group": "logs",
    "aws.cloudwatch.alarm": "cloudwatch",
    "aws.secretsmanager.secret": "secretsmanager",
    "aws.ssm.parameter": "ssm",
    "aws.apigw.http_api": "apigateway",
    "aws.iam.role": "iam",
}


@dataclass
class Discovery:
    adoptable: dict[str, dict[str, str]] = field(default_factory=dict)  # address -> live resource
    untracked: list[dict[str, str]] = field(default_factory=list)

    def is_adoptable(self, address: str) -> bool:
        return address in self.adoptable


def classify(live: Iterable[dict[str, str]], graph: Graph, state: State) -> Discovery:
    """Split discovered resources (``{"arn", "service", "name"}``) into adoptable and untracked."""
    recorded: set[tuple[str, str]] = set()
    recorded_ids: set[str] = set()
    for r in state.resources.values():
        # every ARN a record holds counts (a queue's outputs name its dead-letter queue too)
        recorded_ids.update(str(v) for v in (r.physical_id, *r.outputs.values()) if isinstance(v, str) and v)
        service = TYPE_SERVICE.get(r.type)
        name = r.outputs.get("name") or r.physical_id
        if service:
            recorded.add((service, str(name)))
    wanted: dict[tuple[str, str], str] = {}
    for res in graph:
        service = TYPE_SERVICE.get(res.type)
        name = res.props.get("name")
        if service and isinstance(name, str) and res.address not in state.resources:
            wanted[(service, name)] = res.address
    out = Discovery()
    for item in live:
        key = (item["service"], item["name"])
        if item["arn"] in recorded_ids or key in recorded:
            continue
        address = wanted.pop(key, None)
        if address is not None:
            out.adoptable[address] = dict(item)
        else:
            out.untracked.append(dict(item))
    return out


def describe_untracked(item: dict[str, Any]) -> str:
    return f"{item.get('name') or item['arn']} ({item['arn']})"
