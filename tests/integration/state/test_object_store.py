"""S3ObjectStore against a real moto server: conditional writes, versions, errors."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from strands_deploy.aws.object_store import S3ObjectStore, server_time, store_error
from strands_deploy.aws.session import AwsContext
from strands_deploy.state.remote import PreconditionFailed, StoreError

BUCKET = "acme-state"


@pytest.fixture
def s3(aws: AwsContext) -> Any:
    client = aws.client("s3")
    client.create_bucket(Bucket=BUCKET)
    return client


@pytest.fixture
def store(s3: Any) -> S3ObjectStore:
    return S3ObjectStore(s3, BUCKET)


@pytest.fixture
def versioned(s3: Any) -> S3ObjectStore:
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    return S3ObjectStore(s3, BUCKET)


def test_put_get_round_trip(store: S3ObjectStore) -> None:
    etag = store.put("envs/dev/state.json", b'{"serial": 1}')
    got = store.get("envs/dev/state.json")
    assert got is not None
    assert got.body == b'{"serial": 1}'
    assert got.etag == etag
    assert etag.startswith('"') and etag.endswith('"')
    assert store.location("envs/dev/state.json") == "s3://acme-state/envs/dev/state.json"


def test_get_missing_is_none(store: S3ObjectStore) -> None:
    assert store.get("nothing/here") is None


def test_times_are_filled(store: S3ObjectStore) -> None:
    store.put("k", b"x")
    got = store.get("k")
    assert got is not None
    assert got.last_modified is not None and got.server_time is not None
    # moto's clock is this machine's clock
    assert abs(got.server_time - time.time()) < 120
    assert abs(got.last_modified - got.server_time) < 120


def test_server_time_parses_the_date_header() -> None:
    response = {"ResponseMetadata": {"HTTPHeaders": {"date": "Tue, 01 Apr 2025 10:00:00 GMT"}}}
    assert server_time(response) == 1743501600.0
    assert server_time({"ResponseMetadata": {"HTTPHeaders": {}}}) is None
    assert server_time({"ResponseMetadata": {"HTTPHeaders": {"date": "garbage"}}}) is None


def test_if_absent_has_exactly_one_winner(store: S3ObjectStore) -> None:
    barrier = threading.Barrier(20)
    winners: list[int] = []
    losers: list[int] = []
    errors: list[BaseException] = []

    def race(i: int) -> None:
        barrier.wait()
        try:
            store.put("lock", f"writer {i}".encode(), if_absent=True)
            winners.append(i)
        except PreconditionFailed:
            losers.append(i)
        except BaseException as err:  # pragma: no cover - reported below
            errors.append(err)

    threads = [threading.Thread(target=race, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(winners) == 1 and len(losers) == 19
    got = store.get("lock")
    assert got is not None and got.body == f"writer {winners[0]}".encode()


def test_if_match_stale_etag_is_refused(store: S3ObjectStore) -> None:
    first = store.put("k", b"one")
    second = store.put("k", b"two", if_match=first)
    with pytest.raises(PreconditionFailed):
        store.put("k", b"three", if_match=first)
    got = store.get("k")
    assert got is not None and got.body == b"two" and got.etag == second


def test_conditional_put_on_missing_key_fails(store: S3ObjectStore) -> None:
    with pytest.raises(PreconditionFailed):
        store.put("missing", b"x", if_match='"0123456789abcdef0123456789abcdef"')
    assert store.get("missing") is None


def test_if_absent_on_existing_key_fails(store: S3ObjectStore) -> None:
    store.put("k", b"one")
    with pytest.raises(PreconditionFailed):
        store.put("k", b"two", if_absent=True)
    got = store.get("k")
    assert got is not None and got.body == b"one"


def test_delete_if_match(store: S3ObjectStore) -> None:
    first = store.put("k", b"one")
    second = store.put("k", b"two")
    with pytest.raises(PreconditionFailed):
        store.delete("k", if_match=first)
    assert store.get("k") is not None
    store.delete("k", if_match=second)
    assert store.get("k") is None
    with pytest.raises(PreconditionFailed):
        store.delete("k", if_match=second)
    store.delete("k")  # unconditional delete of a missing key: fine


def test_list_keys(store: S3ObjectStore) -> None:
    for key in ("envs/prod/state.json", "envs/dev/state.json", "other/x", "envs/dev/lock"):
        store.put(key, b"x")
    assert store.list_keys("envs/") == ["envs/dev/lock", "envs/dev/state.json", "envs/prod/state.json"]
    assert store.list_keys("nope/") == []


def test_versioning_enabled(s3: Any, store: S3ObjectStore) -> None:
    assert store.versioning_enabled() is False
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    assert store.versioning_enabled() is True


def test_versions_newest_first_with_delete_marker(versioned: S3ObjectStore) -> None:
    store = versioned
    store.put("state.json", b"v1")
    store.put("state.json2", b"a sibling key, not a version")
    store.put("state.json", b"v2")
    store.delete("state.json")
    versions = store.versions("state.json")
    assert len(versions) == 3
    assert versions[0].deleted and versions[0].is_latest
    assert [v.deleted for v in versions[1:]] == [False, False]
    bodies = []
    for v in versions[1:]:
        got = store.get("state.json", version_id=v.version_id)
        assert got is not None and got.version_id == v.version_id
        bodies.append(got.body)
    assert bodies == [b"v2", b"v1"]
    assert all(a.last_modified >= b.last_modified for a, b in zip(versions, versions[1:], strict=False))
    assert store.versions("never-written") == []


def test_versions_ordered_by_time(versioned: S3ObjectStore) -> None:
    """A delete marker between two versions sorts by time (moto's clock has 1 s resolution)."""
    store = versioned
    store.put("k", b"v1")
    time.sleep(1.1)
    store.delete("k")
    time.sleep(1.1)
    store.put("k", b"v3")
    versions = store.versions("k")
    assert [v.deleted for v in versions] == [False, True, False]
    assert [v.is_latest for v in versions] == [True, False, False]


def test_get_of_a_version(versioned: S3ObjectStore) -> None:
    store = versioned
    store.put("k", b"old")
    store.put("k", b"new")
    old = store.versions("k")[-1]
    got = store.get("k", version_id=old.version_id)
    assert got is not None and got.body == b"old" and got.version_id == old.version_id
    latest = store.get("k")
    assert latest is not None and latest.body == b"new"
    assert store.get("k", version_id="no-such-version") is None


def test_sse_kms_put(aws: AwsContext, s3: Any) -> None:
    key_id = aws.client("kms").create_key(Description="state")["KeyMetadata"]["KeyId"]
    store = S3ObjectStore(s3, BUCKET, kms_key=key_id)
    store.put("secret-state.json", b"{}")
    head = s3.head_object(Bucket=BUCKET, Key="secret-state.json")
    assert head["ServerSideEncryption"] == "aws:kms"
    assert key_id in head["SSEKMSKeyId"]
    got = store.get("secret-state.json")
    assert got is not None and got.body == b"{}"
    # conditional writes keep the encryption
    store.put("secret-state.json", b'{"a": 1}', if_match=got.etag)
    assert s3.head_object(Bucket=BUCKET, Key="secret-state.json")["ServerSideEncryption"] == "aws:kms"


@pytest.mark.parametrize(
    "call",
    [
        lambda st: st.get("k"),
        lambda st: st.put("k", b"x"),
        lambda st: st.put("k", b"x", if_absent=True),
        lambda st: st.delete("k", if_match='"x"'),
        lambda st: st.list_keys(""),
        lambda st: st.versions("k"),
        lambda st: st.versioning_enabled(),
    ],
)
def test_missing_bucket_names_the_bootstrap_command(aws: AwsContext, call: Any) -> None:
    store = S3ObjectStore(
        aws.client("s3"), "acme-missing", bootstrap_hint="strands-deploy state bootstrap --env dev"
    )
    with pytest.raises(StoreError) as info:
        call(store)
    err = info.value
    assert "acme-missing does not exist" in err.what
    assert err.where is not None and err.where.startswith("s3://acme-missing")
    assert err.fix == "create it with `strands-deploy state bootstrap --env dev`"
    assert "Traceback" not in str(err)


def test_unreachable_endpoint_is_a_store_error() -> None:
    from strands_deploy.aws.session import AwsSettings

    port_free = AwsContext(
        AwsSettings(region="us-east-1", endpoint_url="http://127.0.0.1:9", local=True, max_attempts=1)
    )
    store = S3ObjectStore(port_free.client("s3"), BUCKET)
    with pytest.raises(StoreError) as info:
        store.get("k")
    assert "cannot reach S3" in info.value.what
    assert info.value.where == "s3://acme-state/k"


def _client_error(code: str, message: str, operation: str = "PutObject") -> Exception:
    from botocore.exceptions import ClientError

    return ClientError({"Error": {"Code": code, "Message": message}}, operation)


def test_access_denied_names_the_action() -> None:
    err = store_error(_client_error("AccessDenied", "Access Denied"), "s3://b/k", "s3:PutObject")
    assert err.fix is not None and "s3:PutObject" in err.fix and "kms:" not in err.fix
    assert err.where == "s3://b/k"


def test_access_denied_by_kms_names_the_kms_actions() -> None:
    message = "User: arn:aws:iam::1:user/x is not authorized to perform: kms:GenerateDataKey on resource"
    err = store_error(_client_error("AccessDenied", message), "s3://b/k", "s3:PutObject")
    assert err.fix is not None
    assert "s3:PutObject" in err.fix and "kms:GenerateDataKey" in err.fix and "kms:Decrypt" in err.fix


def test_credential_errors_say_how_to_refresh() -> None:
    err = store_error(_client_error("ExpiredToken", "The token expired"), "s3://b/k", "s3:GetObject")
    assert err.fix is not None and "aws sso login" in err.fix


def test_other_errors_carry_aws_message() -> None:
    err = store_error(
        _client_error("InternalError", "We encountered an internal error"), "s3://b/k", "s3:GetObject"
    )
    assert isinstance(err, StoreError)
    assert "We encountered an internal error" in str(err)


def test_missing_credentials_say_how_to_refresh() -> None:
    from botocore.exceptions import NoCredentialsError

    err = store_error(NoCredentialsError(), "s3://b/k", "s3:GetObject")
    assert err.fix is not None and "aws sso login" in err.fix
