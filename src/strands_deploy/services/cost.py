"""Cost wiring (the logic lives in ``strands_deploy.cost``): forecasts, plan deltas, budgets,
actual cost, price updates; and the offline graph `cost` and `check` share."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from strands_deploy.aws.session import AwsContext, AwsSettings
from strands_deploy.errors import StrandsDeployError
from strands_deploy.services import Services
from strands_deploy.state.model import State

if TYPE_CHECKING:
    from strands_deploy.synth.graph import Graph


# --- cost (issue 17): thin wiring; the logic is in strands_deploy.cost ---

OFFLINE_ACCOUNT = "000000000000"  # names resources in an offline graph when the account is not known


def offline_graph(services: Services, agents: list[str] | None = None) -> Graph:
    """The graph `cost` prices and `check` reviews, synthesized without AWS: no credentials or
    secret values are needed (names use the known or configured account, or a placeholder;
    secret values are never read)."""
    from strands_deploy.synth import synthesize

    return synthesize(
        services.project,
        services.env_name,
        target=services.target,
        account=services._account or services.env.account or OFFLINE_ACCOUNT,
        secret_value=lambda source: "",
        fingerprint_key=b"\0" * 32,
        agents=agents,
    )


def cost_graph(services: Services) -> Graph:
    return offline_graph(services)


def cost_prices(services: Services, path: Path | None = None) -> Any:
    from strands_deploy.cost.prices import load_prices

    return load_prices(services.region, path)


def cost_forecast(
    services: Services,
    *,
    free_tier: bool = False,
    from_usage_seconds: float | None = None,
    graph: Graph | None = None,
) -> Any:
    """The monthly forecast of the environment (``cost``); ``from_usage_seconds``: replace the
    assumptions of agents with traffic in that window by measured figures (``--from-usage 7d``)."""
    from strands_deploy.cost import forecast
    from strands_deploy.cost.measured import measured_assumptions
    from strands_deploy.cost.usage import agent_assumptions

    graph = graph or cost_graph(services)
    prices = cost_prices(services)
    measured = None
    if from_usage_seconds:
        actual = actual_cost(services, from_usage_seconds, graph=graph)
        base = {n: agent_assumptions(a.usage) for n, a in services.project.agents.items()}
        measured = measured_assumptions(actual, from_usage_seconds / 86400, base)
    return forecast(
        graph, services.project, services.env_name, prices, free_tier=free_tier, measured=measured
    )


def cost_plan_delta(services: Services, graph: Graph, state: State, *, free_tier: bool = False) -> Any:
    """The monthly cost change of deploying ``graph`` over ``state`` (a :class:`cost.CostDelta`)."""
    from strands_deploy.cost import plan_delta

    prices = cost_prices(services)
    return plan_delta(state, graph, services.project, services.env_name, prices, free_tier=free_tier)


def actual_cost(
    services: Services, since_seconds: float, *, now_ms: int | None = None, graph: Graph | None = None
) -> Any:
    """What each agent cost over the last ``since_seconds``, from its log group's request lines
    and its function's daily AWS/Lambda metrics (for the requests the logs miss)."""
    import time

    from strands_deploy.cost.actual import AgentSpec
    from strands_deploy.cost.actual import actual_cost as compute
    from strands_deploy.cost.metrics import DayMetrics, daily_metrics
    from strands_deploy.cost.usage import agent_assumptions
    from strands_deploy.synth.models import DEFAULT_MODEL_ID

    graph = graph or cost_graph(services)
    end = now_ms if now_ms is not None else int(time.time() * 1000)
    start = end - int(since_seconds * 1000)
    specs: dict[str, AgentSpec] = {}
    events: dict[str, list[dict[str, Any]]] = {}
    metrics: dict[str, dict[str, DayMetrics]] = {}
    for fn in graph:
        if fn.type != "aws.lambda.function" or fn.address != f"agent.{fn.agent}.function":
            continue
        agent, env_vars = str(fn.agent), fn.props.get("environment") or {}
        usage = services.project.agents[agent].usage if agent in services.project.agents else None
        model = (usage.model if usage else None) or env_vars.get("STRANDS_MODEL_ID") or DEFAULT_MODEL_ID
        assumed = agent_assumptions(usage)
        specs[agent] = AgentSpec(
            agent, model, int(fn.props["memory"]), str(fn.props.get("architecture")),
            {"input": assumed.input_tokens, "output": assumed.output_tokens},
        )  # fmt: skip
        group = graph.resources[f"agent.{agent}.logs"].props["name"]
        events[agent] = _cost_events(services, agent, str(group), start, end)
        metrics[agent] = daily_metrics(
            services.aws.client("cloudwatch"), fn.address, str(fn.props["name"]), start / 1000, end / 1000
        )
    since = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(start / 1000))
    return compute(events, specs, cost_prices(services), since, metrics)


def _cost_events(services: Services, agent: str, group: str, start: int, end: int) -> list[dict[str, Any]]:
    """The request and REPORT lines of one log group ([] when it does not exist yet)."""
    from strands_deploy.aws.errors import _aws_errors, error_code, to_deploy_error
    from strands_deploy.operate.logs import fetch

    client = services.aws.client("logs")
    out: list[dict[str, Any]] = []
    for pattern in ('{ $.msg = "request" }', '"REPORT RequestId"'):
        try:
            out += list(fetch(client, group, start, pattern, end))
        except _aws_errors() as err:
            if error_code(err) == "ResourceNotFoundException":
                return []
            raise to_deploy_error(err, f"agent.{agent}.logs", "logs:FilterLogEvents") from err
    return sorted(out, key=lambda e: int(e.get("timestamp", 0)))


def update_prices(services: Services) -> tuple[Path, list[str]]:
    """`cost prices update`: read the Price List API, write the user's table; (its path, prices
    that could not be found and were kept from the current table)."""
    from strands_deploy.aws.price_list import PRICING_REGION, fetch_prices
    from strands_deploy.cost.prices import read_document, write_user_table
    from strands_deploy.cost.update import updated_document

    if services.env.endpoint or services.is_local:
        raise StrandsDeployError(
            "the Price List API is not emulated: prices can only be read from AWS",
            f"environment {services.env_name}",
            "run `strands-deploy cost prices update --env <an AWS environment>`",
        )
    aws = AwsContext(AwsSettings(region=PRICING_REGION, profile=services.env.profile))
    factory: Any = aws.client  # no boto3-stubs overload for "pricing"
    found, missing = fetch_prices(factory("pricing"), services.region)
    current, _ = read_document()
    return write_user_table(updated_document(current, services.region, found)), missing
