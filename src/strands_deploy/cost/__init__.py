"""Cost: price tables, a monthly forecast from the graph and usage assumptions, the monthly
change a plan makes, budgets, and actual cost from the runtime's per-request logs.

Pure apart from reading price tables: AWS is reached by the callers in ``services`` (the
Price List API, CloudWatch Logs), which hand plain data in.
"""

from __future__ import annotations

from strands_deploy.cost.budget import budget_check
from strands_deploy.cost.delta import CostDelta, plan_delta
from strands_deploy.cost.forecast import Forecast, ForecastLine, forecast
from strands_deploy.cost.prices import PriceTable, load_prices

__all__ = [
    "CostDelta",
    "Forecast",
    "ForecastLine",
    "PriceTable",
    "budget_check",
    "forecast",
    "load_prices",
    "plan_delta",
]
