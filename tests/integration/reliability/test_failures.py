"""issue 7.5 (partial failure), 7.6 (out-of-band changes), 7.8 (secrets), 7.3 (locking via the CLI)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import boto3

from tests.helpers import write_project

AGENT = "agent = None\n"


def lam(endpoint: str) -> Any:
    return boto3.client("lambda", endpoint_url=endpoint, region_name="us-east-1")


PARTIAL = """\
project: part
agents:
  good:
    path: agents/good
    alarms: false
  bad:
    path: agents/bad
    alarms: false
    permissions:
      - {{Effect: Allow, Action: [{action}], Resource: ["arn:aws:s3:::some-bucket/*"]}}
environments:
  local: {{endpoint: "{endpoint}"}}
"""


def test_partial_failure_stops_only_dependents(tmp_path: Path, moto: str, cli_factory: Any) -> None:
    root = write_project(
        tmp_path / "p",
        PARTIAL.format(endpoint=moto, action='"getobject"'),
        agents={"good": AGENT, "bad": AGENT},
        requirements="",
    )
    cli = cli_factory(root)
    proc = cli("deploy")
    assert proc.returncode == 1
    assert "agent.bad.policy" in proc.stderr and "Traceback" not in proc.stderr
    assert "skipped" in proc.stderr
    names = {f["FunctionName"] for f in lam(moto).list_functions()["Functions"]}
    assert names == {"part-local-good"}  # independent agent finished, dependents of the failure did not start
    state = json.loads((root / ".strands/state/local.json").read_text())
    assert "agent.good.alias" in state["resources"]
    assert "agent.bad.policy" not in state["resources"] and "agent.bad.function" not in state["resources"]
    assert "agent.bad.logs" in state["resources"]  # it exists in AWS, so the state records it
    assert state["pending"] == []
    # fix the configuration and rerun: the deploy completes
    (root / "strands.yaml").write_text(PARTIAL.format(endpoint=moto, action='"s3:GetObject"'))
    fixed = cli("deploy", "--json")
    assert fixed.returncode == 0, fixed.stderr
    assert {f["FunctionName"] for f in lam(moto).list_functions()["Functions"]} == {
        "part-local-good",
        "part-local-bad",
    }


DRIFT = """\
project: drift
agents:
  bot: {{path: agents/bot, alarms: false, memory: 512}}
resources:
  files: {{type: bucket, retain: false}}
environments:
  local: {{endpoint: "{endpoint}"}}
"""


def test_out_of_band_changes_shown_and_put_back(tmp_path: Path, moto: str, cli_factory: Any) -> None:
    root = write_project(tmp_path / "p", DRIFT.format(endpoint=moto), agents={"bot": AGENT}, requirements="")
    cli = cli_factory(root)
    assert cli("deploy").returncode == 0
    client = lam(moto)
    client.update_function_configuration(FunctionName="drift-local-bot", MemorySize=2048)
    s3 = boto3.client("s3", endpoint_url=moto, region_name="us-east-1")
    bucket = s3.list_buckets()["Buckets"][0]["Name"]
    s3.delete_bucket(Bucket=bucket)

    plan = cli("plan", "--json", "--detailed-exitcode")
    assert plan.returncode == 2, plan.stderr
    changes = {c["address"]: c for c in json.loads(plan.stdout)["changes"]}
    assert changes["agent.bot.function"]["action"] == "update"
    assert changes["agent.bot.function"]["diff"]["memory"] == {"before": 2048, "after": 512}
    assert changes["resource.files.bucket"]["action"] == "create"
    assert changes["resource.files.bucket"]["reason"] == "deleted outside strands-deploy"
    skipped = cli("plan", "--refresh=false", "--detailed-exitcode")
    assert skipped.returncode == 0, skipped.stdout  # without refresh the state is all it sees

    assert cli("deploy").returncode == 0
    assert client.get_function_configuration(FunctionName="drift-local-bot")["MemorySize"] == 512
    assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == [bucket]
    assert cli("plan", "--detailed-exitcode").returncode == 0


SECRETS = """\
project: sec
agents:
  bot: {{path: agents/bot, alarms: false, link: [apikey, cfg]}}
resources:
  apikey: {{type: secret, from_env: SEC_API_KEY}}
  cfg: {{type: parameter, from_file: cfg.txt}}
environments:
  local: {{endpoint: "{endpoint}"}}
"""


def test_secret_values_never_leak(tmp_path: Path, moto: str, cli_factory: Any) -> None:
    canary, canary2 = "CANARY-7f3a-secret-value", "CANARY-file-9b1c"
    root = write_project(
        tmp_path / "p", SECRETS.format(endpoint=moto), agents={"bot": AGENT}, requirements=""
    )
    (root / "cfg.txt").write_text(canary2 + "\n")
    cli = cli_factory(root, env={"SEC_API_KEY": canary})
    outputs = [
        cli("deploy"),
        cli("plan", "--json"),
        cli("deploy", "--json"),
        cli("list", "--json"),
        cli("outputs", "--format", "json"),
        cli("describe", "resource.apikey.secret"),
        cli("state", "show"),
    ]
    assert all(p.returncode == 0 for p in outputs), [p.stderr for p in outputs]
    # the values did reach AWS
    sm = boto3.client("secretsmanager", endpoint_url=moto, region_name="us-east-1")
    assert sm.get_secret_value(SecretId="sec/local/apikey")["SecretString"] == canary
    ssm = boto3.client("ssm", endpoint_url=moto, region_name="us-east-1")
    assert ssm.get_parameter(Name="/sec/local/cfg", WithDecryption=True)["Parameter"]["Value"] == canary2
    # and nowhere else: outputs, state, backups, caches
    texts = [p.stdout + p.stderr for p in outputs]
    for path in (root / ".strands").rglob("*"):
        if path.is_file() and path.suffix in (".json", ".backup", ".log", ".txt", ""):
            texts.append(path.read_text(errors="replace"))
    for text in texts:
        assert canary not in text and canary2 not in text
    # a changed value is seen (by fingerprint) and applied
    cli2 = cli_factory(root, env={"SEC_API_KEY": canary + "-v2"})
    plan = json.loads(cli2("plan", "--json").stdout)
    assert [c["address"] for c in plan["changes"]] == ["resource.apikey.secret"]
    assert canary not in json.dumps(plan)


def test_lock_blocks_second_command_and_names_holder(tmp_path: Path, moto: str, cli_factory: Any) -> None:
    root = write_project(tmp_path / "p", DRIFT.format(endpoint=moto), agents={"bot": AGENT}, requirements="")
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys,time; from pathlib import Path; from strands_deploy.state.backend import LocalFileBackend;"
            f"LocalFileBackend(Path({str(root / '.strands/state')!r}), 'local').lock('deploy --env local');"
            "print('locked', flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        cli = cli_factory(root)
        for args in (("deploy",), ("destroy", "--yes"), ("plan", "-lock")):
            proc = cli(*args)
            assert proc.returncode == 1, args
            assert f"pid {holder.pid}" in proc.stderr and "deploy --env local" in proc.stderr
        assert cli("plan").returncode == 0  # a plain plan does not need the lock
        refused = cli("state", "unlock")
        assert refused.returncode == 1 and "running process" in refused.stderr
    finally:
        holder.kill()
        holder.wait()
    cli = cli_factory(root)
    stale = cli("deploy")
    assert stale.returncode == 1 and "no longer running" in stale.stderr
    assert cli("state", "unlock").returncode == 0
    assert cli("deploy").returncode == 0
    assert not (root / ".strands/state/local.lock").exists()
    assert os.path.exists(root / ".strands/state/local.json")
