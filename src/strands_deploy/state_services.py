"""The state commands as use cases: each takes the lock when it changes the state, writes the
result as a new serial (so it is in the history), and records it in the audit trail.

Front ends call these and render what they return; nothing here prints.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from strands_deploy.errors import StrandsDeployError
from strands_deploy.services import Services
from strands_deploy.state.backend import LockInfo, StateBackend
from strands_deploy.state.model import MalformedState, State


# -- reading --------------------------------------------------------------------------------------
def show(services: Services, serial: int | None = None) -> State:
    if serial is None:
        return services.read_state()
    from strands_deploy.stateops.history import find_serial

    return find_serial(services.backend, serial)


def history(services: Services, limit: int = 20) -> tuple[list[Any], list[str]]:
    """(entries, notes): the newest versions of the state, with who/command/changes."""
    from strands_deploy.stateops.history import history as versions

    entries = versions(services.backend, limit)
    notes = []
    if len(entries) <= 1 and services.env.state.backend == "s3":
        store = getattr(services.backend, "store", None)
        if store is not None and not store.versioning_enabled():
            notes.append(
                "the state bucket does not keep versions, so there is no history: run "
                f"`strands-deploy state bootstrap --env {services.env_name}` to turn versioning on"
            )
    return entries, notes


def audit_trail(services: Services, limit: int = 50) -> list[dict[str, Any]]:
    return services.backend.audit(limit)


# -- changing -------------------------------------------------------------------------------------
def _commit(services: Services, state: State, command: str, detail: str, before: int) -> State:
    state.serial = max(state.serial, before) + 1
    services.backend.write(state)
    services.audit_quietly(command, "ok", serial_before=before, serial_after=state.serial, detail=detail)
    return state


def remove(services: Services, addresses: list[str]) -> list[str]:
    from strands_deploy.stateops.surgery import remove as forget

    with services.locked("state rm"):
        state = services.read_state()
        before = state.serial
        removed = forget(state, addresses, services.backend.location)
        _commit(services, state, "state rm", "forgot " + ", ".join(removed), before)
        return removed


def move(services: Services, old: str, new: str) -> None:
    from strands_deploy.stateops.surgery import move as rename

    with services.locked("state mv"):
        state = services.read_state()
        before = state.serial
        rename(state, old, new, services.backend.location)
        _commit(services, state, "state mv", f"moved {old} to {new}", before)


def rollback(services: Services, serial: int, confirm: Any = None) -> tuple[State, State] | None:
    """Restore the stored version ``serial`` as a new serial; (previous, restored), None if not
    confirmed. Refuses a version of another lineage (another deployment of this environment)."""
    from strands_deploy.stateops.history import find_serial

    with services.locked("state rollback"):
        current = services.read_state()
        if serial >= current.serial:
            raise StrandsDeployError(
                f"serial {serial} is not older than the current state (serial {current.serial})",
                services.backend.location,
                "pick an older serial from `strands-deploy state history`",
            )
        old = find_serial(services.backend, serial)
        if old.lineage != current.lineage:
            raise StrandsDeployError(
                f"version {serial} belongs to lineage {old.lineage}, not the current lineage "
                f"{current.lineage}: it describes another deployment of this environment",
                services.backend.location,
                "pick a version of the current lineage (`state history` shows each version's lineage)",
            )
        services.check_binding(old)
        if confirm is not None and not confirm(current, old):
            return None
        old.pending = {}
        restored = _commit(services, old, "state rollback", f"restored serial {serial}", current.serial)
        return current, restored


def pull(services: Services) -> dict[str, Any]:
    """The current state document (decrypted), for backups and inspection."""
    state = services.backend.read()
    if state is None:
        raise StrandsDeployError(
            f"environment {services.env_name!r} has no state yet",
            services.backend.location,
            "deploy it first (or check --env and `state:` in strands.yaml)",
        )
    services.check_binding(state)
    return state.to_dict()


def parse_document(text: str, where: str, env_name: str) -> State:
    from strands_deploy.state.document import parse_state

    return parse_state(text.encode(), where, env_name, "push a state file written by `state pull`")


def push(services: Services, incoming: State, force: bool = False, source: str = "the pushed file") -> State:
    """Replace the stored state by ``incoming``: refused when it is of another lineage or not
    newer than what is stored, unless ``force``. The stored state stays in the history."""
    with services.locked("state push"):
        current = services.backend.read()
        _check_pushed(services, incoming, source)
        before = current.serial if current else 0
        if current is not None and not force:
            if incoming.lineage != current.lineage:
                raise StrandsDeployError(
                    f"the pushed state has lineage {incoming.lineage}, the stored one {current.lineage}: "
                    "they describe different deployments",
                    services.backend.location,
                    "pull the current state first; use --force only to replace it on purpose",
                )
            if incoming.serial <= current.serial:
                raise StrandsDeployError(
                    f"the pushed state has serial {incoming.serial}, not newer than the stored serial "
                    f"{current.serial}: it would undo later changes",
                    services.backend.location,
                    "pull the current state and apply your change to it; `state rollback` restores "
                    "an older version; --force pushes anyway",
                )
        if force and current is not None:
            incoming.serial = max(incoming.serial, current.serial + 1)
        services.backend.write(incoming, force=force)
        services.audit_quietly(
            "state push",
            "ok",
            serial_before=before,
            serial_after=incoming.serial,
            detail="forced" if force else None,
        )
        return incoming


def _check_pushed(services: Services, incoming: State, source: str) -> None:
    """A pushed state must describe this project, region and account (``--force`` never lifts it)."""
    for what, recorded, current in (
        ("project", incoming.project, services.project.name),
        ("region", incoming.region, services.region),
        ("account", incoming.account, services.account()),
    ):
        if recorded is not None and recorded != current:
            raise StrandsDeployError(
                f"the pushed state is for {what} {recorded!r}, but environment {services.env_name!r} is "
                f"{what} {current!r}; nothing was written",
                source,
                "push a state pulled from this project's environment (`state pull`)",
            )


def unlock(services: Services, lock_id: str | None, force: bool) -> LockInfo | None:
    """Release a stale lock, or (``force`` + the lock's id) any lock; the released holder."""
    import socket

    backend = services.backend
    holder = backend.lock_info()
    if holder is None:
        return None
    stale = holder.stale_reason()
    if lock_id is not None and holder.id != lock_id:
        raise StrandsDeployError(
            f"the lock of environment {services.env_name!r} is {holder.describe()} with id "
            f"{holder.id or '(none: damaged)'}, not {lock_id}: nothing was released",
            backend.lock_location,
            "check the id `strands-deploy state unlock` shows (the lock may have changed hands)",
        )
    if stale is None and not (force and lock_id):
        here = holder.host == socket.gethostname()
        raise StrandsDeployError(
            (
                f"the lock is held by a running process: {holder.describe()}"
                if here
                else f"the lock is held by {holder.describe()} on another machine (its process "
                "cannot be checked from here)"
            ),
            backend.lock_location,
            "wait for it to finish, or stop it; if you are sure it is dead, release it with "
            f"`strands-deploy state unlock --env {services.env_name} --force {holder.id}`",
        )
    backend.unlock(holder if holder.id else None, force=True)
    return holder


# -- moving between backends ----------------------------------------------------------------------
@dataclass
class Migration:
    source: str
    target: str
    serial: int
    resources: int
    retired: str


def migrate(services: Services, to: str) -> Migration:
    """Copy the environment's state from the other backend to ``to`` (both locked), verify the
    copy, then move the source out of the way. Refuses to overwrite a state already there."""
    from strands_deploy.stateops.backends import make_backend

    if to not in ("s3", "local"):
        raise StrandsDeployError(f"unknown backend {to!r}", "--to", "use --to s3 or --to local")
    source = make_backend(services.project, services.env_name, "local" if to == "s3" else "s3")
    target = make_backend(services.project, services.env_name, to)  # type: ignore[arg-type]
    identity = services.identity()
    for b in (source, target):
        b.identity = identity
    src_lock = source.lock("state migrate")
    try:
        tgt_lock = target.lock("state migrate")
        try:
            return _copy(services, source, target, to)
        finally:
            target.unlock(tgt_lock)
    finally:
        source.unlock(src_lock)


def _copy(services: Services, source: StateBackend, target: StateBackend, to: str) -> Migration:
    state = source.read()
    if state is None:
        raise StrandsDeployError(
            f"there is no state of environment {services.env_name!r} at {source.location} to migrate",
            source.location,
            "check --env and `state:` in strands.yaml",
        )
    services.check_binding(state)
    existing = target.read()
    if existing is not None:
        raise StrandsDeployError(
            f"{target.location} already holds a state of environment {services.env_name!r} "
            f"(serial {existing.serial}, {len(existing.resources)} resources); nothing was copied",
            target.location,
            "if it is the one to keep, set `backend:` to it in strands.yaml; otherwise move it away first",
        )
    target.secrets_key(initial=source.secrets_key(), replace=True)  # the key of the state's fingerprints
    target.write(state)
    check = _fresh(services, to).read()
    if check is None or _content(check) != _content(state):
        raise StrandsDeployError(
            "the copied state does not read back identical; the source was left in place",
            target.location,
            "run the migration again (nothing was removed)",
        )
    present = {json.dumps(r, sort_keys=True) for r in target.audit(None)}
    for record in reversed(source.audit(None)):  # oldest first; a round trip adds nothing twice
        if json.dumps(record, sort_keys=True) not in present:
            target.append_audit(record)
    retired = source.retire()
    services.backend = target
    services.audit_quietly("state migrate", "ok", serial_after=state.serial, detail=f"from {source.location}")
    services.wait_background()
    return Migration(source.location, target.location, state.serial, len(state.resources), retired)


def _fresh(services: Services, kind: str) -> StateBackend:
    from strands_deploy.stateops.backends import make_backend

    return make_backend(services.project, services.env_name, kind)  # type: ignore[arg-type]


def _content(state: State) -> str:
    doc = state.to_dict()
    doc.pop("written", None)
    doc.pop("tool_version", None)
    return json.dumps(doc, sort_keys=True)


# -- bootstrap ------------------------------------------------------------------------------------
def bootstrap(
    services: Services, lock_table: str | None = None, history_days: int | None = None
) -> list[str]:
    """Create (or bring up to date) the state bucket, and the lock table when configured or asked."""
    from strands_deploy.aws.state_bucket import bootstrap_state_storage, plain_http
    from strands_deploy.stateops.backends import state_aws

    st = services.env.state
    if not st.bucket:
        raise StrandsDeployError(
            f"environment {services.env_name!r} names no state bucket",
            f"environments.{services.env_name}.state",
            "add `state: {backend: s3, bucket: <globally unique name>}` to the environment",
        )
    table = lock_table or (st.lock_table if st.lock == "dynamodb" else None)
    aws = state_aws(services.project, services.env_name)
    if plain_http(aws):
        services.notes.append(
            f"no TLS-only bucket policy: the endpoint {aws.endpoint_url} is an emulator reached over HTTP"
        )
    return bootstrap_state_storage(
        aws,
        st.bucket,
        kms_key=st.kms_key,
        lock_table=table,
        noncurrent_days=history_days or st.history_days,
    )


def load_pushed(text: str, where: str, env_name: str) -> State:
    """A pushed state file, with clear errors for anything that is not one."""
    try:
        json.loads(text)
    except ValueError as e:
        raise StrandsDeployError(
            f"not a JSON state file ({e})", where, "push a file written by `state pull`"
        ) from None
    try:
        return parse_document(text, where, env_name)
    except MalformedState as e:
        raise StrandsDeployError(
            f"not a state file: {e.problem}", where, "push a file written by `state pull`"
        ) from None
