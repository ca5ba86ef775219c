"""aws.cloudwatch.alarm: a metric alarm. PutMetricAlarm both creates and updates it.

PutMetricAlarm ignores tags when the alarm already exists, so tag changes go through
TagResource/UntagResource. Optional ``alarm_actions`` / ``ok_actions`` (lists of ARNs, e.g. an
SNS topic) are passed through.

``read_many`` (refresh) describes 100 alarms per call and reads their tags through the Resource
Groups Tagging API (GetResources, 100 ARNs per call) rather than one ListTagsForResource each.
"""

from __future__ import annotations

from typing import Any, ClassVar

from strands_deploy.aws.arns import partition_for
from strands_deploy.aws.errors import AwsCallError, call, call_or_none
from strands_deploy.providers._common import owned, paginate, require, tag_changes, tag_dict, tag_list
from strands_deploy.providers.base import Created, Outputs, Props, PropsModel, Provider, ProviderContext


class AlarmProps(PropsModel):
    name: str
    namespace: str
    metric_name: str
    dimensions: dict[str, str] = {}
    statistic: str = "Sum"
    period: int = 300
    evaluation_periods: int = 1
    threshold: float
    comparison: str = "GreaterThanOrEqualToThreshold"
    treat_missing_data: str = "notBreaching"
    alarm_actions: list[str] = []
    ok_actions: list[str] = []
    description: str | None = None
    tags: dict[str, str] = {}


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


def _params(p: AlarmProps) -> dict[str, Any]:
    params: dict[str, Any] = {
        "AlarmName": p.name,
        "Namespace": p.namespace,
        "MetricName": p.metric_name,
        "Dimensions": [{"Name": k, "Value": v} for k, v in sorted(p.dimensions.items())],
        "Statistic": p.statistic,
        "Period": p.period,
        "EvaluationPeriods": p.evaluation_periods,
        "Threshold": p.threshold,
        "ComparisonOperator": p.comparison,
        "TreatMissingData": p.treat_missing_data,
        "ActionsEnabled": True,
        "AlarmActions": list(p.alarm_actions),
        "OKActions": list(p.ok_actions),
    }
    if p.description:
        params["AlarmDescription"] = p.description
    return params


class AlarmProvider(Provider):
    type_name: ClassVar[str] = "aws.cloudwatch.alarm"
    props_model: ClassVar[type[PropsModel]] = AlarmProps
    expected_seconds: ClassVar[float] = 0.15
    max_in_flight: ClassVar[int | None] = 2  # PutMetricAlarm: 3 calls/s per account
    calls_per_second: ClassVar[float | None] = 3.0
    replace_on: ClassVar[frozenset[str]] = frozenset({"name"})

    def create(self, ctx: ProviderContext, address: str, props: Props) -> Created:
        p = AlarmProps.parse(props, address)
        params = _params(p)
        if p.tags:  # in the create call itself
            params["Tags"] = tag_list(p.tags)
        call(address, ctx.client("cloudwatch"), "put_metric_alarm", **params)
        name = p.name
        # outputs from what was sent: no read-back (DescribeAlarms has a 9 calls/s quota)
        region = ctx.aws.region
        arn = f"arn:{partition_for(region)}:cloudwatch:{region}:{ctx.account_id()}:alarm:{name}"
        alarm = {**params, "AlarmName": name, "AlarmArn": arn}
        return Created(name, _outputs(alarm, dict(p.tags)))

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
        300 alarms one by one took 33 s under CloudWatch's 9 calls/s quota. Tags come from one
        GetResources per 100 alarms; where that API is denied, tags are left out (as before)."""
        if not items:
            return {}
        found = self._describe_many(ctx, items)
        tags = self._tags_of_many(ctx, items[0][0], [str(a["AlarmArn"]) for a in found.values()])
        return {
            address: (
                _outputs(found[pid], None if tags is None else tags.get(found[pid]["AlarmArn"], {}))
                if pid in found
                else None
            )
            for address, pid, _ in items
        }

    def check_many(
        self, ctx: ProviderContext, items: list[tuple[str, str, Props]]
    ) -> dict[str, Outputs | None] | None:
        """DescribeAlarms, 100 names a call, without the tags (which a deploy does not check)."""
        found = self._describe_many(ctx, items)
        return {address: _outputs(found[pid], None) if pid in found else None for address, pid, _ in items}

    def _describe_many(
        self, ctx: ProviderContext, items: list[tuple[str, str, Props]]
    ) -> dict[str, dict[str, Any]]:
        """Alarm name → DescribeAlarms entry, for the alarms of ``items`` that exist."""
        found: dict[str, dict[str, Any]] = {}
        if not items:
            return found
        cw = ctx.client("cloudwatch")
        names = [pid for _, pid, _ in items]

        def batch(chunk: list[str]) -> list[dict[str, Any]]:
            pages = paginate(
                items[0][0],
                cw,
                "describe_alarms",
                AlarmNames=chunk,
                AlarmTypes=["MetricAlarm"],
                PaginationConfig={"PageSize": 100},
            )
            return [alarm for page in pages for alarm in page.get("MetricAlarms", [])]

        from concurrent.futures import ThreadPoolExecutor

        chunks = [names[i : i + 100] for i in range(0, len(names), 100)]
        # a few batches at once (DescribeAlarms allows 9 calls a second; the pacer keeps to it)
        with ThreadPoolExecutor(max_workers=min(4, len(chunks))) as pool:
            for alarms in pool.map(batch, chunks):
                found.update({alarm["AlarmName"]: alarm for alarm in alarms})
        return found

    def _tags_of_many(
        self, ctx: ProviderContext, address: str, arns: list[str]
    ) -> dict[str, dict[str, str]] | None:
        """Tags by alarm ARN (an alarm without tags is absent), or None when they cannot be read."""
        out: dict[str, dict[str, str]] = {}
        if not arns:
            return out
        client = ctx.client("resourcegroupstaggingapi")
        try:
            for i in range(0, len(arns), 100):
                for page in paginate(address, client, "get_resources", ResourceARNList=arns[i : i + 100]):
                    for item in page.get("ResourceTagMappingList", []):
                        out[str(item["ResourceARN"])] = tag_dict(item.get("Tags"))
        except AwsCallError:
            # tag:GetResources not granted (or the API unavailable): a refresh without alarm tags
            # is what this did before; a single `read` still reads them.
            return None
        return out

    def update(
        self,
        ctx: ProviderContext,
        address: str,
        physical_id: str,
        old: Props,
        new: Props,
        outputs: Outputs,
    ) -> Outputs:
        before, after = AlarmProps.parse_recorded(old), AlarmProps.parse(new, address)
        cw = ctx.client("cloudwatch")
        if any(getattr(before, k) != getattr(after, k) for k in SETTINGS):
            call(address, cw, "put_metric_alarm", **_params(after))
        to_set, to_remove = tag_changes(before.tags, after.tags)
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
        p = AlarmProps.parse(props, address)
        outputs = self.read(ctx, address, p.name, props)
        if outputs is None or not owned(ctx, p.tags, outputs["observed"]["tags"]):
            return None
        return Created(p.name, outputs)

    def drift(self, props: Props, live: Outputs) -> dict[str, tuple[Any, Any]]:
        p = AlarmProps.parse_recorded(props)
        want = dict(props)
        if p.threshold is not None:
            want["threshold"] = p.threshold  # a float, as CloudWatch reports it
        want["dimensions"] = dict(p.dimensions)
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
