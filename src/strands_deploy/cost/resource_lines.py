"""The lines of the project's resources (`resources:`): requests from the agents linked to them or
triggered by them, and storage (formulas in docs/cost.md)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from strands_deploy.config.loader import Project
from strands_deploy.config.schema import ResourceConfig
from strands_deploy.cost.lines import MILLION, ForecastLine
from strands_deploy.cost.prices import PriceTable
from strands_deploy.cost.usage import AgentAssumptions, ResourceAssumptions, resource_assumptions
from strands_deploy.synth.graph import Graph
from strands_deploy.synth.links import resource_address
from strands_deploy.synth.triggers import agent_triggers

# resources whose reads are tool calls of the linked agents (secrets and parameters are read when
# an agent starts, not per request: their reads are 0 unless `usage.reads_per_request` says)
DATA_TYPES = ("table", "bucket", "queue", "topic")


@dataclass(frozen=True)
class Traffic:
    """Per month, what the agents do to one resource."""

    reads: float
    writes: float
    triggered: float  # messages that invoke an agent (queue, topic triggers)


def resource_lines(
    graph: Graph, project: Project, assumptions: Mapping[str, AgentAssumptions], prices: PriceTable
) -> list[ForecastLine]:
    lines: list[ForecastLine] = []
    for name, rc in sorted(project.config.resources.items()):
        address = resource_address(name, rc.type)
        if address not in graph:
            continue
        use = resource_assumptions(rc.usage)
        traffic = _traffic(project, name, rc, use, assumptions)
        lines += PRICERS[rc.type](f"resource.{name}", address, use, traffic, prices, rc)
    return lines


def _traffic(
    project: Project,
    name: str,
    rc: ResourceConfig,
    use: ResourceAssumptions,
    assumptions: Mapping[str, AgentAssumptions],
) -> Traffic:
    reads = writes = triggered = 0.0
    for agent, a in assumptions.items():
        cfg = project.agents.get(agent)
        if cfg is None:
            continue
        data_links = [
            str(link)
            for link in cfg.link
            if link in project.config.resources and project.config.resources[str(link)].type in DATA_TYPES
        ]
        if name in [str(link) for link in cfg.link]:
            default_reads = a.tool_calls / len(data_links) if name in data_links else 0.0
            per_request = use.reads_per_request if use.reads_per_request is not None else default_reads
            reads += a.requests_per_month * per_request
            writes += a.requests_per_month * use.writes_per_request
        if any(t.kind in ("queue", "topic") and t.source == name for t in agent_triggers(cfg)):
            triggered += a.requests_per_month
    return Traffic(reads, writes, triggered)


def _table(
    owner: str, address: str, use: ResourceAssumptions, t: Traffic, prices: PriceTable, rc: ResourceConfig
) -> list[ForecastLine]:
    p = prices.services["dynamodb"]
    return [
        ForecastLine(owner, address, "dynamodb", "read request units", t.reads, "RRU",
                     p["read_request_units_per_million"] / MILLION),
        ForecastLine(owner, address, "dynamodb", "write request units", t.writes, "WRU",
                     p["write_request_units_per_million"] / MILLION),
        ForecastLine(owner, address, "dynamodb", "storage", use.stored_gb, "GB-months", p["storage_gb_month"],
                     free_key="dynamodb_storage_gb"),
        ForecastLine(owner, address, "dynamodb", "point-in-time recovery", use.stored_gb, "GB-months",
                     p["pitr_gb_month"]),
    ]  # fmt: skip


def _bucket(
    owner: str, address: str, use: ResourceAssumptions, t: Traffic, prices: PriceTable, rc: ResourceConfig
) -> list[ForecastLine]:
    p = prices.services["s3"]
    return [
        ForecastLine(owner, address, "s3", "GET requests", t.reads, "requests", p["get_per_thousand"] / 1000),
        ForecastLine(
            owner, address, "s3", "PUT requests", t.writes, "requests", p["put_per_thousand"] / 1000
        ),
        ForecastLine(owner, address, "s3", "storage", use.stored_gb, "GB-months", p["storage_gb_month"]),
    ]


def _queue(
    owner: str, address: str, use: ResourceAssumptions, t: Traffic, prices: PriceTable, rc: ResourceConfig
) -> list[ForecastLine]:
    # each message is sent, received and deleted: 3 requests; an agent's own reads are receives
    requests = 3 * (t.writes + t.triggered) + t.reads
    usd = prices.price("sqs", "requests_per_million") / MILLION
    return [
        ForecastLine(owner, address, "sqs", "requests", requests, "requests", usd, free_key="sqs_requests")
    ]


def _topic(
    owner: str, address: str, use: ResourceAssumptions, t: Traffic, prices: PriceTable, rc: ResourceConfig
) -> list[ForecastLine]:
    publishes = t.writes + t.triggered
    return [
        ForecastLine(owner, address, "sns", "publishes", publishes, "requests",
                     prices.price("sns", "publishes_per_million") / MILLION, free_key="sns_publishes"),
        # the topic is encrypted with the AWS-managed key: one KMS request per publish
        ForecastLine(owner, address, "kms", "requests (alias/aws/sns)", publishes, "requests",
                     prices.price("kms", "requests_per_10k") / 10_000),
    ]  # fmt: skip


def _secret(
    owner: str, address: str, use: ResourceAssumptions, t: Traffic, prices: PriceTable, rc: ResourceConfig
) -> list[ForecastLine]:
    return [
        ForecastLine(owner, address, "secretsmanager", "secret", 1, "secret-months",
                     prices.price("secretsmanager", "secret_month")),
        ForecastLine(owner, address, "secretsmanager", "API calls", t.reads, "requests",
                     prices.price("secretsmanager", "api_calls_per_10k") / 10_000),
    ]  # fmt: skip


def _parameter(
    owner: str, address: str, use: ResourceAssumptions, t: Traffic, prices: PriceTable, rc: ResourceConfig
) -> list[ForecastLine]:
    lines = [
        ForecastLine(owner, address, "ssm", "standard parameter", 1, "parameter-months",
                     prices.price("ssm", "standard_parameter_month")),
    ]  # fmt: skip
    if rc.secure:  # a SecureString is decrypted with the AWS-managed key on each read
        lines.append(
            ForecastLine(owner, address, "kms", "requests (alias/aws/ssm)", t.reads, "requests",
                         prices.price("kms", "requests_per_10k") / 10_000)
        )  # fmt: skip
    return lines


PRICERS = {
    "table": _table,
    "bucket": _bucket,
    "queue": _queue,
    "topic": _topic,
    "secret": _secret,
    "parameter": _parameter,
}
