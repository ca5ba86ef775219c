"""aws.cloudwatch.alarm: a metric alarm. PutMetricAlarm both creates and updates it.

PutMetricAlarm ignores tags when the alarm already exists, so tag changes go through
TagResource/UntagResource. Optional ``alarm_actions`` / ``ok_actions`` (lists of ARNs, e.g. an
SNS topic) are passed through.
"""

from __future__ import annotations

from typing import Any, ClassVar

from strands_deploy.aws.errors import call, call_or_none
from strands_deploy.providers._common import owned, require, tag_changes, tag_dict, tag_list, tags_of
from strands_deploy.providers.base import Created, Outputs, Props, Provider, ProviderContext

SETTINGS = (
    "namespace",
    "metric_name",
    "dimensions",
    "statistic",
    "period",
    "evaluation_periods",
    "threshold",
    "comparison",
    "treat_missing_data",
    "alarm_actions",
    "ok_actions",
    "description",
)


def _params(props: Props) -> dict[str, Any]:
    params: dict[str, Any] = {
        "AlarmName": str(props["name"]),
        "Namespace": str(props["namespace"]),
        "MetricName": str(props["metric_name"]),
        "Dimensions": [
            {"Name": str(k), "Value": str(v)} for k, v in sorted((props.get("dimensions") or {}).items())
        ],
        "Statistic": str(props.get("statistic") or "Sum"),
        "Period": int(props.get("period") or 300),
        "EvaluationPeriods": int(props.get("evaluation_periods") or 1),
        "Threshold": float(props["threshold"]),
        "ComparisonOperator": str(props.get("comparison") or "GreaterThanOrEqualToThreshold"),
        "TreatMissingData": str(props.get("treat_missing_data") or "notBreaching"),
        "ActionsEnabled": True,
        "AlarmActions": [str(a) for a in props.get("alarm_actions") or []],
        "OKActions": [str(a) for a in props.get("ok_actions") or []],
    }
    if props.get("description"):
        params["AlarmDescription"] = str(props["description"])
    return params


class AlarmProvider(Provider):
    type_name: ClassVar[str] = "aws.cloudwatch.alarm"
    expected_seconds: ClassVar[float] = 0.15
    max_in_flight: ClassVar[int | None] = 2  # PutMetricAlarm: 3 calls/s per account
    replace_on: ClassVar[frozenset[str]] = frozenset({"name"})

    def create(self, ctx: ProviderContext, address: str, props: Props) -> Created:
        params = _params(props)
        tags = tags_of(props)
        if tags:
            params["Tags"] = tag_list(tags)
        call(address, ctx.client("cloudwatch"), "put_metric_alarm", **params)
        name = str(props["name"])
        return Created(name, require(self.read(ctx, address, name, props), address, f"alarm {name}"))

    def read(self, ctx: ProviderContext, address: str, physical_id: str, props: Props) -> Outputs | None:
        cw = ctx.client("cloudwatch")
        resp = call_or_none(
            address, cw, "describe_alarms", AlarmNames=[physical_id], AlarmTypes=["MetricAlarm"]
        )
        alarms = [a for a in (resp or {}).get("MetricAlarms", []) if a.get("AlarmName") == physical_id]
        if not alarms:
            return None
        alarm = alarms[0]
        tags_resp = call_or_none(address, cw, "list_tags_for_resource", ResourceARN=alarm["AlarmArn"])
        return _outputs(alarm, tag_dict((tags_resp or {}).get("Tags")))

    batch_reads: ClassVar[bool] = True

    def read_many(
        self, ctx: ProviderContext, items: list[tuple[str, str, Props]]
    ) -> dict[str, Outputs | None]:
        """One DescribeAlarms per 100 alarms instead of two calls per alarm: refreshing 100 agents'
        300 alarms one by one took 33 s under CloudWatch's 9 calls/s quota. Tags are not read
        here (drift of tags on alarms is not detected by a refresh)."""
        cw = ctx.client("cloudwatch")
        found: dict[str, dict[str, Any]] = {}
        names = [pid for _, pid, _ in items]
        for i in range(0, len(names), 100):
            chunk = names[i : i + 100]
            token: str | None = None
            while True:
                kwargs: dict[str, Any] = {
                    "AlarmNames": chunk,
                    "AlarmTypes": ["MetricAlarm"],
                    "MaxRecords": 100,
                }
                if token:
                    kwargs["NextToken"] = token
                resp = call(items[0][0], cw, "describe_alarms", **kwargs)
                for alarm in resp.get("MetricAlarms", []):
                    found[alarm["AlarmName"]] = alarm
                token = resp.get("NextToken")
                if not token:
                    break
        return {address: (_outputs(found[pid], None) if pid in found else None) for address, pid, _ in items}

    def update(
        self,
        ctx: ProviderContext,
        address: str,
        physical_id: str,
        old: Props,
        new: Props,
        outputs: Outputs,
    ) -> Outputs:
        cw = ctx.client("cloudwatch")
        if any(old.get(k) != new.get(k) for k in SETTINGS):
            call(address, cw, "put_metric_alarm", **_params(new))
        to_set, to_remove = tag_changes(tags_of(old), tags_of(new))
        arn = str(outputs.get("arn") or "")
        if (to_set or to_remove) and not arn:
            arn = str(require(self.read(ctx, address, physical_id, new), address, physical_id)["arn"])
        if to_set:
            call(address, cw, "tag_resource", ResourceARN=arn, Tags=tag_list(to_set))
        if to_remove:
            call(address, cw, "untag_resource", ResourceARN=arn, TagKeys=to_remove)
        return require(self.read(ctx, address, physical_id, new), address, f"alarm {physical_id}")

    def delete(
        self, ctx: ProviderContext, address: str, physical_id: str, props: Props, outputs: Outputs
    ) -> None:
        # DeleteAlarms succeeds for names that do not exist.
        call_or_none(address, ctx.client("cloudwatch"), "delete_alarms", AlarmNames=[physical_id])

    def find(self, ctx: ProviderContext, address: str, props: Props) -> Created | None:
        name = str(props["name"])
        outputs = self.read(ctx, address, name, props)
        if outputs is None or not owned(ctx, props, outputs["observed"]["tags"]):
            return None
        return Created(name, outputs)

    def drift(self, props: Props, live: Outputs) -> dict[str, tuple[Any, Any]]:
        want = dict(props)
        if "threshold" in props:
            want["threshold"] = float(props["threshold"])
        want["dimensions"] = {str(k): str(v) for k, v in (props.get("dimensions") or {}).items()}
        return super().drift(want, live)


def _outputs(alarm: dict[str, Any], tags: dict[str, str] | None) -> Outputs:
    observed: dict[str, Any] = {
        "name": alarm["AlarmName"],
        "namespace": alarm.get("Namespace"),
        "metric_name": alarm.get("MetricName"),
        "dimensions": {d["Name"]: d["Value"] for d in alarm.get("Dimensions") or []},
        "statistic": alarm.get("Statistic"),
        "period": alarm.get("Period"),
        "evaluation_periods": alarm.get("EvaluationPeriods"),
        "threshold": alarm.get("Threshold"),
        "comparison": alarm.get("ComparisonOperator"),
        "treat_missing_data": alarm.get("TreatMissingData"),
        "alarm_actions": list(alarm.get("AlarmActions") or []),
        "ok_actions": list(alarm.get("OKActions") or []),
    }
    if tags is not None:
        observed["tags"] = tags
    return {"arn": alarm["AlarmArn"], "name": alarm["AlarmName"], "observed": observed}
