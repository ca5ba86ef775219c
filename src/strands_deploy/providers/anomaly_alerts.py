"""aws.ce.anomaly_alerts: a Cost Anomaly Detection monitor (by AWS service) with one subscription
that alerts the budget's recipients of an anomaly whose impact reaches ``threshold_usd``.

Physical id: the monitor's ARN; the subscription's ARN is an output. Both carry ``name`` (the
subscription as ``<name>-alerts``), by which ``find`` adopts what an interrupted create left. Email
recipients get a DAILY summary; with SNS topics only, alerts are IMMEDIATE (Cost Explorer accepts
SNS subscribers only for IMMEDIATE alerts, and email only for DAILY or WEEKLY).
"""

from __future__ import annotations

from typing import Any, ClassVar

from strands_deploy.aws.errors import AwsCallError, call
from strands_deploy.providers._common import require
from strands_deploy.providers.base import Created, Outputs, Props, PropsModel, Provider, ProviderContext
from strands_deploy.providers.budget import Subscriber

UNKNOWN = ("UnknownMonitorException", "UnknownSubscriptionException")


class AnomalyAlertsProps(PropsModel):
    name: str
    threshold_usd: float = 10.0
    subscribers: list[Subscriber] = []
    tags: dict[str, str] = {}


def _ce(ctx: ProviderContext) -> Any:
    factory: Any = ctx.client  # no boto3-stubs overload for "ce" in aws.session.ClientFactory
    return factory("ce")


def _or_none(address: str, client: Any, method: str, **kwargs: Any) -> Any | None:
    try:
        return call(address, client, method, **kwargs)
    except AwsCallError as err:
        if err.code in UNKNOWN:
            return None
        raise


def _subscription_body(p: AnomalyAlertsProps) -> dict[str, Any]:
    emails = [s for s in p.subscribers if s.type == "EMAIL"]
    chosen = emails or list(p.subscribers)
    return {
        "Subscribers": [{"Address": s.address, "Type": s.type} for s in chosen],
        "Frequency": "DAILY" if emails else "IMMEDIATE",
        "ThresholdExpression": {
            "Dimensions": {
                "Key": "ANOMALY_TOTAL_IMPACT_ABSOLUTE",
                "MatchOptions": ["GREATER_THAN_OR_EQUAL"],
                "Values": [f"{p.threshold_usd:g}"],
            }
        },
    }


class AnomalyAlertsProvider(Provider):
    type_name: ClassVar[str] = "aws.ce.anomaly_alerts"
    props_model: ClassVar[type[PropsModel]] = AnomalyAlertsProps
    replace_on: ClassVar[frozenset[str]] = frozenset({"name"})

    def create(self, ctx: ProviderContext, address: str, props: Props) -> Created:
        p = AnomalyAlertsProps.parse(props, address)
        ce = _ce(ctx)
        monitor = self._monitor_named(ctx, address, p.name)
        arn = str(monitor["MonitorArn"]) if monitor else None
        if arn is None:
            resp = call(
                address,
                ce,
                "create_anomaly_monitor",
                resource_name=p.name,
                AnomalyMonitor={
                    "MonitorName": p.name,
                    "MonitorType": "DIMENSIONAL",
                    "MonitorDimension": "SERVICE",
                },
                ResourceTags=[{"Key": k, "Value": v} for k, v in sorted(p.tags.items())],
            )
            arn = str(resp["MonitorArn"])
        if p.subscribers and self._subscription(ctx, address, arn) is None:
            body = {"SubscriptionName": f"{p.name}-alerts", "MonitorArnList": [arn], **_subscription_body(p)}
            call(address, ce, "create_anomaly_subscription", AnomalySubscription=body)
        return Created(
            arn, require(self.read(ctx, address, arn, props), address, f"anomaly monitor {p.name}")
        )

    def _monitor_named(self, ctx: ProviderContext, address: str, name: str) -> dict[str, Any] | None:
        resp = call(address, _ce(ctx), "get_anomaly_monitors")
        return next((m for m in resp.get("AnomalyMonitors", []) if m.get("MonitorName") == name), None)

    def _subscription(self, ctx: ProviderContext, address: str, monitor_arn: str) -> dict[str, Any] | None:
        resp = _or_none(address, _ce(ctx), "get_anomaly_subscriptions", MonitorArn=monitor_arn) or {}
        subs: list[dict[str, Any]] = resp.get("AnomalySubscriptions", [])
        return subs[0] if subs else None

    def read(self, ctx: ProviderContext, address: str, physical_id: str, props: Props) -> Outputs | None:
        resp = _or_none(address, _ce(ctx), "get_anomaly_monitors", MonitorArnList=[physical_id])
        monitors = (resp or {}).get("AnomalyMonitors", [])
        if not monitors:
            return None
        name = str(monitors[0].get("MonitorName"))
        sub = self._subscription(ctx, address, physical_id)
        observed: dict[str, Any] = {"name": name}
        outputs: Outputs = {"arn": physical_id, "name": name, "subscription_arn": None, "observed": observed}
        if sub is not None:
            outputs["subscription_arn"] = sub["SubscriptionArn"]
            values = (((sub.get("ThresholdExpression") or {}).get("Dimensions") or {}).get("Values")) or []
            observed["threshold_usd"] = float(values[0]) if values else None
        return outputs

    def update(
        self,
        ctx: ProviderContext,
        address: str,
        physical_id: str,
        old: Props,
        new: Props,
        outputs: Outputs,
    ) -> Outputs:
        p = AnomalyAlertsProps.parse(new, address)
        ce = _ce(ctx)
        sub = self._subscription(ctx, address, physical_id)
        if sub is not None and not p.subscribers:
            _or_none(address, ce, "delete_anomaly_subscription", SubscriptionArn=sub["SubscriptionArn"])
        elif sub is not None:
            call(
                address,
                ce,
                "update_anomaly_subscription",
                SubscriptionArn=sub["SubscriptionArn"],
                **_subscription_body(p),
            )
        elif p.subscribers:
            body = {
                "SubscriptionName": f"{p.name}-alerts",
                "MonitorArnList": [physical_id],
                **_subscription_body(p),
            }
            call(address, ce, "create_anomaly_subscription", AnomalySubscription=body)
        return require(self.read(ctx, address, physical_id, new), address, f"anomaly monitor {p.name}")

    def delete(
        self, ctx: ProviderContext, address: str, physical_id: str, props: Props, outputs: Outputs
    ) -> None:
        sub = self._subscription(ctx, address, physical_id)
        if sub is not None:
            _or_none(address, _ce(ctx), "delete_anomaly_subscription", SubscriptionArn=sub["SubscriptionArn"])
        _or_none(address, _ce(ctx), "delete_anomaly_monitor", MonitorArn=physical_id)

    def find(self, ctx: ProviderContext, address: str, props: Props) -> Created | None:
        p = AnomalyAlertsProps.parse(props, address)
        monitor = self._monitor_named(ctx, address, p.name)
        if monitor is None:
            return None
        arn = str(monitor["MonitorArn"])
        outputs = self.read(ctx, address, arn, props)
        return Created(arn, outputs) if outputs is not None else None

    def drift(self, props: Props, live: Outputs) -> dict[str, tuple[Any, Any]]:
        p = AnomalyAlertsProps.parse_recorded(props)
        have = live.get("observed", {}).get("threshold_usd")
        if p.subscribers and have is not None and abs(float(have) - p.threshold_usd) >= 0.005:
            return {"threshold_usd": (have, p.threshold_usd)}
        return {}
