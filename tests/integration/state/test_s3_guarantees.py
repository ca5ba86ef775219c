"""The S3 state backend's guarantees, end to end: a real moto server over HTTP, the real boto3
adapters (S3ObjectStore, KmsDataKeys), real threads and a real SIGKILLed process.

- of 50 concurrent lockers exactly one wins, the others fail at once naming the holder;
- a writer whose lock was forced away can neither write nor keep going;
- a writer killed mid-write leaves a valid state and a lock recognised as stale;
- the heartbeat keeps a lock fresh, and its silence marks the lock stale;
- client-side encryption leaves nothing readable in the bucket; SSE-KMS is requested;
- bucket versions are the history; the secrets key is one for everyone.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from strands_deploy.aws.kms_keys import KmsDataKeys
from strands_deploy.aws.object_store import S3ObjectStore
from strands_deploy.aws.session import AwsContext
from strands_deploy.errors import StrandsDeployError
from strands_deploy.state.backend import LockedError, LockLostError, StateConflictError
from strands_deploy.state.crypto import PASSPHRASE_ENV, Sealer, kms_sealer, passphrase_sealer
from strands_deploy.state.model import PendingOperation, ResourceState, State
from strands_deploy.state.s3 import S3Backend
from strands_deploy.stateops.audit import record
from strands_deploy.stateops.history import find_serial, history
from strands_deploy.stateops.lockwait import Heartbeat

BUCKET = "acme-state"
KEY = "acme/dev.json"
ACCOUNT = "123456789012"
IDENTITY = f"arn:aws:sts::{ACCOUNT}:assumed-role/deployer/ci-session"


@pytest.fixture
def s3(aws: AwsContext) -> Any:
    client = aws.client("s3")
    client.create_bucket(Bucket=BUCKET)
    client.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    return client


def make(
    s3: Any,
    key: str = KEY,
    env: str = "dev",
    *,
    sealer: Sealer | None = None,
    kms_key: str | None = None,
    heartbeat_interval: float = 30.0,
) -> S3Backend:
    """A new backend object (a separate process, as far as the state is concerned)."""
    store = S3ObjectStore(s3, BUCKET, kms_key=kms_key)
    return S3Backend(store, key, env, sealer=sealer, heartbeat_interval=heartbeat_interval)


def resource(name: str, **inputs: Any) -> ResourceState:
    return ResourceState(
        "aws_lambda_function",
        f"acme-dev-{name}",
        {"memory": 512, **inputs},
        {"arn": f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:acme-dev-{name}"},
    )


def state(serial: int, *names: str, lineage: str = "lineage-g") -> State:
    s = State(environment="dev", lineage=lineage, serial=serial, project="acme")
    for name in names:
        s.resources[f"agent.{name}.function"] = resource(name)
    return s


def wait_until(condition: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.05)


@pytest.fixture
def count_requests(s3: Any) -> Iterator[dict[str, int]]:
    """Counts the HTTP requests the (shared) S3 client sends, by operation, retries included."""
    counts: dict[str, int] = {}
    mu = threading.Lock()

    def count(model: Any, **kwargs: Any) -> None:
        with mu:
            counts[model.name] = counts.get(model.name, 0) + 1

    s3.meta.events.register("before-call.s3", count, unique_id="guarantees-count")
    try:
        yield counts
    finally:
        s3.meta.events.unregister("before-call.s3", unique_id="guarantees-count")


# -- lock ----------------------------------------------------------------------------------------
def test_of_50_concurrent_lockers_exactly_one_wins_and_the_others_fail_at_once(
    s3: Any, count_requests: dict[str, int]
) -> None:
    n = 50
    backends = [make(s3) for _ in range(n)]
    barrier = threading.Barrier(n)
    won: list[int] = []
    lost: dict[int, LockedError] = {}
    other: list[BaseException] = []
    mu = threading.Lock()

    def attempt(i: int) -> None:
        barrier.wait()
        try:
            backends[i].lock(f"deploy --env dev #{i}")
        except LockedError as e:
            with mu:
                lost[i] = e
        except BaseException as e:  # noqa: BLE001 - reported below
            with mu:
                other.append(e)
        else:
            with mu:
                won.append(i)

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not other, other
    assert len(won) == 1 and len(lost) == n - 1
    winner = won[0]
    holder = make(s3).lock_info()
    assert holder is not None and holder.command == f"deploy --env dev #{winner}"
    for e in lost.values():
        assert f"pid {os.getpid()}" in e.what and f"deploy --env dev #{winner}" in e.what
        assert e.holder is not None and e.holder.id == holder.id
        assert "no longer running" not in e.what  # a live holder is not called stale
    # Failing fast: one conditional create per attempt, one read of the holder per loser — no
    # retry loop, no backoff (botocore's own retries would show here too).
    assert count_requests.get("PutObject") == n
    # each loser reads the holder once; the winner reads its lock back, and fetches the state and
    # the secrets key meanwhile; + the lock_info above. (Under load, moto's conditional create is
    # not atomic and a second create can pass; that loser is refused at its read-back, costing a
    # few more reads.) No retries, no loops.
    assert (n - 1) + 3 + 1 <= count_requests.get("GetObject", 0) <= (n - 1) + 3 + 1 + 12
    backends[winner].unlock()
    assert make(s3).lock_info() is None


def test_a_writer_whose_lock_was_forced_away_cannot_write(s3: Any) -> None:
    a, b = make(s3), make(s3)
    held_a = a.lock("deploy --env dev (A)")
    assert a.read() is None
    a.write(state(1, "bot"))

    b.unlock(force=True)  # `state unlock --force`: A is thought dead, but it is not
    held_b = b.lock("deploy --env dev (B)")
    got = b.read()
    assert got is not None and got.serial == 1
    b.write(state(2, "bot", "b-only"))

    for serial in (2, 3):
        with pytest.raises(StateConflictError, match="changed by another command"):
            a.write(state(serial, "bot", "a-only"))
    with pytest.raises(LockLostError) as info:
        a.verify_lock(held_a)
    assert "deploy --env dev (B)" in info.value.what and f"pid {os.getpid()}" in info.value.what

    stored = make(s3).read()
    assert stored is not None and stored.serial == 2
    assert set(stored.resources) == {"agent.bot.function", "agent.b-only.function"}
    assert stored.written is not None and stored.written["command"] == "deploy --env dev (B)"
    b.verify_lock(held_b)  # B's lock is intact
    with pytest.raises(StrandsDeployError, match="not by this command"):
        a.unlock(held_a)  # A cannot release B's lock either
    assert b.lock_info() is not None and b.lock_info().id == held_b.id  # type: ignore[union-attr]


CHILD = r"""
import sys
from strands_deploy.aws.object_store import S3ObjectStore
from strands_deploy.aws.session import AwsContext, AwsSettings
from strands_deploy.state.model import ResourceState, State
from strands_deploy.state.s3 import S3Backend

endpoint, bucket, key, per_serial = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
aws = AwsContext(AwsSettings(region="us-east-1", endpoint_url=endpoint, local=True, max_attempts=1))
backend = S3Backend(S3ObjectStore(aws.client("s3"), bucket), key, "dev")
backend.lock("deploy --env dev (child)")
state = backend.read() or State(environment="dev", lineage="killed", project="acme")
for serial in range(1, 10_000):
    state.serial = serial
    for i in range(len(state.resources), serial * per_serial):
        state.resources[f"agent.a{i:06d}.function"] = ResourceState(
            "aws_lambda_function", f"acme-dev-a{i}", {"memory": 512, "pad": "x" * 300},
            {"arn": f"arn:aws:lambda:us-east-1:123456789012:function:acme-dev-a{i}"},
        )
    backend.write(state)
    print(serial, flush=True)
"""


def test_a_writer_killed_mid_write_leaves_a_valid_state_and_a_stale_lock(s3: Any, moto: str) -> None:
    per_serial = 300  # each state is ~130 KB larger than the one before
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, moto, BUCKET, KEY, str(per_serial)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        reported: list[int] = []
        assert proc.stdout is not None
        while len(reported) < 3:
            line = proc.stdout.readline()
            assert line, f"the writer exited early: {proc.wait(timeout=10)} {proc.stderr.read()}"  # type: ignore[union-attr]
            reported.append(int(line))
        proc.kill()  # SIGKILL, by pid: no cleanup, no unlock, whatever write is in flight
        proc.wait(timeout=10)
        assert proc.returncode == -9
        reported += [int(line) for line in proc.stdout.read().split()]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)

    fresh = make(s3)
    got = fresh.read()  # a whole version: the last reported, or the one in flight when killed
    assert got is not None and got.serial in (*reported, max(reported) + 1)
    assert len(got.resources) == got.serial * per_serial

    holder = fresh.lock_info()
    assert holder is not None and holder.pid == proc.pid and holder.command == "deploy --env dev (child)"
    assert "no longer running" in (holder.stale_reason() or "")
    with pytest.raises(LockedError) as info:
        fresh.lock("deploy")
    assert "no longer running" in info.value.what and "state unlock --env dev" in (info.value.fix or "")
    fresh.unlock(holder, force=True)
    held = fresh.lock("deploy --env dev (recovery)")
    fresh.verify_lock(held)
    nxt = got.copy()
    nxt.serial += 1
    fresh.write(nxt)
    again = make(s3).read()
    assert again is not None and again.serial == got.serial + 1
    fresh.unlock(held)


@pytest.mark.slow
def test_the_heartbeat_keeps_the_lock_fresh_and_its_silence_makes_it_stale(s3: Any) -> None:
    holder_backend = make(s3, heartbeat_interval=1.0)
    other = make(s3, heartbeat_interval=1.0)
    held = holder_backend.lock("deploy")
    with Heartbeat(holder_backend, held, 1.0) as beat:
        time.sleep(3.5)
        info = other.lock_info()
        assert info is not None and info.id == held.id and info.period == 1.0
        assert info.silent_for is not None and info.silent_for < 2
        assert info.stale_reason() is None
        assert beat.beats >= 2 and beat.error is None
    # the holder "died": no unlock, no more beats (S3's clock has 1-second resolution: wide margin)
    time.sleep(3.5)
    info = other.lock_info()
    assert info is not None and info.id == held.id
    reason = info.stale_reason()
    assert reason is not None and "not been refreshed" in reason
    with pytest.raises(LockedError, match="not been refreshed"):
        other.lock("deploy")


def test_a_forced_unlock_stops_the_heartbeat_and_spares_the_new_lock(s3: Any) -> None:
    a, b = make(s3), make(s3)
    held_a = a.lock("deploy --env dev (A)")
    with Heartbeat(a, held_a, 0.2) as beat:
        wait_until(lambda: beat.beats >= 1)
        b.unlock(force=True)
        held_b = b.lock("deploy --env dev (B)")
        wait_until(lambda: beat.error is not None)
        assert isinstance(beat.error, LockLostError)
        beats = beat.beats
        time.sleep(0.5)
        assert beat.beats == beats  # it stopped at the first failure
    with pytest.raises(LockLostError) as info:
        a.verify_lock(held_a)
    assert "deploy --env dev (B)" in info.value.what or "released" in info.value.what
    with pytest.raises(LockLostError):
        a.heartbeat(held_a)
    # B's record is the one B wrote: its token still holds (refresh, verify, release all work)
    b.heartbeat(held_b)
    b.verify_lock(held_b)
    current = make(s3).lock_info()
    assert current is not None and current.id == held_b.id
    b.unlock(held_b)
    assert make(s3).lock_info() is None


# -- encryption ----------------------------------------------------------------------------------
SECRETS = [
    "agent.bot.function",
    "agent.bot.role",
    "acme-prod-bot",
    "acme-prod-bot-role",
    "arn:aws:",
    ACCOUNT,
    "deploy --env prod",
]


PROD_KEY = "acme/prod.json"


def realistic_state() -> State:
    s = State(environment="prod", lineage="lineage-p", serial=1, project="acme", account=ACCOUNT)
    s.resources["agent.bot.function"] = ResourceState(
        "aws_lambda_function",
        "acme-prod-bot",
        {"memory": 1024, "role": f"arn:aws:iam::{ACCOUNT}:role/acme-prod-bot-role"},
        {"arn": f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:acme-prod-bot"},
        ["agent.bot.role"],
        agent="bot",
    )
    s.resources["agent.bot.role"] = ResourceState(
        "aws_iam_role",
        "acme-prod-bot-role",
        {"trust": "lambda.amazonaws.com"},
        {"arn": f"arn:aws:iam::{ACCOUNT}:role/acme-prod-bot-role"},
        agent="bot",
    )
    s.pending["op-1"] = PendingOperation("op-1", "agent.bot.alias", "aws_lambda_alias", "create", {"n": 1})
    return s


def all_objects(s3: Any) -> dict[tuple[str, str], bytes]:
    """Every version of every object in the bucket, by (key, version id)."""
    out: dict[tuple[str, str], bytes] = {}
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=BUCKET):
        for v in page.get("Versions", []):
            body = s3.get_object(Bucket=BUCKET, Key=v["Key"], VersionId=v["VersionId"])["Body"].read()
            out[(v["Key"], v["VersionId"])] = body
    return out


def kms_key(aws: AwsContext) -> str:
    kms = aws.client("kms")
    key_id = kms.create_key(Description="strands state")["KeyMetadata"]["KeyId"]
    kms.create_alias(AliasName="alias/strands-state", TargetKeyId=key_id)
    return str(key_id)


@pytest.mark.parametrize("kind", ["passphrase", "kms"])
def test_client_side_encryption_leaves_nothing_readable_in_the_bucket(
    aws: AwsContext, s3: Any, kind: str
) -> None:
    location = f"s3://{BUCKET}/{PROD_KEY}"

    def sealer() -> Sealer:
        if kind == "kms":
            return kms_sealer(KmsDataKeys(aws, "alias/strands-state", location))
        return passphrase_sealer("correct horse battery staple")

    if kind == "kms":
        kms_key(aws)
    writer = make(s3, PROD_KEY, "prod", sealer=sealer())
    writer.identity = IDENTITY
    held = writer.lock("deploy --env prod")
    assert writer.read() is None
    writer.write(realistic_state())
    writer.append_audit(
        record(
            environment="prod",
            command="deploy --env prod --target agent.bot.function",
            who=IDENTITY,
            result="ok",
            detail="created acme-prod-bot",
            serial_after=1,
            environ={},
        )
    )
    key = writer.secrets_key()
    writer.unlock(held)

    stored = all_objects(s3)
    kinds = {k.split(".json", 1)[1].split("/")[0] for k, _ in stored}
    assert {"", ".audit", ".secrets-key", ".lock"} <= kinds  # state, audit, key and (old) lock
    for (name, version), body in stored.items():
        if name.endswith(".lock"):
            # The lock is not sealed: whoever finds the state locked must see who holds it.
            # It names the holder and the command, never a resource.
            assert b"agent.bot" not in body and b"acme-prod-bot" not in body
            continue
        for secret in SECRETS:
            assert secret.encode() not in body, f"{secret!r} in plain text in {name} ({version})"
        assert key not in body  # the secrets key is sealed too

    reader = make(s3, PROD_KEY, "prod", sealer=sealer())  # a teammate with the same key / passphrase
    got = reader.read()
    assert got is not None and got.resources["agent.bot.function"].physical_id == "acme-prod-bot"
    assert got.written is not None and got.written["by"] == IDENTITY
    assert reader.secrets_key() == key
    (audit,) = reader.audit()
    assert audit["command"] == "deploy --env prod --target agent.bot.function"

    before = set(all_objects(s3))
    if kind == "passphrase":
        wrong = make(s3, PROD_KEY, "prod", sealer=passphrase_sealer("not the passphrase"))
        with pytest.raises(StrandsDeployError) as info:
            wrong.read()
        assert PASSPHRASE_ENV in info.value.what and PASSPHRASE_ENV in (info.value.fix or "")
        with pytest.raises(StrandsDeployError, match=PASSPHRASE_ENV):
            wrong.secrets_key()
        # an audit record it cannot open is listed as unreadable; it never hides the others
        (unreadable,) = wrong.audit()
        assert unreadable["result"] == "unreadable" and PASSPHRASE_ENV in unreadable["detail"]
        with pytest.raises(StateConflictError):  # it never read the state: no blind overwrite
            wrong.write(realistic_state())
    else:
        other = make(s3, PROD_KEY, "prod", sealer=passphrase_sealer("a passphrase"))
        with pytest.raises(StrandsDeployError) as info:
            other.read()
        assert "KMS key 'alias/strands-state'" in info.value.what and "kms_key" in (info.value.fix or "")
    assert set(all_objects(s3)) == before  # nothing was written

    plain = make(s3, PROD_KEY, "prod")
    with pytest.raises(StrandsDeployError) as info:
        plain.read()
    assert "encrypted client-side" in info.value.what and "encrypt: client" in (info.value.fix or "")
    with pytest.raises(StrandsDeployError, match="encrypted client-side"):
        plain.secrets_key()
    assert set(all_objects(s3)) == before


def test_sse_kms_is_requested_on_every_object(aws: AwsContext, s3: Any) -> None:
    key_id = kms_key(aws)
    backend = make(s3, kms_key=key_id)
    held = backend.lock("deploy")
    assert backend.read() is None
    backend.write(state(1, "bot"))
    backend.secrets_key()
    head = s3.head_object(Bucket=BUCKET, Key=KEY)
    assert head["ServerSideEncryption"] == "aws:kms"
    assert key_id in head["SSEKMSKeyId"]
    lock = s3.head_object(Bucket=BUCKET, Key=f"{KEY}.lock")
    assert lock["ServerSideEncryption"] == "aws:kms"
    got = make(s3, kms_key=key_id).read()
    assert got is not None and got.serial == 1
    backend.unlock(held)


# -- history ---------------------------------------------------------------------------------------
def test_bucket_versions_are_the_history(s3: Any) -> None:
    backend = make(s3)
    backend.identity = IDENTITY
    assert backend.read() is None
    s = state(1, "a", "b")
    steps = [
        ("deploy #1", lambda s: None),
        ("deploy #2", lambda s: s.resources.__setitem__("agent.c.function", resource("c"))),
        ("deploy #3", lambda s: s.resources.__setitem__("agent.a.function", resource("a", memory=2048))),
        ("state rm agent.b.function", lambda s: s.resources.pop("agent.b.function")),
        (
            "deploy #5",
            lambda s: (
                s.resources.__setitem__("agent.d.function", resource("d")),
                s.pending.__setitem__(
                    "op", PendingOperation("op", "agent.e.function", "aws_lambda_function", "create", {})
                ),
            ),
        ),
    ]
    for serial, (command, change) in enumerate(steps, start=1):
        s.serial = serial
        change(s)
        backend.command = command
        backend.write(s)

    versions = backend.versions()
    assert len(versions) == 5 and not any(v.deleted for v in versions)
    assert [backend.read_version(v.ref).serial for v in versions] == [5, 4, 3, 2, 1]
    assert [v.ref for v in backend.versions(2)] == [v.ref for v in versions[:2]]

    entries = history(backend, limit=3)
    assert [e.serial for e in entries] == [5, 4, 3]
    assert [e.command for e in entries] == ["deploy #5", "state rm agent.b.function", "deploy #3"]
    assert all(e.by == IDENTITY and e.lineage == "lineage-g" and e.error is None for e in entries)
    assert [e.summary for e in entries] == [
        "+1 agent.d.function; 1 in flight",
        "-1 agent.b.function",
        "~1 agent.a.function",
    ]
    assert [e.ref for e in entries] == [v.ref for v in versions[:3]]

    second = find_serial(backend, 2)
    assert second.serial == 2 and "agent.c.function" in second.resources
    assert "agent.d.function" not in second.resources
    with pytest.raises(StrandsDeployError, match="no stored version of the state has serial 9"):
        find_serial(backend, 9)


# -- secrets key -----------------------------------------------------------------------------------
def test_the_secrets_key_is_shared(s3: Any) -> None:
    first = make(s3).secrets_key()
    assert len(first) == 32
    assert make(s3).secrets_key() == first

    n = 10
    backends = [make(s3, PROD_KEY, "prod") for _ in range(n)]
    barrier = threading.Barrier(n)
    keys: list[bytes] = []
    errors: list[BaseException] = []
    mu = threading.Lock()

    def first_use(b: S3Backend) -> None:
        barrier.wait()
        try:
            got = b.secrets_key()
        except BaseException as e:  # noqa: BLE001 - reported below
            with mu:
                errors.append(e)
            return
        with mu:
            keys.append(got)

    threads = [threading.Thread(target=first_use, args=(b,)) for b in backends]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    assert len(keys) == n and len(set(keys)) == 1 and keys[0] != first
    stored = s3.list_object_versions(Bucket=BUCKET, Prefix=f"{PROD_KEY}.secrets-key")["Versions"]
    assert len(stored) == 1  # created once: every other first user read it
    assert make(s3, PROD_KEY, "prod").secrets_key() == keys[0]
