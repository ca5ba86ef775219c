"""The lines one agent's traffic causes: model tokens, Lambda, its endpoint, logs, alarms and its
conversations in the sessions bucket (formulas in docs/cost.md)."""

from __future__ import annotations

from strands_deploy.config.schema import SESSIONS_TTL_DAYS, AgentConfig
from strands_deploy.cost.lines import GB, MILLION, ForecastLine
from strands_deploy.cost.prices import PriceTable
from strands_deploy.cost.usage import DAYS_PER_MONTH, AgentAssumptions
from strands_deploy.synth.graph import Graph, Resource

SESSIONS = "shared.sessions"
PROMPT_BYTES = 2048  # the user's message and the message metadata, per turn
BYTES_PER_TOKEN = 4
PUTS_PER_TURN = 2  # the user's message and the agent's answer, one object each


def agent_lines(
    graph: Graph,
    fn: Resource,
    cfg: AgentConfig | None,
    a: AgentAssumptions,
    prices: PriceTable,
    warnings: list[str],
    model: str,
) -> list[ForecastLine]:
    name = str(fn.agent)
    lines = _model_lines(name, fn.address, a, prices, warnings, model)
    lines += _lambda_lines(name, fn, a, prices, graph.resources.get(f"agent.{name}.provisioned"))
    lines += _endpoint_lines(graph, name, a, prices)
    lines += _log_lines(graph, name, a, prices)
    lines += _alarm_lines(graph, name, prices)
    if cfg is not None and cfg.sessions is not None and SESSIONS in graph:
        lines += session_lines(name, a, prices, cfg.sessions.ttl_days)
    return lines


def _model_lines(
    name: str, address: str, a: AgentAssumptions, prices: PriceTable, warnings: list[str], model: str
) -> list[ForecastLine]:
    owner = f"agent.{name}"
    price = prices.model_price(model)
    if price is None:
        warnings.append(
            f"agent {name!r}: model {model!r} is not in the price table: its tokens are not priced "
            "(run `strands-deploy cost prices update`, or set usage.model to a priced model)"
        )
        return []
    r = a.requests_per_month
    items = [
        ("input tokens", a.input_tokens, price.input),
        ("output tokens", a.output_tokens, price.output),
        ("cache read tokens", a.cache_read_tokens, price.cache_read),
        ("cache write tokens", a.cache_write_tokens, price.cache_write),
    ]
    return [
        ForecastLine(owner, address, "bedrock", f"{item} ({model})", r * per_request, "tokens", usd / MILLION)
        for item, per_request, usd in items
        if per_request
    ]


def provisioned_share(a: AgentAssumptions, count: int) -> float:
    """The share of requests that provisioned instances serve: all of them while the mean
    concurrency (requests a second × seconds each) is within ``count``, else ``count`` of it.
    Traffic is taken as evenly spread: peaks above ``count`` run on demand."""
    concurrency = a.requests_per_day / 86400 * a.duration_ms / 1000
    return 1.0 if concurrency <= count else count / concurrency


def _lambda_lines(
    name: str, fn: Resource, a: AgentAssumptions, prices: PriceTable, provisioned: Resource | None = None
) -> list[ForecastLine]:
    owner = f"agent.{name}"
    r = a.requests_per_month
    memory = int(fn.props.get("memory") or 1024)
    arch = str(fn.props.get("architecture") or "x86_64")
    gb_seconds = r * a.duration_ms / 1000 * memory / 1024
    extra: list[ForecastLine] = []
    if provisioned is not None:
        count = int(provisioned.props.get("count") or 0)
        share = provisioned_share(a, count)
        extra = _provisioned_lines(
            owner, provisioned.address, count, memory, arch, gb_seconds * share, prices
        )
        gb_seconds *= 1 - share
    return [
        ForecastLine(
            owner,
            fn.address,
            "lambda",
            "requests",
            r,
            "requests",
            prices.price("lambda", "requests_per_million") / MILLION,
            free_key="lambda_requests",
        ),
        ForecastLine(
            owner,
            fn.address,
            "lambda",
            f"compute ({memory} MB, {arch})",
            gb_seconds,
            "GB-seconds",
            prices.price("lambda", f"gb_second_{arch}"),
            free_key="lambda_gb_seconds",
        ),
        *extra,
    ]


def _provisioned_lines(
    owner: str, address: str, count: int, memory: int, arch: str, served_gb_s: float, prices: PriceTable
) -> list[ForecastLine]:
    """Provisioned instances are billed all month (``count`` × memory × seconds), and the
    requests they serve at the lower provisioned duration price; the free tier covers neither."""
    kept_gb_s = count * memory / 1024 * DAYS_PER_MONTH * 86400
    return [
        ForecastLine(
            owner,
            address,
            "lambda",
            f"provisioned concurrency ({count} × {memory} MB, {arch})",
            kept_gb_s,
            "GB-seconds",
            prices.price("lambda", f"provisioned_gb_second_{arch}"),
        ),
        ForecastLine(
            owner,
            address,
            "lambda",
            f"compute on provisioned instances ({memory} MB, {arch})",
            served_gb_s,
            "GB-seconds",
            prices.price("lambda", f"provisioned_duration_gb_second_{arch}"),
        ),
    ]


def _endpoint_lines(graph: Graph, name: str, a: AgentAssumptions, prices: PriceTable) -> list[ForecastLine]:
    owner, r = f"agent.{name}", a.requests_per_month
    out = []
    if f"{owner}.url" in graph:
        usd = prices.price("lambda_url", "requests_per_million") / MILLION
        out.append(ForecastLine(owner, f"{owner}.url", "lambda", "function URL requests", r, "requests", usd))
    if f"{owner}.route" in graph:
        usd = prices.price("apigateway", "http_requests_per_million") / MILLION
        out.append(
            ForecastLine(owner, f"{owner}.route", "apigateway", "HTTP API requests", r, "requests", usd)
        )
    return out


def _log_lines(graph: Graph, name: str, a: AgentAssumptions, prices: PriceTable) -> list[ForecastLine]:
    owner = f"agent.{name}"
    group = graph.resources.get(f"{owner}.logs")
    if group is None:
        return []
    ingested_gb = a.requests_per_month * a.log_kb_per_request * 1024 / GB
    retention = int(group.props.get("retention_days") or 30)
    # steady state: what `retention` days of ingestion hold (uncompressed: an upper bound)
    stored_gb = ingested_gb / 30 * retention
    return [
        ForecastLine(
            owner,
            group.address,
            "logs",
            "ingestion",
            ingested_gb,
            "GB",
            prices.price("logs", "ingestion_gb"),
            free_key="logs_gb",
        ),
        ForecastLine(
            owner,
            group.address,
            "logs",
            f"storage ({retention} days kept)",
            stored_gb,
            "GB-months",
            prices.price("logs", "storage_gb_month"),
        ),
    ]


def _alarm_lines(graph: Graph, name: str, prices: PriceTable) -> list[ForecastLine]:
    usd = prices.price("cloudwatch", "alarm_month")
    return [
        ForecastLine(
            f"agent.{name}",
            r.address,
            "cloudwatch",
            f"alarm ({r.address.rsplit('.', 1)[-1]})",
            1,
            "alarm-months",
            usd,
            free_key="alarms",
        )
        for r in sorted(graph, key=lambda r: r.address)
        if r.agent == name and r.type == "aws.cloudwatch.alarm"
    ]


def session_lines(
    name: str, a: AgentAssumptions, prices: PriceTable, ttl_days: int = SESSIONS_TTL_DAYS
) -> list[ForecastLine]:
    """A conversation is one object per message: each turn writes two and reads the history so
    far (on average ``session_turns`` objects per request); each turn adds ``turn_bytes`` that are
    kept ``ttl_days`` after they are written."""
    owner, r = f"agent.{name}", a.requests_per_month
    turn_bytes = a.output_tokens * BYTES_PER_TOKEN + PROMPT_BYTES
    stored_gb = a.requests_per_day * ttl_days * turn_bytes / GB
    return [
        ForecastLine(
            owner,
            SESSIONS,
            "s3",
            "session writes (PUT)",
            r * PUTS_PER_TURN,
            "requests",
            prices.price("s3", "put_per_thousand") / 1000,
        ),
        ForecastLine(
            owner,
            SESSIONS,
            "s3",
            "session reads (GET)",
            r * a.session_turns,
            "requests",
            prices.price("s3", "get_per_thousand") / 1000,
        ),
        ForecastLine(
            owner,
            SESSIONS,
            "s3",
            f"session storage ({ttl_days} days kept)",
            stored_gb,
            "GB-months",
            prices.price("s3", "storage_gb_month"),
        ),
    ]
