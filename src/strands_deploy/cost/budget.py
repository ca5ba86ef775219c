"""A plan whose forecast exceeds the environment's budget is refused (unless ``--accept-cost``)."""

from __future__ import annotations

from strands_deploy.config.schema import EnvironmentConfig
from strands_deploy.cost.delta import money
from strands_deploy.cost.forecast import Forecast
from strands_deploy.errors import StrandsDeployError


def budget_check(fc: Forecast, env: EnvironmentConfig | None) -> StrandsDeployError | None:
    """The refusal when ``fc`` exceeds ``env.budget.monthly_usd``; None when within it (or no budget)."""
    budget = env.budget if env is not None else None
    if budget is None or fc.total <= budget.monthly_usd:
        return None
    over = fc.total - budget.monthly_usd
    top = sorted(fc.by_owner().items(), key=lambda kv: -kv[1])[:3]
    biggest = ", ".join(f"{owner} {money(usd)}" for owner, usd in top)
    return StrandsDeployError(
        f"the forecast of {money(fc.total)}/month exceeds the budget of {money(budget.monthly_usd)}/month "
        f"by {money(over)} ({fc.total / budget.monthly_usd:.0%} of it; largest: {biggest}; "
        f"{fc.prices.describe()})",
        where=f"environments.{fc.environment}.budget",
        fix='lower the usage or model cost, raise `budget.monthly_usd`, or deploy with --accept-cost "reason"',
    )
