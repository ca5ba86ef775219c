"""References in `environment` values and per-environment overrides, end to end: the installed
console script deploys two environments to a moto server, and the functions there carry the
resolved variables and each environment's own settings."""

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
    environment:
      TABLE: "${{resource.promos.name}}"
      TABLE_ARN: "${{resource.promos.arn}}"
      HELPER: "${{agent.helper.url}}"
      HELPER_FN: "${{agent.helper.function_name}}"
      STAGE: "${{env}}"
      AT: "${{region}}/${{account}}"
      PLAIN: "$${{not-a-ref}}"
      LOG_LEVEL: debug
    link: [promos]
  helper:
    path: agents/helper
    expose: url
resources:
  promos: {{type: table, key: id}}
environments:
  local: {{endpoint: "{endpoint}"}}
  dev:
    endpoint: "{endpoint}"
    agents:
      support:
        memory: {memory}
        environment: {{LOG_LEVEL: warn}}
"""

AGENT = AGENT_NO_LAYER
ACCOUNT = "123456789012"  # moto's


def lam(endpoint: str) -> Any:
    return boto3.client("lambda", endpoint_url=endpoint, region_name="us-east-1")


def test_references_and_overrides_deploy(tmp_path: Path, moto: str, cli_factory: Any) -> None:
    root = write_project(
        tmp_path / "p",
        PROJECT.format(endpoint=moto, memory=2048),
        agents={"support": AGENT, "helper": AGENT},
        requirements="",
    )
    cli = cli_factory(root)

    # the plan shows the helper's URL as known after apply: it exists once the helper is deployed
    plan = cli("plan", "--json")
    assert plan.returncode == 0, plan.stderr + plan.stdout
    function = next(c for c in json.loads(plan.stdout)["changes"] if c["address"] == "agent.support.function")
    planned = function["diff"]["environment"]["after"]
    assert planned["HELPER"] == "(known after apply)"
    assert planned["TABLE"] == "acme-local-promos" and planned["STAGE"] == "local"
    for env in ("local", "dev"):
        deployed = cli("deploy", "--env", env, "--json")
        assert deployed.returncode == 0, deployed.stderr + deployed.stdout
        assert json.loads(deployed.stdout)["result"]["ok"]

    client = lam(moto)
    for env, memory, level in (("local", 1024, "debug"), ("dev", 2048, "warn")):
        conf = client.get_function_configuration(FunctionName=f"acme-{env}-support")
        url = client.get_function_url_config(FunctionName=f"acme-{env}-helper", Qualifier="live")[
            "FunctionUrl"
        ]
        variables = conf["Environment"]["Variables"]
        assert variables["TABLE"] == f"acme-{env}-promos"
        assert variables["TABLE_ARN"] == f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/acme-{env}-promos"
        assert variables["HELPER"] == url
        assert variables["HELPER_FN"] == f"acme-{env}-helper"
        assert variables["STAGE"] == env
        assert variables["AT"] == f"us-east-1/{ACCOUNT}"
        assert variables["PLAIN"] == "${not-a-ref}"
        assert variables["LOG_LEVEL"] == level  # dev's override, merged key by key
        assert variables["STRANDS_LINK_PROMOS_TABLE"] == f"acme-{env}-promos"
        assert conf["MemorySize"] == memory  # dev's override only
        # the helper is not overridden anywhere
        assert client.get_function_configuration(FunctionName=f"acme-{env}-helper")["MemorySize"] == 1024

    # resolved references are stable: nothing to do on either environment
    for env in ("local", "dev"):
        again = cli("plan", "--env", env, "--detailed-exitcode")
        assert again.returncode == 0, again.stdout + again.stderr
        assert "No changes" in again.stdout

    # changing dev's override changes dev's function only, as an ordinary property update
    (root / "strands.yaml").write_text(PROJECT.format(endpoint=moto, memory=3072))
    dev_plan = cli("plan", "--env", "dev", "--detailed-exitcode", "--json")
    assert dev_plan.returncode == 2, dev_plan.stderr + dev_plan.stdout
    changes = {c["address"]: c["action"] for c in json.loads(dev_plan.stdout)["changes"]}
    assert changes.get("agent.support.function") == "update"
    assert set(changes) <= {"agent.support.function", "agent.support.alias"}
    local_plan = cli("plan", "--env", "local", "--detailed-exitcode")
    assert local_plan.returncode == 0, local_plan.stdout + local_plan.stderr
    assert json.loads(cli("deploy", "--env", "dev", "--json").stdout)["result"]["ok"]
    assert client.get_function_configuration(FunctionName="acme-dev-support")["MemorySize"] == 3072
    assert client.get_function_configuration(FunctionName="acme-local-support")["MemorySize"] == 1024


def test_invalid_reference_stops_deploy_with_its_line(tmp_path: Path, moto: str, cli_factory: Any) -> None:
    text = PROJECT.format(endpoint=moto, memory=2048).replace(
        "${resource.promos.name}", "${resource.promo.name}"
    )
    root = write_project(tmp_path / "p", text, agents={"support": AGENT, "helper": AGENT}, requirements="")
    proc = cli_factory(root)("deploy", "--env", "dev")
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert "strands.yaml:7:14:" in proc.stderr and "unknown resource 'promo'" in proc.stderr
    assert "did you mean 'promos'?" in proc.stderr
    assert lam(moto).list_functions()["Functions"] == []
