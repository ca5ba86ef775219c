"""`budget:` of an environment → one AWS Budgets budget (``shared.budget``) with its alerts."""

from __future__ import annotations

from strands_deploy.providers.anomaly_alerts import AnomalyAlertsProps
from strands_deploy.providers.budget import BudgetProps
from strands_deploy.synth.context import SynthContext
from strands_deploy.synth.graph import Resource
from strands_deploy.synth.naming import physical_name
from strands_deploy.synth.props import build

BUDGET = "shared.budget"
ANOMALY_ALERTS = "shared.anomaly-alerts"


def synth_budget(ctx: SynthContext) -> None:
    env = ctx.project.config.environments.get(ctx.env)
    budget = env.budget if env is not None else None
    if budget is None:
        return
    subscribers = [
        {"type": "EMAIL", "address": n.email} if n.email else {"type": "SNS", "address": str(n.sns)}
        for n in budget.notify
    ]
    props = build(
        BudgetProps,
        name=physical_name(ctx.project.name, ctx.env, "monthly", "budget"),
        limit_usd=float(budget.monthly_usd),
        alert_at=list(budget.alert_at),
        subscribers=subscribers,
    )
    ctx.graph.add(Resource(BUDGET, "aws.budgets.budget", props))
    if budget.anomaly_alerts:
        alerts = build(
            AnomalyAlertsProps,
            name=physical_name(ctx.project.name, ctx.env, "anomalies", "budget"),
            threshold_usd=float(budget.anomaly_threshold_usd),
            subscribers=subscribers,
            tags=ctx.tags(),
        )
        ctx.graph.add(Resource(ANOMALY_ALERTS, "aws.ce.anomaly_alerts", alerts))
