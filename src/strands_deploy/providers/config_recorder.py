"""aws.config.recorder: the region's AWS Config configuration recorder, its delivery channel, and
recording started. AWS Config rules evaluate only what a recorder records.

AWS Config allows one recorder and one delivery channel per account and region. When none exists,
this resource creates both (the recorder named ``name``, recording the ``resource_types`` the
environment deploys with the role ``role_arn``; the channel delivering to ``bucket``) and starts
recording; destroy stops and deletes exactly those (``created``, ``channel_created``).

When a recorder exists already (an organisation's baseline, Control Tower, a security team), it is
*adopted*: its recording group, role and channel are left as they are, and it is only started if
it was stopped and has a channel (``started_by_us``; destroy stops it again). Destroy never
deletes a recorder or channel it did not create. The recorder's name is the physical id.
"""

from __future__ import annotations

from typing import Any, ClassVar

from strands_deploy.aws.errors import AwsCallError, call, error_code
from strands_deploy.aws.waiters import retry_while
from strands_deploy.providers._common import require
from strands_deploy.providers.base import Created, Outputs, Props, PropsModel, Provider, ProviderContext

NO_RECORDER = ("NoSuchConfigurationRecorderException",)
NO_CHANNEL = ("NoSuchDeliveryChannelException",)
OWNERSHIP_KEYS = ("created", "channel", "channel_created", "started_by_us")


class RecorderProps(PropsModel):
    name: str
    role_arn: str  # a role Config assumes: AWS_ConfigRole + write access to the bucket
    bucket: str  # the delivery channel's S3 bucket
    resource_types: list[str] = []  # AWS::Lambda::Function...; empty: every supported type


def _config(ctx: ProviderContext) -> Any:
    factory: Any = ctx.client  # no boto3-stubs overload for "config" in aws.session.ClientFactory
    return factory("config")


def _recording_group(p: RecorderProps) -> dict[str, Any]:
    if not p.resource_types:
        return {"allSupported": True, "includeGlobalResourceTypes": False}
    return {
        "allSupported": False,
        "includeGlobalResourceTypes": False,
        "resourceTypes": sorted(p.resource_types),
    }


def _role_not_ready(err: BaseException) -> bool:
    """Config cannot use a just-created role (or its bucket policy) yet: IAM propagation."""
    return error_code(err) in ("InsufficientDeliveryPolicyException", "InvalidRoleException")


class RecorderProvider(Provider):
    type_name: ClassVar[str] = "aws.config.recorder"
    props_model: ClassVar[type[PropsModel]] = RecorderProps
    replace_on: ClassVar[frozenset[str]] = frozenset({"name"})
    stable_outputs: ClassVar[frozenset[str]] = frozenset({"name"})
    expected_seconds: ClassVar[float] = 2.0

    def create(self, ctx: ProviderContext, address: str, props: Props) -> Created:
        p = RecorderProps.parse(props, address)
        recorders = self._recorders(ctx, address)
        if recorders and recorders[0]["name"] != p.name:
            return self._adopt(ctx, address, str(recorders[0]["name"]), start=True)
        self._put_recorder(ctx, address, p)
        channels = call(address, _config(ctx), "describe_delivery_channels").get("DeliveryChannels") or []
        channel_created = not channels
        channel = str(channels[0]["name"]) if channels else p.name
        if channel_created:
            self._put_channel(ctx, address, p)
        call(address, _config(ctx), "start_configuration_recorder", ConfigurationRecorderName=p.name)
        live = require(self.read(ctx, address, p.name, props), address, f"configuration recorder {p.name}")
        extra = {
            "created": True,
            "channel": channel,
            "channel_created": channel_created,
            "started_by_us": True,
        }
        return Created(p.name, {**live, **extra})

    def _adopt(self, ctx: ProviderContext, address: str, name: str, *, start: bool) -> Created:
        """Someone else's recorder, left as it is; with ``start``, started if it is stopped and
        has a delivery channel (recorded in ``started_by_us``, so destroy stops it again)."""
        if start:
            ctx.progress(address, f"AWS Config already records in this region (recorder {name}): adopting it")
        channels = call(address, _config(ctx), "describe_delivery_channels").get("DeliveryChannels") or []
        started = False
        live = require(self.read(ctx, address, name, {}), address, f"configuration recorder {name}")
        if start and not live["observed"]["recording"] and channels:
            call(address, _config(ctx), "start_configuration_recorder", ConfigurationRecorderName=name)
            started = True
            live = require(self.read(ctx, address, name, {}), address, f"configuration recorder {name}")
        channel = str(channels[0]["name"]) if channels else None
        extra = {"created": False, "channel": channel, "channel_created": False, "started_by_us": started}
        return Created(name, {**live, **extra})

    def _recorders(self, ctx: ProviderContext, address: str, *names: str) -> list[dict[str, Any]]:
        kwargs: dict[str, Any] = {"ConfigurationRecorderNames": list(names)} if names else {}
        try:
            resp = call(address, _config(ctx), "describe_configuration_recorders", **kwargs)
        except AwsCallError as err:
            if err.code in NO_RECORDER:
                return []
            raise
        recorders: list[dict[str, Any]] = resp.get("ConfigurationRecorders") or []
        return recorders

    def _put_recorder(self, ctx: ProviderContext, address: str, p: RecorderProps) -> None:
        recorder = {"name": p.name, "roleARN": p.role_arn, "recordingGroup": _recording_group(p)}
        retry_while(
            ctx,
            address,
            "config:PutConfigurationRecorder",
            lambda: call(address, _config(ctx), "put_configuration_recorder", ConfigurationRecorder=recorder),
            _role_not_ready,
            note="waiting for the AWS Config role to become usable (IAM propagation)",
        )

    def _put_channel(self, ctx: ProviderContext, address: str, p: RecorderProps) -> None:
        channel = {"name": p.name, "s3BucketName": p.bucket}
        retry_while(
            ctx,
            address,
            "config:PutDeliveryChannel",
            lambda: call(address, _config(ctx), "put_delivery_channel", DeliveryChannel=channel),
            _role_not_ready,
            note="waiting for AWS Config to be allowed to write to its bucket (IAM propagation)",
        )

    def read(self, ctx: ProviderContext, address: str, physical_id: str, props: Props) -> Outputs | None:
        found = self._recorders(ctx, address, physical_id)
        if not found:
            return None
        rec = found[0]
        status = call(
            address,
            _config(ctx),
            "describe_configuration_recorder_status",
            ConfigurationRecorderNames=[physical_id],
        ).get("ConfigurationRecordersStatus") or [{}]
        group = rec.get("recordingGroup") or {}
        observed: dict[str, Any] = {
            "name": physical_id,
            "role_arn": rec.get("roleARN"),
            "resource_types": [] if group.get("allSupported") else sorted(group.get("resourceTypes") or []),
            "recording": bool(status[0].get("recording")),
        }
        return {"name": physical_id, "observed": observed}

    def update(
        self,
        ctx: ProviderContext,
        address: str,
        physical_id: str,
        old: Props,
        new: Props,
        outputs: Outputs,
    ) -> Outputs:
        before, after = RecorderProps.parse_recorded(old), RecorderProps.parse(new, address)
        kept = {k: outputs[k] for k in OWNERSHIP_KEYS if k in outputs}
        if outputs.get("created"):  # an adopted recorder is someone else's to configure
            if (before.role_arn, before.resource_types) != (after.role_arn, after.resource_types):
                self._put_recorder(ctx, address, after)
            if outputs.get("channel_created") and before.bucket != after.bucket:
                self._put_channel(ctx, address, after)
        live = require(
            self.read(ctx, address, physical_id, new), address, f"configuration recorder {physical_id}"
        )
        return {**live, **kept}

    def delete(
        self, ctx: ProviderContext, address: str, physical_id: str, props: Props, outputs: Outputs
    ) -> None:
        if not self._recorders(ctx, address, physical_id):
            return
        config = _config(ctx)
        if outputs.get("started_by_us") or outputs.get("created"):
            call(address, config, "stop_configuration_recorder", ConfigurationRecorderName=physical_id)
        if not outputs.get("created"):
            return  # adopted: stopped again if we started it, otherwise left exactly as it was
        channel = outputs.get("channel")
        if outputs.get("channel_created") and channel:
            try:
                call(address, config, "delete_delivery_channel", DeliveryChannelName=str(channel))
            except AwsCallError as err:
                if err.code not in NO_CHANNEL:
                    raise
        call(address, config, "delete_configuration_recorder", ConfigurationRecorderName=physical_id)

    def find(self, ctx: ProviderContext, address: str, props: Props) -> Created | None:
        """Our recorder by its name (an interrupted create: created and ours); any other recorder
        in the region is someone else's and is adopted without being changed."""
        p = RecorderProps.parse(props, address)
        recorders = self._recorders(ctx, address)
        if not recorders:
            return None
        name = str(recorders[0]["name"])
        if name != p.name:
            return self._adopt(ctx, address, name, start=False)
        live = require(self.read(ctx, address, name, props), address, f"configuration recorder {name}")
        channels = call(address, _config(ctx), "describe_delivery_channels").get("DeliveryChannels") or []
        mine = [c for c in channels if c.get("name") == p.name]
        extra = {
            "created": True,
            "channel": p.name if mine else (str(channels[0]["name"]) if channels else None),
            "channel_created": bool(mine),
            "started_by_us": True,
        }
        return Created(name, {**live, **extra})

    def drift(self, props: Props, live: Outputs) -> dict[str, tuple[Any, Any]]:
        p = RecorderProps.parse_recorded(props)
        observed = live.get("observed", {})
        out: dict[str, tuple[Any, Any]] = {}
        if observed.get("name") != p.name:
            return out  # adopted: its settings are not ours to compare
        if "resource_types" in observed and observed["resource_types"] != sorted(p.resource_types or []):
            out["resource_types"] = (observed["resource_types"], p.resource_types)
        if observed.get("recording") is False:
            out["recording"] = (False, True)
        return out
