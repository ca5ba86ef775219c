"""aws.guardduty.detector: the region's GuardDuty detector, with Lambda protection.

GuardDuty allows one detector per account and region, so this resource may meet one that exists
already (enabled by a security team, an organisation's delegated administrator, another tool).
Such a detector is *adopted*, never taken over: the features this configuration asks for that are
off are turned on (``turned_on``), a suspended detector is resumed (``resumed``), and destroy
undoes exactly that and nothing more. Only a detector this resource created (``created``; its
``strands:*`` tags say so) is deleted on destroy. The detector id is the physical id.

Lambda protection is the ``LAMBDA_NETWORK_LOGS`` feature: GuardDuty watches the network activity
of every function invocation (calls to known-bad hosts, crypto mining) in the account.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from strands_deploy.aws.arns import partition_for
from strands_deploy.aws.errors import AwsCallError, call
from strands_deploy.providers._common import gone, ownership, require, tag_changes
from strands_deploy.providers.base import Created, Outputs, Props, PropsModel, Provider, ProviderContext

LAMBDA_PROTECTION = "LAMBDA_NETWORK_LOGS"
MISSING = ("BadRequestException", "InvalidInputException", "ResourceNotFoundException")
OWNERSHIP_KEYS = ("created", "turned_on", "resumed")


class DetectorProps(PropsModel):
    features: list[str] = [LAMBDA_PROTECTION]  # GuardDuty feature names, turned on
    finding_publishing_frequency: Literal["FIFTEEN_MINUTES", "ONE_HOUR", "SIX_HOURS"] = "SIX_HOURS"
    tags: dict[str, str] = {}


def _gd(ctx: ProviderContext) -> Any:
    factory: Any = ctx.client  # no boto3-stubs overload for "guardduty" in aws.session.ClientFactory
    return factory("guardduty")


def _get(ctx: ProviderContext, address: str, detector_id: str) -> dict[str, Any] | None:
    try:
        resp: dict[str, Any] = call(address, _gd(ctx), "get_detector", DetectorId=detector_id)
    except AwsCallError as err:
        if err.code in MISSING:
            return None
        raise
    return resp


def _enabled_features(detector: dict[str, Any]) -> dict[str, str]:
    """Feature name → status, as GuardDuty reports them."""
    return {str(f["Name"]): str(f.get("Status", "")) for f in detector.get("Features") or []}


def _features_with(detector: dict[str, Any], changes: dict[str, str]) -> list[dict[str, str]]:
    """The detector's whole feature list with ``changes`` (name → status) applied: sent in full so
    features this resource does not manage keep their status."""
    merged = {**_enabled_features(detector), **changes}
    return [{"Name": name, "Status": status} for name, status in sorted(merged.items())]


class DetectorProvider(Provider):
    type_name: ClassVar[str] = "aws.guardduty.detector"
    props_model: ClassVar[type[PropsModel]] = DetectorProps
    stable_outputs: ClassVar[frozenset[str]] = frozenset({"id", "arn"})

    def create(self, ctx: ProviderContext, address: str, props: Props) -> Created:
        p = DetectorProps.parse(props, address)
        existing = self._existing_id(ctx, address)
        if existing is not None:
            found = self._adopt(ctx, address, existing, p)
            return Created(existing, found)
        resp = call(
            address,
            _gd(ctx),
            "create_detector",
            Enable=True,
            FindingPublishingFrequency=p.finding_publishing_frequency,
            Features=[{"Name": f, "Status": "ENABLED"} for f in p.features],
            Tags=dict(p.tags),
        )
        detector_id = str(resp["DetectorId"])
        outputs = require(self.read(ctx, address, detector_id, props), address, "GuardDuty detector")
        return Created(detector_id, {**outputs, "created": True, "turned_on": [], "resumed": False})

    def _existing_id(self, ctx: ProviderContext, address: str) -> str | None:
        ids = call(address, _gd(ctx), "list_detectors").get("DetectorIds") or []
        return str(ids[0]) if ids else None

    def _adopt(self, ctx: ProviderContext, address: str, detector_id: str, p: DetectorProps) -> Outputs:
        """Use a detector that exists: ours (an interrupted create) is brought to ``p``; anyone
        else's only gets the features it lacks (and is resumed if suspended), recorded to undo."""
        detector = _get(ctx, address, detector_id) or {}
        if ownership(ctx, detector.get("Tags") or {}) == "ours":
            self._apply(ctx, address, detector_id, detector, p, [])
            live = require(self.read(ctx, address, detector_id, {}), address, "GuardDuty detector")
            return {**live, "created": True, "turned_on": [], "resumed": False}
        live_features = _enabled_features(detector)
        turn_on = [f for f in p.features if live_features.get(f) != "ENABLED"]
        resumed = detector.get("Status") != "ENABLED"
        if turn_on or resumed:
            ctx.progress(address, f"adopting the account's GuardDuty detector {detector_id}")
            call(
                address,
                _gd(ctx),
                "update_detector",
                DetectorId=detector_id,
                Enable=True,
                Features=_features_with(detector, dict.fromkeys(turn_on, "ENABLED")),
            )
        live = require(self.read(ctx, address, detector_id, {}), address, "GuardDuty detector")
        return {**live, "created": False, "turned_on": sorted(turn_on), "resumed": resumed}

    def _apply(
        self,
        ctx: ProviderContext,
        address: str,
        detector_id: str,
        detector: dict[str, Any],
        p: DetectorProps,
        dropped: list[str],
    ) -> None:
        changes = {**dict.fromkeys(dropped, "DISABLED"), **dict.fromkeys(p.features, "ENABLED")}
        call(
            address,
            _gd(ctx),
            "update_detector",
            DetectorId=detector_id,
            Enable=True,
            FindingPublishingFrequency=p.finding_publishing_frequency,
            Features=_features_with(detector, changes),
        )

    def read(self, ctx: ProviderContext, address: str, physical_id: str, props: Props) -> Outputs | None:
        detector = _get(ctx, address, physical_id)
        if detector is None:
            return None
        tags = {str(k): str(v) for k, v in (detector.get("Tags") or {}).items()}
        ours = ownership(ctx, tags) == "ours"
        enabled = sorted(n for n, s in _enabled_features(detector).items() if s == "ENABLED")
        observed: dict[str, Any] = {"features": enabled, "enabled": detector.get("Status") == "ENABLED"}
        if ours:  # someone else's detector: its settings and tags are theirs, not drift of ours
            observed["finding_publishing_frequency"] = detector.get("FindingPublishingFrequency")
            observed["tags"] = tags
        region, account = ctx.aws.region, ctx.aws.account_id()
        arn = f"arn:{partition_for(region)}:guardduty:{region}:{account}:detector/{physical_id}"
        return {"id": physical_id, "arn": arn, "observed": observed}

    def update(
        self,
        ctx: ProviderContext,
        address: str,
        physical_id: str,
        old: Props,
        new: Props,
        outputs: Outputs,
    ) -> Outputs:
        before, after = DetectorProps.parse_recorded(old), DetectorProps.parse(new, address)
        detector = _get(ctx, address, physical_id)
        if detector is None:
            raise gone(address, f"GuardDuty detector {physical_id}")
        kept = {k: outputs[k] for k in OWNERSHIP_KEYS if k in outputs}
        if outputs.get("created"):
            dropped = [f for f in (before.features or []) if f not in after.features]
            self._apply(ctx, address, physical_id, detector, after, dropped)
            self._retag(ctx, address, physical_id, before.tags, after.tags)
        else:
            live = _enabled_features(detector)
            ours_before = list(outputs.get("turned_on") or [])
            turn_on = [f for f in after.features if live.get(f) != "ENABLED"]
            turn_off = [f for f in ours_before if f not in after.features]
            if turn_on or turn_off:
                changes = {**dict.fromkeys(turn_off, "DISABLED"), **dict.fromkeys(turn_on, "ENABLED")}
                call(
                    address, _gd(ctx), "update_detector",
                    DetectorId=physical_id, Features=_features_with(detector, changes),
                )  # fmt: skip
            kept["turned_on"] = sorted((set(ours_before) - set(turn_off)) | set(turn_on))
        live_outputs = require(self.read(ctx, address, physical_id, new), address, "GuardDuty detector")
        return {**live_outputs, **kept}

    def _retag(
        self,
        ctx: ProviderContext,
        address: str,
        detector_id: str,
        old: dict[str, str] | None,
        new: dict[str, str],
    ) -> None:
        to_set, to_remove = tag_changes(old, new)
        arn = require(self.read(ctx, address, detector_id, {}), address, "GuardDuty detector")["arn"]
        if to_set:
            call(address, _gd(ctx), "tag_resource", ResourceArn=arn, Tags=to_set)
        if to_remove:
            call(address, _gd(ctx), "untag_resource", ResourceArn=arn, TagKeys=to_remove)

    def delete(
        self, ctx: ProviderContext, address: str, physical_id: str, props: Props, outputs: Outputs
    ) -> None:
        detector = _get(ctx, address, physical_id)
        if detector is None:
            return
        if outputs.get("created"):
            call(address, _gd(ctx), "delete_detector", DetectorId=physical_id)
            return
        # adopted: undo only what this resource did; the detector itself stays
        turned_on = list(outputs.get("turned_on") or [])
        kwargs: dict[str, Any] = {}
        if turned_on:
            kwargs["Features"] = _features_with(detector, dict.fromkeys(turned_on, "DISABLED"))
        if outputs.get("resumed"):
            kwargs["Enable"] = False
        if kwargs:
            call(address, _gd(ctx), "update_detector", DetectorId=physical_id, **kwargs)

    def find(self, ctx: ProviderContext, address: str, props: Props) -> Created | None:
        """The region's detector, if any. One found without a state record counts as created by
        this resource only when its tags name this project and environment; otherwise it is
        someone else's and destroy leaves it (the safe side: never delete what we cannot prove is ours)."""
        detector_id = self._existing_id(ctx, address)
        if detector_id is None:
            return None
        live = self.read(ctx, address, detector_id, props)
        if live is None:
            return None
        ours = "tags" in live["observed"]
        return Created(detector_id, {**live, "created": ours, "turned_on": [], "resumed": False})

    def drift(self, props: Props, live: Outputs) -> dict[str, tuple[Any, Any]]:
        p = DetectorProps.parse_recorded(props)
        observed = live.get("observed", {})
        out: dict[str, tuple[Any, Any]] = {}
        have = observed.get("features")
        if have is not None and not set(p.features or []) <= set(have):
            out["features"] = (have, p.features)
        for key in ("finding_publishing_frequency", "tags"):
            if key in observed and observed[key] != getattr(p, key):
                out[key] = (observed[key], getattr(p, key))
        return out
