"""Remote state for teams, end to end through the installed console script against moto: two
working copies sharing an S3 state, the audit trail, history and rollback, pull/push, migration
between backends, state surgery, the lock, and bad input."""

from __future__ import annotations

import json
import re
import selectors
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import boto3

from tests.conftest import stop_process
from tests.helpers import AGENT_NO_LAYER, write_project

AGENT = AGENT_NO_LAYER
SHA256 = re.compile(r"^sha256:[0-9a-f]{64}$")

# CI variables of the machine running the tests must not leak into the commands' audit records
CI_VARS = (
    "CI",
    "GITHUB_ACTIONS",
    "GITHUB_RUN_ID",
    "GITHUB_REPOSITORY",
    "GITHUB_SERVER_URL",
    "CI_JOB_URL",
    "CI_PIPELINE_URL",
    "CIRCLE_BUILD_URL",
    "BUILDKITE_BUILD_URL",
    "BUILD_URL",
    "SYSTEM_COLLECTIONURI",
    "BUILD_BUILDID",
    "BITBUCKET_GIT_HTTP_ORIGIN",
    "BITBUCKET_BUILD_NUMBER",
    "CODEBUILD_PUBLIC_BUILD_URL",
    "CODEBUILD_BUILD_ARN",
)
PASSPHRASE = "correct horse battery staple"


def client(service: str, endpoint: str, **kw: Any) -> Any:
    return boto3.client(service, endpoint_url=endpoint, region_name="us-east-1", **kw)


def make_cli(cli_factory: Any, root: Path, env: dict[str, str] | None = None) -> Any:
    """A Cli whose environment holds no CI variables and no state passphrase, except those in ``env``."""
    cli = cli_factory(root, env)
    for var in (*CI_VARS, "STRANDS_STATE_PASSPHRASE"):
        if var not in (env or {}):
            cli.env.pop(var, None)
    return cli


def ok(proc: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    return proc


def refused(proc: subprocess.CompletedProcess[str], *words: str) -> str:
    """Exit 1 with one clear message (no traceback) containing ``words``; the message."""
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr
    assert "error:" in proc.stderr and "fix:" in proc.stderr, proc.stderr
    for word in words:
        assert word in proc.stderr, f"{word!r} not in: {proc.stderr}"
    return proc.stderr


def changes(cli: Any, *args: str) -> dict[str, str]:
    """The plan's changes as {address: action} (no-ops left out)."""
    plan = cli.json("plan", "--env", "dev", *args)
    return {c["address"]: c["action"] for c in plan["changes"] if c["action"] != "no-op"}


def no_changes(cli: Any) -> None:
    proc = cli("plan", "--env", "dev", "--detailed-exitcode")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "No changes" in proc.stdout


def pulled(cli: Any) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(ok(cli("state", "pull", "--env", "dev")).stdout)
    return doc


def content(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if k != "written"}


def object_versions(endpoint: str, bucket: str) -> list[tuple[str, str]]:
    resp = client("s3", endpoint).list_object_versions(Bucket=bucket)
    items = resp.get("Versions", []) + resp.get("DeleteMarkers", [])
    return sorted((v["Key"], v["VersionId"]) for v in items)


def project_yaml(project: str, endpoint: str, state: str, resources: str, agents: str = "") -> str:
    text = f"project: {project}\nregion: us-east-1\n"
    if agents:
        text += "agents:\n" + textwrap.indent(textwrap.dedent(agents), "  ")
    text += "resources:\n" + textwrap.indent(textwrap.dedent(resources), "  ")
    text += f'environments:\n  dev:\n    endpoint: "{endpoint}"\n'
    if state:
        text += f"    state: {state}\n"
    return text


# -- two users ------------------------------------------------------------------------------------
TEAM_AGENTS = "bot: {path: agents/bot}\n"
TEAM_RESOURCES = "token: {type: secret, from_env: TOKEN}\nnotes: {type: table, key: id}\n"
TEAM_STATE = "{backend: s3, bucket: team-state, key: team/dev.json, encrypt: client}"


def test_two_working_copies_share_one_state(tmp_path: Path, moto: str, cli_factory: Any) -> None:
    base = project_yaml("team", moto, TEAM_STATE, TEAM_RESOURCES, TEAM_AGENTS)
    with_helper = project_yaml(
        "team", moto, TEAM_STATE, TEAM_RESOURCES, TEAM_AGENTS + "helper: {path: agents/helper}\n"
    )
    agents = {"bot": AGENT, "helper": AGENT}
    a_root = write_project(tmp_path / "alice", base, agents=agents, requirements="")
    b_root = write_project(tmp_path / "bob", base, agents=agents, requirements="")
    # Bob has his own AWS identity (an IAM user with its own access key)
    iam = client("iam", moto)
    iam.create_user(UserName="bob")
    key = iam.create_access_key(UserName="bob")["AccessKey"]
    bob_creds = {"AWS_ACCESS_KEY_ID": key["AccessKeyId"], "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"]}
    common = {"STRANDS_STATE_PASSPHRASE": PASSPHRASE, "TOKEN": "t0ken"}
    alice = make_cli(cli_factory, a_root, common)
    bob = make_cli(cli_factory, b_root, {**common, **bob_creds})
    ci = {
        "GITHUB_ACTIONS": "true",
        "GITHUB_SERVER_URL": "https://github.com",
        "GITHUB_REPOSITORY": "o/r",
        "GITHUB_RUN_ID": "42",
    }
    bob_in_ci = make_cli(cli_factory, b_root, {**common, **bob_creds, **ci})

    first = ok(alice("state", "bootstrap", "--env", "dev"))
    assert "is ready" in first.stderr and "TLS-only" in first.stderr  # http endpoint: no TLS policy
    assert "already ready" in ok(bob("state", "bootstrap", "--env", "dev")).stderr

    ok(alice("deploy", "--env", "dev"))
    # Bob sees Alice's state and the shared fingerprint key: the secret is not "changed"
    no_changes(bob)
    assert not (b_root / ".strands" / "keys").exists()  # the key is in the state bucket, not local

    # Bob adds an agent and deploys it (from CI); Alice, once her yaml has it too, has nothing to do
    (b_root / "strands.yaml").write_text(with_helper)
    ok(bob_in_ci("deploy", "--env", "dev"))
    behind = changes(alice)  # her yaml lacks it: she would delete it, and nothing else
    assert "agent.helper.function" in behind
    assert all(a.startswith("agent.helper.") and act == "delete" for a, act in behind.items()), behind
    (a_root / "strands.yaml").write_text(with_helper)
    no_changes(alice)

    # Alice removes it and deploys; Bob's plan shows nothing to do once his yaml matches
    (a_root / "strands.yaml").write_text(base)
    ok(alice("deploy", "--env", "dev"))
    (b_root / "strands.yaml").write_text(base)
    no_changes(bob)
    functions = {f["FunctionName"] for f in client("lambda", moto).list_functions()["Functions"]}
    assert functions == {"team-dev-bot"}

    # the state history: serials only increase, both identities wrote it
    versions = bob.json("state", "history", "--env", "dev", "-n", "100")
    serials = [v["serial"] for v in versions]
    assert serials == sorted(serials, reverse=True) and len(set(serials)) == len(serials)
    assert serials[0] == pulled(alice)["serial"]
    assert {v["command"] for v in versions} == {"deploy"}
    writers = {v["by"] for v in versions}
    assert "arn:aws:iam::123456789012:user/bob" in writers and len(writers) == 2
    assert all(w and w.startswith("arn:aws:") for w in writers)
    assert len({v["lineage"] for v in versions}) == 1

    # the audit trail: newest first, who/command/result/plan digest; the CI deploy has its run URL
    records = alice.json("history", "--env", "dev")
    assert len(records) == 3
    times = [r["at"] for r in records]
    assert times == sorted(times, reverse=True)
    assert [r["who"] for r in records] == [
        records[0]["who"],
        "arn:aws:iam::123456789012:user/bob",
        records[0]["who"],
    ]
    assert records[0]["who"].startswith("arn:aws:") and records[0]["who"] != records[1]["who"]
    for r in records:
        assert "deploy --env dev" in r["command"] and r["result"] == "ok", r
        assert SHA256.match(r["plan_digest"]), r
    assert [r["ci_url"] for r in records] == [None, "https://github.com/o/r/actions/runs/42", None]
    assert records[1]["changes"].get("create", 0) > 0 and records[0]["changes"].get("delete", 0) > 0
    # nobody clobbered anybody: each deploy started from the serial the one before it wrote
    ordered = list(reversed(records))
    assert ordered[0]["serial_before"] == 0
    for before, after in zip(ordered, ordered[1:], strict=False):
        assert after["serial_before"] == before["serial_after"] < after["serial_after"]
    assert ordered[-1]["serial_after"] == serials[0]


# -- history, rollback, pull and push -------------------------------------------------------------
def test_history_rollback_pull_and_push(tmp_path: Path, moto: str, cli_factory: Any) -> None:
    state = "{backend: s3, bucket: hist-state}"
    one = "notes: {type: table, key: id}\n"
    two = one + "extra: {type: table, key: id}\n"
    three = two + "more: {type: table, key: id}\n"
    root = write_project(tmp_path / "p", project_yaml("hist", moto, state, one), agents={})
    cli = make_cli(cli_factory, root)
    ok(cli("state", "bootstrap", "--env", "dev"))
    for resources in (one, two, three):
        (root / "strands.yaml").write_text(project_yaml("hist", moto, state, resources))
        ok(cli("deploy", "--env", "dev"))
    s1, s2, s3 = (r["serial_after"] for r in reversed(cli.json("history", "--env", "dev")))
    assert 0 < s1 < s2 < s3

    versions = cli.json("state", "history", "--env", "dev", "-n", "100")
    serials = [v["serial"] for v in versions]
    assert serials == sorted(serials, reverse=True) and serials[0] == s3 and {s1, s2} <= set(serials)
    assert all(v["command"] == "deploy" and v["by"] for v in versions)

    old = json.loads(ok(cli("state", "show", "--env", "dev", "--serial", str(s1))).stdout)
    assert old["serial"] == s1 and set(old["resources"]) == {"resource.notes.table"}
    current = json.loads(ok(cli("state", "show", "--env", "dev")).stdout)
    assert current["serial"] == s3 and len(current["resources"]) == 3

    done = ok(cli("state", "rollback", str(s1), "--env", "dev", "--yes"))
    assert f"as serial {s3 + 1}" in done.stderr and "plan" in done.stderr
    restored = pulled(cli)
    assert restored["serial"] == s3 + 1 and restored["resources"] == old["resources"]
    assert restored["lineage"] == old["lineage"] and restored["pending"] == []
    # nothing in AWS changed: the plan adopts what the restored state forgot (found by its tags)
    assert changes(cli) == {"resource.extra.table": "adopt", "resource.more.table": "adopt"}
    assert len(client("dynamodb", moto).list_tables()["TableNames"]) == 3
    assert cli.json("state", "history", "--env", "dev")[0]["command"] == "state rollback"

    # pull, push unchanged: refused (not newer); --force pushes it as a new serial
    saved = tmp_path / "f.json"
    ok(cli("state", "pull", "--env", "dev", "-o", str(saved)))
    assert json.loads(saved.read_text())["serial"] == s3 + 1
    refused(cli("state", "push", str(saved), "--env", "dev"), "not newer", "--force")
    pushed = ok(cli("state", "push", str(saved), "--env", "dev", "--force", "--lock-timeout", "5s"))
    assert f"serial {s3 + 2}" in pushed.stderr
    assert content(pulled(cli)) | {"serial": 0} == content(json.loads(saved.read_text())) | {"serial": 0}

    # a state of another project is refused, even with --force
    doc = json.loads(saved.read_text())
    other = tmp_path / "other.json"
    other.write_text(json.dumps(doc | {"project": "someone-else"}))
    for extra in ((), ("--force",)):
        refused(cli("state", "push", str(other), "--env", "dev", *extra), "'someone-else'")
    assert pulled(cli)["serial"] == s3 + 2

    # a newer serial may be pushed without --force; a rollback to a serial never stored is refused
    ahead = tmp_path / "ahead.json"
    ahead.write_text(json.dumps(doc | {"serial": s3 + 10}))
    ok(cli("state", "push", str(ahead), "--env", "dev"))
    refused(
        cli("state", "rollback", str(s3 + 5), "--env", "dev", "--yes"),
        f"no stored version of the state has serial {s3 + 5}",
        "state history",
    )
    # another lineage (--force replaces the stored one): its history is not this lineage's
    foreign = tmp_path / "foreign.json"
    foreign.write_text(json.dumps(doc | {"lineage": "00000000-0000-4000-8000-000000000000", "serial": 1}))
    refused(cli("state", "push", str(foreign), "--env", "dev"), "lineage", "--force")
    ok(cli("state", "push", str(foreign), "--env", "dev", "--force"))
    refused(cli("state", "rollback", str(s1), "--env", "dev", "--yes"), "lineage", f"version {s1}")
    final = pulled(cli)
    assert final["serial"] == s3 + 11 and final["lineage"] == "00000000-0000-4000-8000-000000000000"
    commands = [r["command"] for r in cli.json("history", "--env", "dev")]
    assert sum(" state push " in c for c in commands) == 3
    assert sum(" state rollback " in c for c in commands) == 1


# -- migration ------------------------------------------------------------------------------------
MIG_RESOURCES = "token: {type: secret, from_env: TOKEN}\nnotes: {type: table, key: id}\n"


def test_migrate_local_to_s3_and_back(tmp_path: Path, moto: str, cli_factory: Any) -> None:
    root = write_project(tmp_path / "p", project_yaml("mig", moto, "", MIG_RESOURCES), agents={})
    cli = make_cli(cli_factory, root, {"TOKEN": "t0ken"})
    ok(cli("deploy", "--env", "dev"))
    before = pulled(cli)
    local = root / ".strands" / "state" / "dev.json"
    assert local.exists()

    (root / "strands.yaml").write_text(
        project_yaml("mig", moto, "{backend: s3, bucket: mig-state}", MIG_RESOURCES)
    )
    ok(cli("state", "bootstrap", "--env", "dev"))
    refused(cli("deploy", "--env", "dev"), "state migrate --env dev --to s3", str(local))
    # the refused deploy wrote nothing (but took and released the lock)
    assert {k for k, _ in object_versions(moto, "mig-state")} <= {"mig/dev.json.lock"}

    moved = ok(cli("state", "migrate", "--env", "dev", "--to", "s3"))
    assert "s3://mig-state/mig/dev.json" in moved.stderr and "verified" in moved.stderr
    in_s3 = pulled(cli)
    assert content(in_s3) == content(before)  # same resources, serial, lineage
    assert not local.exists()
    aside = list(local.parent.glob("dev.json.migrated-*"))
    assert len(aside) == 1 and content(json.loads(aside[0].read_text())) == content(before)
    no_changes(cli)  # the secret too: the fingerprint key moved with the state

    # a teammate's machine: no local fingerprint key; the state goes back to a local file there
    shutil.rmtree(root / ".strands" / "keys")
    no_changes(cli)  # the S3 state carries its own key
    (root / "strands.yaml").write_text(
        project_yaml("mig", moto, "{backend: local, bucket: mig-state}", MIG_RESOURCES)
    )
    back = ok(cli("state", "migrate", "--env", "dev", "--to", "local"))
    assert "s3://mig-state/mig/dev.json" in back.stderr and "verified" in back.stderr
    assert local.exists() and content(pulled(cli)) == content(before)
    assert (root / ".strands" / "keys" / "dev.key").exists()
    no_changes(cli)  # the secret is unchanged: the key came back from S3
    listed = client("s3", moto).list_objects_v2(Bucket="mig-state", Prefix="mig/dev.json")
    assert "mig/dev.json" not in [o["Key"] for o in listed.get("Contents", [])]
    assert "mig/dev.json" in [k for k, _ in object_versions(moto, "mig-state")]  # a previous version
    commands = [r["command"] for r in cli.json("history", "--env", "dev")]
    assert commands[0].endswith("state migrate --env dev --to local"), commands
    assert commands[1].endswith("state migrate --env dev --to s3"), commands


def test_a_refused_plan_does_not_lose_the_secrets_key_of_a_migration(
    tmp_path: Path, moto: str, cli_factory: Any
) -> None:
    root = write_project(tmp_path / "p", project_yaml("mig", moto, "", MIG_RESOURCES), agents={})
    cli = make_cli(cli_factory, root, {"TOKEN": "t0ken"})
    ok(cli("deploy", "--env", "dev"))
    (root / "strands.yaml").write_text(
        project_yaml("mig", moto, "{backend: s3, bucket: mig-state}", MIG_RESOURCES)
    )
    ok(cli("state", "bootstrap", "--env", "dev"))
    refused(cli("plan", "--env", "dev"), "state migrate --env dev --to s3")
    written = {k for k, _ in object_versions(moto, "mig-state")} - {"mig/dev.json.lock"}
    ok(cli("state", "migrate", "--env", "dev", "--to", "s3"))
    assert changes(cli) == {}, "the secret shows as changed after the migration"
    assert written == set(), f"the refused plan wrote {written}"


def test_a_migration_round_trip_keeps_each_audit_record_once(
    tmp_path: Path, moto: str, cli_factory: Any
) -> None:
    root = write_project(tmp_path / "p", project_yaml("mig", moto, "", MIG_RESOURCES), agents={})
    cli = make_cli(cli_factory, root, {"TOKEN": "t0ken"})
    ok(cli("deploy", "--env", "dev"))
    (root / "strands.yaml").write_text(
        project_yaml("mig", moto, "{backend: s3, bucket: mig-state}", MIG_RESOURCES)
    )
    ok(cli("state", "bootstrap", "--env", "dev"))
    ok(cli("state", "migrate", "--env", "dev", "--to", "s3"))
    (root / "strands.yaml").write_text(
        project_yaml("mig", moto, "{backend: local, bucket: mig-state}", MIG_RESOURCES)
    )
    ok(cli("state", "migrate", "--env", "dev", "--to", "local"))
    commands = [r["command"] for r in cli.json("history", "--env", "dev")]
    assert len(commands) == 3 and sum(c.endswith("deploy --env dev") for c in commands) == 1, commands


# -- state surgery --------------------------------------------------------------------------------
def test_state_surgery_rm_and_mv(tmp_path: Path, moto: str, cli_factory: Any) -> None:
    resources = "notes: {type: table, key: id}\nlog: {type: table, key: id}\n"
    root = write_project(
        tmp_path / "p", project_yaml("surg", moto, "{backend: s3, bucket: surg-state}", resources), agents={}
    )
    cli = make_cli(cli_factory, root)
    ok(cli("state", "bootstrap", "--env", "dev"))
    ok(cli("deploy", "--env", "dev"))
    ddb = client("dynamodb", moto)
    ddb.put_item(TableName="surg-dev-notes", Item={"id": {"S": "keep-me"}})
    listed = cli.json("state", "list", "--env", "dev")
    assert {r["address"]: r["physical_id"] for r in listed} == {
        "resource.notes.table": "surg-dev-notes",
        "resource.log.table": "surg-dev-log",
    }
    assert all(r["type"] == "aws.dynamodb.table" for r in listed)

    # rm: forgotten, not deleted; the plan adopts it back (found by its tags), with its data
    refused(
        cli("state", "rm", "resource.notes.tabel", "--env", "dev"),
        "no resource 'resource.notes.tabel'",
        "did you mean 'resource.notes.table'?",
    )
    gone = ok(cli("state", "rm", "resource.notes.table", "--env", "dev", "--lock-timeout", "5s"))
    assert "not deleted" in gone.stderr
    assert "surg-dev-notes" in ddb.list_tables()["TableNames"]
    assert [r["address"] for r in cli.json("state", "list", "--env", "dev")] == ["resource.log.table"]
    assert changes(cli) == {"resource.notes.table": "adopt"}
    adopted = ok(cli("deploy", "--env", "dev"))
    assert "adopt" in adopted.stdout + adopted.stderr
    no_changes(cli)
    assert ddb.scan(TableName="surg-dev-notes")["Items"] == [{"id": {"S": "keep-me"}}]

    # mv to an address the configuration does not have: the plan would delete it and create
    # another; moving it back makes the plan clean again (same resource, no replacement)
    ok(cli("state", "mv", "resource.notes.table", "resource.archive.table", "--env", "dev"))
    assert changes(cli) == {"resource.notes.table": "create", "resource.archive.table": "delete"}
    refused(
        cli("state", "mv", "resource.archive.tabel", "resource.notes.table", "--env", "dev"),
        "no resource 'resource.archive.tabel'",
        "did you mean 'resource.archive.table'?",
    )
    refused(
        cli("state", "mv", "resource.archive.table", "resource.log.table", "--env", "dev"),
        "already has a resource at 'resource.log.table'",
    )
    refused(cli("state", "mv", "resource.archive.table", "notes", "--env", "dev"), "not a resource address")
    ok(cli("state", "mv", "resource.archive.table", "resource.notes.table", "--env", "dev"))
    no_changes(cli)
    assert {r["physical_id"] for r in cli.json("state", "list", "--env", "dev")} == {
        "surg-dev-notes",
        "surg-dev-log",
    }
    assert ddb.scan(TableName="surg-dev-notes")["Items"] == [{"id": {"S": "keep-me"}}]

    # each change is a new serial in the history and a record in the audit trail
    top = [v["command"] for v in cli.json("state", "history", "--env", "dev", "-n", "3")]
    assert top[:2] == ["state mv", "state mv"]
    details = [r.get("detail") for r in cli.json("history", "--env", "dev")]
    assert "moved resource.archive.table to resource.notes.table" in details
    assert "forgot resource.notes.table" in details


# -- the lock -------------------------------------------------------------------------------------
HOLDER = """\
import sys, time
from pathlib import Path
from strands_deploy.config.loader import load_project
from strands_deploy.stateops.backends import make_backend

backend = make_backend(load_project(Path(sys.argv[1])), "dev")
held = backend.lock("deploy --env dev")
print("locked", held.id, flush=True)
time.sleep(float(sys.argv[2]))
backend.unlock(held)
print("unlocked", flush=True)
"""


def start_holder(root: Path, hold: float) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(root), str(hold)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def read_line(proc: subprocess.Popen[str], timeout: float = 30.0) -> str:
    assert proc.stdout is not None
    with selectors.DefaultSelector() as sel:
        sel.register(proc.stdout, selectors.EVENT_READ)
        if not sel.select(timeout):
            raise AssertionError(f"no output from pid {proc.pid} in {timeout}s")
    line = proc.stdout.readline()
    assert line, f"pid {proc.pid} exited: {proc.stderr.read() if proc.stderr else ''}"
    return line.strip()


def test_the_state_lock(tmp_path: Path, moto: str, cli_factory: Any) -> None:
    root = write_project(
        tmp_path / "p",
        project_yaml(
            "lk", moto, "{backend: s3, bucket: lk-state, lock: s3}", "notes: {type: table, key: id}\n"
        ),
        agents={},
    )
    cli = make_cli(cli_factory, root)
    ok(cli("state", "bootstrap", "--env", "dev"))

    holder = start_holder(root, 300)
    try:
        word, lock_id = read_line(holder).split()
        assert word == "locked"
        started = time.monotonic()
        msg = refused(
            cli("deploy", "--env", "dev"), f"pid {holder.pid}", f"--force {lock_id}", "--lock-timeout"
        )
        assert time.monotonic() - started < 15  # at once, no waiting
        assert "deploy --env dev" in msg  # the holder's command
        refused(cli("state", "unlock", "--env", "dev"), "running process", f"--force {lock_id}")
        refused(
            cli("state", "unlock", "--env", "dev", "--force", "WRONGID"),
            "not WRONGID",
            "nothing was released",
        )
        released = ok(cli("state", "unlock", "--env", "dev", "--force", lock_id))
        assert "Released the lock" in released.stderr and f"pid {holder.pid}" in released.stderr
        assert "not locked" in ok(cli("state", "unlock", "--env", "dev")).stderr
    finally:
        stop_process(holder)  # type: ignore[arg-type]
    assert client("dynamodb", moto).list_tables()["TableNames"] == []  # the refused deploy did nothing

    # --lock-timeout waits (with a countdown on stderr) for a holder that finishes
    holder = start_holder(root, 3)
    try:
        assert read_line(holder).startswith("locked ")
        waited = ok(cli("deploy", "--env", "dev", "--lock-timeout", "30s"))
        assert "Waiting for the state lock held by" in waited.stderr
        assert f"pid {holder.pid}" in waited.stderr
        assert holder.wait(timeout=30) == 0 and read_line(holder) == "unlocked"
    finally:
        stop_process(holder)  # type: ignore[arg-type]
    assert client("dynamodb", moto).list_tables()["TableNames"] == ["lk-dev-notes"]
    assert "not locked" in ok(cli("state", "unlock", "--env", "dev")).stderr
    records = cli.json("history", "--env", "dev")
    assert (
        records[0]["command"].endswith("deploy --env dev --lock-timeout 30s") and records[0]["result"] == "ok"
    )


# -- bad input ------------------------------------------------------------------------------------
# environments text -> (line of the problem, words of the message, whether it comes with a fix).
BAD = {
    "  dev:\n    state:\n      backend: s3\n      bucket: team-state\n      lokc: s3\n": (
        10,
        "unknown key 'lokc'",
        True,
    ),
    "  dev:\n    state:\n      backend: s3\n": (8, "needs `bucket:`", True),
    "  dev:\n    state:\n      backend: nope\n": (8, "Input should be 'local' or 's3'", True),
    "  dev:\n    state:\n      backend: s3\n      bucket: team-state\n      lock: dynamodb\n": (
        8,
        "needs `lock_table:`",
        True,
    ),
    "  dev:\n    state: {backend: s3, bucket: team-state, key: k.json}\n"
    "  prod:\n    state: {backend: s3, bucket: team-state, key: k.json}\n": (
        9,
        "would share the state",
        True,
    ),
    "  local:\n    state:\n      backend: s3\n      bucket: team-state\n": (8, "embedded local cloud", True),
}


def test_bad_input(tmp_path: Path, moto: str, cli_factory: Any) -> None:
    header = "project: acme\nregion: us-east-1\nagents:\n  bot: {path: agents/bot}\nenvironments:\n"
    for i, (envs, (line, words, has_fix)) in enumerate(BAD.items()):
        root = write_project(tmp_path / f"bad{i}", header + envs, agents={"bot": AGENT}, requirements="")
        proc = make_cli(cli_factory, root)("validate")
        assert proc.returncode == 1, proc.stdout + proc.stderr
        assert "Traceback" not in proc.stderr
        assert f"{root / 'strands.yaml'}:{line}:" in proc.stderr, proc.stderr
        assert words in proc.stderr, proc.stderr
        assert not has_fix or "\n  fix: " in proc.stderr, proc.stderr

    # a bucket that does not exist yet: the fix is to bootstrap it
    state = "{backend: s3, bucket: enc-state, encrypt: client}"
    root = write_project(
        tmp_path / "p", project_yaml("enc", moto, state, "notes: {type: table, key: id}\n"), agents={}
    )
    right = make_cli(cli_factory, root, {"STRANDS_STATE_PASSPHRASE": PASSPHRASE})
    missing = make_cli(cli_factory, root)
    refused(right("deploy", "--env", "dev"), "enc-state", "state bootstrap --env dev")
    ok(missing("state", "bootstrap", "--env", "dev"))  # bootstrap never reads the state: no passphrase
    ok(right("deploy", "--env", "dev"))
    stored = object_versions(moto, "enc-state")
    body = client("s3", moto).get_object(Bucket="enc-state", Key="enc/dev.json")["Body"].read()
    assert b"enc-dev-notes" not in body  # encrypted before upload

    # encrypted state with a wrong or missing passphrase: a clear error, nothing written
    text = project_yaml("enc", moto, state, "notes: {type: table, key: id}\nmore: {type: table, key: id}\n")
    (root / "strands.yaml").write_text(text)
    wrong = make_cli(cli_factory, root, {"STRANDS_STATE_PASSPHRASE": "not the passphrase"})
    for cli, words in ((wrong, "cannot decrypt"), (missing, "STRANDS_STATE_PASSPHRASE is not set")):
        refused(cli("deploy", "--env", "dev"), words, "STRANDS_STATE_PASSPHRASE")
        refused(cli("state", "pull", "--env", "dev"), words)
    refused(wrong("plan", "--env", "dev"), "cannot decrypt")
    assert [k for k in object_versions(moto, "enc-state") if not k[0].endswith(".lock")] == [
        k for k in stored if not k[0].endswith(".lock")
    ]
    assert client("dynamodb", moto).list_tables()["TableNames"] == ["enc-dev-notes"]
    assert changes(right) == {"resource.more.table": "create"}  # the state is intact
