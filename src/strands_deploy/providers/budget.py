"""aws.budgets.budget: an AWS Budgets cost budget with one notification per alert threshold.

Physical id: the budget's name (unique per account). The budget watches the account's whole
monthly cost: Bedrock on-demand token charges carry no resource tags, so a tag filter would miss
the largest part of an agent's cost (docs/cost.md). Each notification is an ACTUAL cost above a
percentage of the limit, sent to every subscriber; a notification whose subscribers change is
deleted and created again (Budgets keys notifications by type, comparison and threshold).

A new limit is one UpdateBudget on AWS (the budget keeps its history). Emulators (moto, and so the
local cloud) have no UpdateBudget: there the budget is deleted and created again with its alerts.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict

from strands_deploy.aws.errors import call, call_or_none, ignore_not_found
from strands_deploy.providers._common import require
from strands_deploy.providers.base import Created, Outputs, Props, PropsModel, Provider, ProviderContext


class Subscriber(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["EMAIL", "SNS"]
    address: str


class BudgetProps(PropsModel):
    name: str
    limit_usd: float
    alert_at: list[float] = []  # percent of the limit (actual cost)
    subscribers: list[Subscriber] = []


def _amount(value: float) -> str:
    return f"{value:.2f}"


def _notification(pct: float) -> dict[str, Any]:
    return {
        "NotificationType": "ACTUAL",
        "ComparisonOperator": "GREATER_THAN",
        "Threshold": float(pct),
        "ThresholdType": "PERCENTAGE",
    }


def _subscribers(p: BudgetProps) -> list[dict[str, str]]:
    return [{"SubscriptionType": s.type, "Address": s.address} for s in p.subscribers]


def _budgets(ctx: ProviderContext) -> Any:
    # no boto3-stubs overload for "budgets" in aws.session.ClientFactory: typed as Any here
    factory: Any = ctx.client
    return factory("budgets")


class BudgetProvider(Provider):
    type_name: ClassVar[str] = "aws.budgets.budget"
    props_model: ClassVar[type[PropsModel]] = BudgetProps
    replace_on: ClassVar[frozenset[str]] = frozenset({"name"})
    stable_outputs: ClassVar[frozenset[str]] = frozenset({"name"})

    def create(self, ctx: ProviderContext, address: str, props: Props) -> Created:
        p = BudgetProps.parse(props, address)
        budget = {
            "BudgetName": p.name,
            "BudgetLimit": {"Amount": _amount(p.limit_usd), "Unit": "USD"},
            "TimeUnit": "MONTHLY",
            "BudgetType": "COST",
        }
        notes = [{"Notification": _notification(pct), "Subscribers": _subscribers(p)} for pct in p.alert_at]
        kwargs: dict[str, Any] = {"AccountId": ctx.aws.account_id(), "Budget": budget}
        if notes and p.subscribers:
            kwargs["NotificationsWithSubscribers"] = notes
        call(address, _budgets(ctx), "create_budget", resource_name=p.name, **kwargs)
        return Created(p.name, require(self.read(ctx, address, p.name, props), address, f"budget {p.name}"))

    def read(self, ctx: ProviderContext, address: str, physical_id: str, props: Props) -> Outputs | None:
        budgets = _budgets(ctx)
        account = ctx.aws.account_id()
        resp = call_or_none(address, budgets, "describe_budget", AccountId=account, BudgetName=physical_id)
        if resp is None:
            return None
        limit = resp["Budget"].get("BudgetLimit") or {}
        notes = call_or_none(
            address, budgets, "describe_notifications_for_budget", AccountId=account, BudgetName=physical_id
        )
        thresholds = sorted(
            float(n["Threshold"])
            for n in (notes or {}).get("Notifications", [])
            if n.get("NotificationType") == "ACTUAL" and n.get("ThresholdType", "PERCENTAGE") == "PERCENTAGE"
        )
        return {
            "name": physical_id,
            "observed": {
                "name": physical_id,
                "limit_usd": float(limit.get("Amount", 0)),
                "alert_at": thresholds,
            },
        }

    def update(
        self,
        ctx: ProviderContext,
        address: str,
        physical_id: str,
        old: Props,
        new: Props,
        outputs: Outputs,
    ) -> Outputs:
        before, after = BudgetProps.parse_recorded(old), BudgetProps.parse(new, address)
        budgets, account = _budgets(ctx), ctx.aws.account_id()
        if before.limit_usd != after.limit_usd and ctx.aws.settings.local:
            # emulators (moto) have no UpdateBudget: the budget is made again, alerts included
            ctx.progress(address, "the emulator cannot update a budget: creating it again")
            ignore_not_found(address, budgets, "delete_budget", AccountId=account, BudgetName=physical_id)
            return self.create(ctx, address, new).outputs
        if before.limit_usd != after.limit_usd:
            call(
                address,
                budgets,
                "update_budget",
                AccountId=account,
                NewBudget={
                    "BudgetName": physical_id,
                    "BudgetLimit": {"Amount": _amount(after.limit_usd), "Unit": "USD"},
                    "TimeUnit": "MONTHLY",
                    "BudgetType": "COST",
                },
            )
        live = set((self.read(ctx, address, physical_id, new) or {}).get("observed", {}).get("alert_at", []))
        same_subscribers = before.subscribers == after.subscribers
        for pct in sorted(live):
            if pct not in after.alert_at or not same_subscribers or not after.subscribers:
                ignore_not_found(
                    address, budgets, "delete_notification",
                    AccountId=account, BudgetName=physical_id, Notification=_notification(pct),
                )  # fmt: skip
                live.discard(pct)
        for pct in after.alert_at:
            if pct not in live and after.subscribers:
                call(
                    address, budgets, "create_notification",
                    AccountId=account, BudgetName=physical_id,
                    Notification=_notification(pct), Subscribers=_subscribers(after),
                )  # fmt: skip
        return require(self.read(ctx, address, physical_id, new), address, f"budget {physical_id}")

    def delete(
        self, ctx: ProviderContext, address: str, physical_id: str, props: Props, outputs: Outputs
    ) -> None:
        ignore_not_found(
            address,
            _budgets(ctx),
            "delete_budget",
            AccountId=ctx.aws.account_id(),
            BudgetName=physical_id,
        )

    def drift(self, props: Props, live: Outputs) -> dict[str, tuple[Any, Any]]:
        p = BudgetProps.parse_recorded(props)
        observed = live.get("observed", {})
        out: dict[str, tuple[Any, Any]] = {}
        if observed.get("limit_usd") is not None and abs(float(observed["limit_usd"]) - p.limit_usd) >= 0.005:
            out["limit_usd"] = (observed["limit_usd"], p.limit_usd)
        want = sorted(p.alert_at) if p.subscribers else []
        if "alert_at" in observed and sorted(observed["alert_at"]) != want:
            out["alert_at"] = (observed["alert_at"], p.alert_at)
        return out
