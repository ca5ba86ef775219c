"""The account-wide guardrails (one Security Hub, one GuardDuty detector, one Config recorder per
account and region) on a real moto server: one that exists already is adopted, only what this
resource did is undone on destroy, and someone else's is never disabled or deleted."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest

from strands_deploy.aws.session import AwsContext
from strands_deploy.errors import StrandsDeployError
from strands_deploy.providers.base import Props, ProviderContext
from strands_deploy.providers.registry import get_provider

TAGS = {"strands:project": "demo", "strands:environment": "test", "strands:managed-by": "strands-deploy"}
Raw = Callable[[str], Any]


@pytest.fixture
def ctx(aws: AwsContext, tmp_path: Path) -> ProviderContext:
    return ProviderContext(
        aws=aws, project="demo", environment="test", project_dir=tmp_path, cache_dir=tmp_path / ".cache"
    )


@pytest.fixture
def raw(moto: str) -> Raw:
    def make(service: str) -> Any:
        return boto3.client(  # type: ignore[call-overload]
            service,
            endpoint_url=moto,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    return make


def hub_enabled(raw: Raw) -> bool:
    try:
        raw("securityhub").describe_hub()
    except raw("securityhub").exceptions.ClientError:
        return False
    return True


# -- Security Hub ----------------------------------------------------------------------------------


def test_hub_we_enable_is_disabled_on_delete(ctx: ProviderContext, raw: Raw) -> None:
    provider = get_provider("aws.securityhub.hub")
    props: Props = {"default_standards": True, "tags": dict(TAGS)}
    created = provider.create(ctx, "shared.security-hub", props)
    assert created.outputs["enabled_by_us"] is True and created.physical_id.endswith(":hub/default")
    assert hub_enabled(raw)
    provider.delete(ctx, "shared.security-hub", created.physical_id, props, created.outputs)
    assert not hub_enabled(raw)


def test_hub_enabled_by_someone_else_is_adopted_and_left_enabled(ctx: ProviderContext, raw: Raw) -> None:
    raw("securityhub").enable_security_hub(EnableDefaultStandards=False)
    provider = get_provider("aws.securityhub.hub")
    props: Props = {"default_standards": True, "tags": dict(TAGS)}
    created = provider.create(ctx, "shared.security-hub", props)
    assert created.outputs["enabled_by_us"] is False
    updated = provider.update(ctx, "shared.security-hub", created.physical_id, props, props, created.outputs)
    assert updated["enabled_by_us"] is False  # carried across updates
    provider.delete(ctx, "shared.security-hub", created.physical_id, props, updated)
    assert hub_enabled(raw)
    # found without a state record: nothing proves we enabled it, so it counts as someone else's
    found = provider.find(ctx, "shared.security-hub", props)
    assert found is not None and found.outputs["enabled_by_us"] is False


# -- GuardDuty -------------------------------------------------------------------------------------


def features(raw: Raw, detector_id: str) -> dict[str, str]:
    got = raw("guardduty").get_detector(DetectorId=detector_id)
    return {f["Name"]: f["Status"] for f in got.get("Features", [])}


def test_detector_we_create_has_lambda_protection_and_is_deleted(ctx: ProviderContext, raw: Raw) -> None:
    provider = get_provider("aws.guardduty.detector")
    props: Props = {"features": ["LAMBDA_NETWORK_LOGS"], "tags": dict(TAGS)}
    created = provider.create(ctx, "shared.guardduty", props)
    assert created.outputs["created"] is True
    assert features(raw, created.physical_id) == {"LAMBDA_NETWORK_LOGS": "ENABLED"}
    assert raw("guardduty").get_detector(DetectorId=created.physical_id)["Tags"] == TAGS
    # a lost state: found by its tags, and still known as ours
    found = provider.find(ctx, "shared.guardduty", props)
    assert found is not None and found.outputs["created"] is True
    provider.delete(ctx, "shared.guardduty", created.physical_id, props, created.outputs)
    assert raw("guardduty").list_detectors()["DetectorIds"] == []


def test_someone_elses_detector_gets_lambda_protection_and_keeps_the_rest(
    ctx: ProviderContext, raw: Raw
) -> None:
    gd = raw("guardduty")
    theirs = gd.create_detector(
        Enable=False,  # suspended
        Features=[
            {"Name": "S3_DATA_EVENTS", "Status": "ENABLED"},
            {"Name": "LAMBDA_NETWORK_LOGS", "Status": "DISABLED"},
        ],
        Tags={"owner": "security-team"},
    )["DetectorId"]
    provider = get_provider("aws.guardduty.detector")
    props: Props = {"features": ["LAMBDA_NETWORK_LOGS"], "tags": dict(TAGS)}
    created = provider.create(ctx, "shared.guardduty", props)
    assert created.physical_id == theirs
    assert created.outputs["created"] is False
    assert created.outputs["turned_on"] == ["LAMBDA_NETWORK_LOGS"] and created.outputs["resumed"] is True
    assert features(raw, theirs) == {"S3_DATA_EVENTS": "ENABLED", "LAMBDA_NETWORK_LOGS": "ENABLED"}
    assert gd.get_detector(DetectorId=theirs)["Status"] == "ENABLED"
    assert "tags" not in created.outputs["observed"]  # their tags are not drift of ours

    provider.delete(ctx, "shared.guardduty", theirs, props, created.outputs)
    assert gd.list_detectors()["DetectorIds"] == [theirs]  # never deleted
    assert features(raw, theirs) == {"S3_DATA_EVENTS": "ENABLED", "LAMBDA_NETWORK_LOGS": "DISABLED"}
    assert gd.get_detector(DetectorId=theirs)["Status"] == "DISABLED"  # suspended again, as found


def test_adopted_detector_with_protection_on_is_left_exactly_as_found(ctx: ProviderContext, raw: Raw) -> None:
    gd = raw("guardduty")
    theirs = gd.create_detector(Enable=True, Features=[{"Name": "LAMBDA_NETWORK_LOGS", "Status": "ENABLED"}])[
        "DetectorId"
    ]
    provider = get_provider("aws.guardduty.detector")
    props: Props = {"features": ["LAMBDA_NETWORK_LOGS"], "tags": dict(TAGS)}
    created = provider.create(ctx, "shared.guardduty", props)
    assert created.outputs["turned_on"] == [] and created.outputs["resumed"] is False
    provider.delete(ctx, "shared.guardduty", theirs, props, created.outputs)
    assert features(raw, theirs) == {"LAMBDA_NETWORK_LOGS": "ENABLED"}


# -- AWS Config ------------------------------------------------------------------------------------


def recorder_props(raw: Raw) -> Props:
    trust = (
        '{"Version":"2012-10-17","Statement":[{"Effect":"Allow",'
        '"Principal":{"Service":"config.amazonaws.com"},"Action":"sts:AssumeRole"}]}'
    )
    arn = raw("iam").create_role(RoleName="demo-test-config", AssumeRolePolicyDocument=trust)["Role"]["Arn"]
    raw("s3").create_bucket(Bucket="demo-test-config-bucket")
    return {
        "name": "demo-test-config",
        "role_arn": arn,
        "bucket": "demo-test-config-bucket",
        "resource_types": ["AWS::Lambda::Function"],
    }


def test_recorder_we_create_records_delivers_and_is_removed(ctx: ProviderContext, raw: Raw) -> None:
    props = recorder_props(raw)
    provider = get_provider("aws.config.recorder")
    created = provider.create(ctx, "shared.config-recorder", props)
    assert created.outputs["created"] is True and created.outputs["channel_created"] is True
    config = raw("config")
    status = config.describe_configuration_recorder_status()["ConfigurationRecordersStatus"]
    assert [(s["name"], s["recording"]) for s in status] == [("demo-test-config", True)]
    assert (
        config.describe_delivery_channels()["DeliveryChannels"][0]["s3BucketName"]
        == "demo-test-config-bucket"
    )
    group = config.describe_configuration_recorders()["ConfigurationRecorders"][0]["recordingGroup"]
    assert group["resourceTypes"] == ["AWS::Lambda::Function"] and group["allSupported"] is False
    provider.delete(ctx, "shared.config-recorder", created.physical_id, props, created.outputs)
    assert config.describe_configuration_recorders()["ConfigurationRecorders"] == []
    assert config.describe_delivery_channels()["DeliveryChannels"] == []


def test_someone_elses_recorder_is_adopted_started_and_stopped_again(ctx: ProviderContext, raw: Raw) -> None:
    props = recorder_props(raw)
    config = raw("config")
    group = {"allSupported": True, "includeGlobalResourceTypes": True}
    config.put_configuration_recorder(
        ConfigurationRecorder={"name": "default", "roleARN": props["role_arn"], "recordingGroup": group}
    )
    config.put_delivery_channel(DeliveryChannel={"name": "default", "s3BucketName": "their-bucket"})
    provider = get_provider("aws.config.recorder")
    created = provider.create(ctx, "shared.config-recorder", props)
    assert created.physical_id == "default" and created.outputs["created"] is False
    assert created.outputs["started_by_us"] is True  # it was stopped: rules evaluate nothing then
    assert provider.drift(props, created.outputs) == {}  # its settings are not ours to compare
    provider.update(
        ctx, "shared.config-recorder", "default", props, {**props, "resource_types": []}, created.outputs
    )
    recorders = config.describe_configuration_recorders()["ConfigurationRecorders"]
    assert recorders[0]["recordingGroup"]["allSupported"] is True  # never reconfigured

    provider.delete(ctx, "shared.config-recorder", "default", props, created.outputs)
    assert [r["name"] for r in config.describe_configuration_recorders()["ConfigurationRecorders"]] == [
        "default"
    ]
    assert [c["name"] for c in config.describe_delivery_channels()["DeliveryChannels"]] == ["default"]
    status = config.describe_configuration_recorder_status()["ConfigurationRecordersStatus"]
    assert status[0]["recording"] is False  # stopped again, as found


def test_config_rule_of_another_environment_is_never_taken_over(ctx: ProviderContext, raw: Raw) -> None:
    config = raw("config")
    config.put_config_rule(
        ConfigRule={
            "ConfigRuleName": "demo-test-lambda-public",
            "Source": {"Owner": "AWS", "SourceIdentifier": "LAMBDA_FUNCTION_PUBLIC_ACCESS_PROHIBITED"},
        },
        Tags=[{"Key": "strands:project", "Value": "demo"}, {"Key": "strands:environment", "Value": "prod"}],
    )
    props: Props = {
        "name": "demo-test-lambda-public",
        "identifier": "LAMBDA_FUNCTION_PUBLIC_ACCESS_PROHIBITED",
        "tags": dict(TAGS),
    }
    provider = get_provider("aws.config.rule")
    assert provider.find(ctx, "shared.config-rule-x", props) is None
    with pytest.raises(StrandsDeployError, match="not this environment's"):
        provider.create(ctx, "shared.config-rule-x", props)
    rule = config.describe_config_rules()["ConfigRules"][0]
    tags = config.list_tags_for_resource(ResourceArn=rule["ConfigRuleArn"])["Tags"]
    assert {"Key": "strands:environment", "Value": "prod"} in tags  # untouched


def test_unknown_managed_rule_is_refused_by_config(ctx: ProviderContext) -> None:
    props: Props = {"name": "demo-test-bogus", "identifier": "NOT_A_REAL_RULE", "tags": dict(TAGS)}
    with pytest.raises(StrandsDeployError) as err:
        get_provider("aws.config.rule").create(ctx, "shared.config-rule-bogus", props)
    assert err.value.where == "shared.config-rule-bogus"
