"""The audit trail: one record per command that changes an environment (deploy, destroy, state
rollback, push, surgery): who (the caller's AWS identity), when, the command, the digest of the
plan it ran, its result and, in CI, the run's URL. Stored by the state backend next to the state
(append-only), so local and S3 state alike answer ``strands-deploy history``."""

from __future__ import annotations

import getpass
import hashlib
import json
import os
import socket
from collections.abc import Mapping
from typing import Any

from strands_deploy.state.model import now


def ci_run_url(environ: Mapping[str, str] | None = None) -> str | None:
    """The URL of the CI run this command is part of, from the usual CI environment variables."""
    env = os.environ if environ is None else environ
    if env.get("GITHUB_RUN_ID") and env.get("GITHUB_REPOSITORY"):
        server = env.get("GITHUB_SERVER_URL", "https://github.com")
        return f"{server}/{env['GITHUB_REPOSITORY']}/actions/runs/{env['GITHUB_RUN_ID']}"
    for var in ("CI_JOB_URL", "CI_PIPELINE_URL", "CIRCLE_BUILD_URL", "BUILDKITE_BUILD_URL", "BUILD_URL"):
        if env.get(var):
            return env[var]
    if env.get("SYSTEM_COLLECTIONURI") and env.get("BUILD_BUILDID"):  # Azure Pipelines
        return (
            f"{env['SYSTEM_COLLECTIONURI'].rstrip('/')}/{env.get('SYSTEM_TEAMPROJECT', '')}"
            f"/_build/results?buildId={env['BUILD_BUILDID']}"
        )
    if env.get("BITBUCKET_GIT_HTTP_ORIGIN") and env.get("BITBUCKET_BUILD_NUMBER"):
        return f"{env['BITBUCKET_GIT_HTTP_ORIGIN']}/pipelines/results/{env['BITBUCKET_BUILD_NUMBER']}"
    return env.get("CODEBUILD_PUBLIC_BUILD_URL") or env.get("CODEBUILD_BUILD_ARN") or None


def digest(document: Mapping[str, Any]) -> str:
    """A stable digest of a plan document (canonical JSON)."""
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), default=str)
    return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError, ImportError):
        return "unknown"


def record(
    *,
    environment: str,
    command: str,
    who: str | None,
    result: str,
    plan_digest: str | None = None,
    changes: Mapping[str, int] | None = None,
    serial_before: int | None = None,
    serial_after: int | None = None,
    detail: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """An audit record (plain JSON). ``result``: ok | failed | error | no-changes."""
    return {
        "at": now(),
        "environment": environment,
        "command": command,
        "who": who,
        "user": _user(),
        "host": socket.gethostname(),
        "result": result,
        "plan_digest": plan_digest,
        "changes": {k: v for k, v in (changes or {}).items() if v and k != "no-op"},
        "serial_before": serial_before,
        "serial_after": serial_after,
        "detail": detail,
        "ci_url": ci_run_url(environ),
    }
