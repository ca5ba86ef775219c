"""`security:` end to end: the installed console script deploys an environment with AWS Config
rules, Security Hub and GuardDuty to a moto server, then destroys it. What strands-deploy enabled
is removed; a Security Hub someone else had enabled before stays enabled."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3

from tests.helpers import AGENT_NO_LAYER, write_project

PROJECT = """\
project: acme
region: us-east-1
agents:
  support:
    path: agents/support
    link: [tickets]
resources:
  tickets: {{type: table, key: id}}
environments:
  dev:
    endpoint: "{endpoint}"
    security:
      config_rules: [LAMBDA_FUNCTION_PUBLIC_ACCESS_PROHIBITED, DYNAMODB_PITR_ENABLED, IAM_PASSWORD_POLICY]
      security_hub: true
      guardduty: true
"""


def client(service: str, endpoint: str) -> Any:
    return boto3.client(service, endpoint_url=endpoint, region_name="us-east-1")  # type: ignore[call-overload]


def test_security_services_deploy_and_destroy(tmp_path: Path, moto: str, cli_factory: Any) -> None:
    root = write_project(
        tmp_path / "p", PROJECT.format(endpoint=moto), agents={"support": AGENT_NO_LAYER}, requirements=""
    )
    cli = cli_factory(root)
    # someone else enabled Security Hub in this account before: it is adopted, never disabled
    client("securityhub", moto).enable_security_hub(EnableDefaultStandards=True)

    deployed = cli("deploy", "--env", "dev", "--json")
    assert deployed.returncode == 0, deployed.stderr + deployed.stdout
    assert json.loads(deployed.stdout)["result"]["ok"]

    config = client("config", moto)
    rules = {r["ConfigRuleName"]: r for r in config.describe_config_rules()["ConfigRules"]}
    assert {r["Source"]["SourceIdentifier"] for r in rules.values()} == {
        "LAMBDA_FUNCTION_PUBLIC_ACCESS_PROHIBITED",
        "DYNAMODB_PITR_ENABLED",
        "IAM_PASSWORD_POLICY",
    }
    for rule in rules.values():
        tags = {
            t["Key"]: t["Value"]
            for t in config.list_tags_for_resource(ResourceArn=rule["ConfigRuleArn"])["Tags"]
        }
        assert tags["strands:project"] == "acme" and tags["strands:environment"] == "dev"
    recorder = config.describe_configuration_recorders()["ConfigurationRecorders"][0]
    assert recorder["name"] == "acme-dev-config" and recorder["roleARN"].endswith(":role/acme-dev-config")
    assert {"AWS::Lambda::Function", "AWS::DynamoDB::Table", "AWS::IAM::Role"} <= set(
        recorder["recordingGroup"]["resourceTypes"]
    )
    assert config.describe_configuration_recorder_status()["ConfigurationRecordersStatus"][0]["recording"]
    channel = config.describe_delivery_channels()["DeliveryChannels"][0]
    assert channel["s3BucketName"].startswith("acme-dev-config-")

    gd = client("guardduty", moto)
    [detector_id] = gd.list_detectors()["DetectorIds"]
    detector = gd.get_detector(DetectorId=detector_id)
    assert {f["Name"]: f["Status"] for f in detector["Features"]} == {"LAMBDA_NETWORK_LOGS": "ENABLED"}

    # the state records whose each account-wide guardrail is: destroy reads it
    shown = cli("state", "show", "--env", "dev", "--json")
    assert shown.returncode == 0, shown.stderr + shown.stdout
    resources = json.loads(shown.stdout)["resources"]
    assert resources["shared.security-hub"]["outputs"]["enabled_by_us"] is False
    assert resources["shared.guardduty"]["outputs"]["created"] is True
    assert resources["shared.config-recorder"]["outputs"]["created"] is True

    # a second deploy changes nothing
    again = cli("plan", "--env", "dev", "--json")
    assert again.returncode == 0, again.stderr + again.stdout
    changes = [c["address"] for c in json.loads(again.stdout)["changes"] if c["action"] != "no-op"]
    assert changes == [], changes

    destroyed = cli("destroy", "--env", "dev", "--json", "--yes")
    assert destroyed.returncode == 0, destroyed.stderr + destroyed.stdout
    assert config.describe_config_rules()["ConfigRules"] == []
    assert config.describe_configuration_recorders()["ConfigurationRecorders"] == []
    assert config.describe_delivery_channels()["DeliveryChannels"] == []
    assert gd.list_detectors()["DetectorIds"] == []
    assert client("securityhub", moto).describe_hub()["HubArn"].endswith(":hub/default")  # still enabled
