"""The state backend of an environment, as its configuration describes it.

``local`` (the default): ``.strands/state/<env>.json``. ``s3``: the object ``state.key`` (default
``<project>/<env>.json``) of ``state.bucket``, in ``state.region`` (default: the environment's),
reached with the environment's profile and endpoint; locked by an S3 conditional write or a
DynamoDB lock table; encrypted by S3 with ``kms_key`` and, with ``encrypt: client``, before upload.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from strands_deploy.aws.session import AwsContext, AwsSettings
from strands_deploy.config.loader import LOCAL_ENV, Project, state_key
from strands_deploy.errors import StrandsDeployError
from strands_deploy.state.backend import LocalFileBackend, StateBackend
from strands_deploy.state.crypto import Sealer

Kind = Literal["local", "s3"]


def local_backend(project: Project, env_name: str) -> LocalFileBackend:
    return LocalFileBackend(project.root / ".strands" / "state", env_name)


def state_aws(project: Project, env_name: str) -> AwsContext:
    """The AWS context the state bucket is reached with (its own region, the env's credentials)."""
    env = project.environment(env_name)
    return AwsContext(
        AwsSettings(
            region=env.state.region or project.region(env_name),
            endpoint_url=env.endpoint,
            profile=env.profile,
            local=env_name == LOCAL_ENV,
            pacing=False,
        )
    )


def make_backend(
    project: Project,
    env_name: str,
    kind: Kind | None = None,
    *,
    aws: AwsContext | None = None,
    heartbeat_interval: float | None = None,
) -> StateBackend:
    """The backend ``kind`` (default: the configured one) of ``env_name``."""
    env = project.environment(env_name)
    kind = kind or env.state.backend
    if kind == "local":
        return local_backend(project, env_name)
    st = env.state
    if not st.bucket:
        raise StrandsDeployError(
            f"environment {env_name!r} has no state bucket",
            f"environments.{env_name}.state",
            "add `bucket:` (and create it with `strands-deploy state bootstrap --env " + env_name + "`)",
        )
    from strands_deploy.aws.object_store import S3ObjectStore
    from strands_deploy.state.s3 import S3Backend

    aws = aws or state_aws(project, env_name)
    hint = f"strands-deploy state bootstrap --env {env_name}"
    store = S3ObjectStore(aws.client("s3"), st.bucket, kms_key=st.kms_key, bootstrap_hint=hint)
    key = state_key(project.config, env_name)
    slot = None
    if st.lock == "dynamodb" and st.lock_table:
        from strands_deploy.aws.lock_table import DynamoLockSlot

        slot = DynamoLockSlot(
            aws.client("dynamodb"), st.lock_table, f"{st.bucket}/{key}", bootstrap_hint=f"{hint} --lock-table"
        )
    extra = {} if heartbeat_interval is None else {"heartbeat_interval": heartbeat_interval}
    return S3Backend(
        store,
        key,
        env_name,
        lock_slot=slot,
        sealer=_sealer(project, env_name, aws, store.location(key)),
        **extra,
    )


def _sealer(project: Project, env_name: str, aws: AwsContext, location: str) -> Sealer:
    from strands_deploy.state import crypto

    st = project.environment(env_name).state
    if st.encrypt != "client":
        return crypto.plain_sealer()
    if st.kms_key:
        from strands_deploy.aws.kms_keys import KmsDataKeys

        return crypto.kms_sealer(
            KmsDataKeys(aws, st.kms_key, location, config=f"environments.{env_name}.state")
        )
    passphrase = os.environ.get(crypto.PASSPHRASE_ENV)
    if not passphrase:
        return _NoPassphrase(env_name)
    return crypto.passphrase_sealer(passphrase)


class _NoPassphrase:
    """The sealer of a passphrase-encrypted state when no passphrase is set: commands that never
    touch the state (bootstrap, validate) work; reading or writing it says what to set."""

    def __init__(self, env_name: str) -> None:
        self.env_name = env_name

    def _error(self) -> StrandsDeployError:
        from strands_deploy.state.crypto import PASSPHRASE_ENV

        return StrandsDeployError(
            f"environment {self.env_name!r} encrypts its state client-side with a passphrase, but "
            f"{PASSPHRASE_ENV} is not set",
            f"environments.{self.env_name}.state.encrypt",
            f"export {PASSPHRASE_ENV}=... (the team's state passphrase), or set `kms_key:` to use a "
            "KMS key instead",
        )

    def seal(self, plaintext: bytes) -> bytes:
        raise self._error()

    def open(self, blob: bytes, where: str) -> bytes:
        raise self._error()


def local_state_exists(project: Project, env_name: str) -> Path | None:
    """The local state file of ``env_name`` when there is one (a state not yet migrated)."""
    path = project.root / ".strands" / "state" / f"{env_name}.json"
    return path if path.exists() else None


def remote_state_exists(project: Project, env_name: str, aws: AwsContext | None = None) -> str | None:
    """Where the S3 state of ``env_name`` is, when a bucket is configured and holds one."""
    st = project.environment(env_name).state
    if not st.bucket:
        return None
    from strands_deploy.aws.object_store import S3ObjectStore

    aws = aws or state_aws(project, env_name)
    store = S3ObjectStore(aws.client("s3"), st.bucket)
    key = state_key(project.config, env_name)
    try:
        return store.location(key) if store.get(key) is not None else None
    except StrandsDeployError:
        return None  # no bucket (or no access): nothing there to lose


def refuse_unmigrated(project: Project, env_name: str, location: str, aws: AwsContext | None) -> None:
    """Called when the configured backend (at ``location``) holds no state: raise if the other
    backend holds it (S3 is checked only while a bucket is still configured)."""
    st = project.environment(env_name).state
    if st.backend == "local":
        where = remote_state_exists(project, env_name, aws)
        if where is not None:
            raise StrandsDeployError(
                f"environment {env_name!r} is configured for local state, which is empty, but its "
                f"state is in {where}",
                f"environments.{env_name}.state",
                f"move it first: `strands-deploy state migrate --env {env_name} --to local` (keep "
                "`bucket:` in strands.yaml until then), or set `backend: s3` back",
            )
        return
    path = local_state_exists(project, env_name)
    if path is not None:
        raise StrandsDeployError(
            f"environment {env_name!r} is configured for S3 state ({location}), which is empty, but "
            f"its state is still in {path}",
            f"environments.{env_name}.state",
            f"move it first: `strands-deploy state migrate --env {env_name} --to s3`",
        )
