"""`bootstrap ci-role`: the OIDC deploy role a CI pipeline assumes (``aws/ci_role.py``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from strands_deploy.config.schema import EnvironmentConfig
from strands_deploy.errors import StrandsDeployError
from strands_deploy.services import Services

if TYPE_CHECKING:
    pass


def bootstrap_ci_role(
    services: Services, *, provider: str, repo: str, issuer: str | None = None
) -> tuple[str, list[str]]:
    """Create (or bring up to date) the CI system's OIDC provider and the environment's deploy
    role; (role ARN, the changes made)."""
    import re

    from strands_deploy.aws.ci_role import CiRoleSpec, ensure_ci_role
    from strands_deploy.config.loader import state_key

    if services.is_local and not services.env.endpoint:
        raise StrandsDeployError(
            "the local cloud needs no CI role", "environment local", "pass --env with an AWS environment"
        )
    if not re.fullmatch(r"[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)+", repo):
        raise StrandsDeployError(
            f"{repo!r} is not a repository path",
            "--repo",
            "pass OWNER/NAME (GitHub) or GROUP/PROJECT, GROUP/SUBGROUP/PROJECT (GitLab)",
        )
    st = services.env.state
    remote = st.backend == "s3"
    spec = CiRoleSpec(
        provider=provider,
        repo=repo,
        project=services.project.name,
        env=services.env_name,
        issuer=issuer,
        state_bucket=st.bucket if remote else None,
        state_key=state_key(services.project.config, services.env_name) if remote else None,
        lock_table=st.lock_table if remote and st.lock == "dynamodb" else None,
        kms_key=st.kms_key if remote else None,
        state_region=st.region,
        account_services=_account_services(services.env),
    )
    if not remote:
        services.notes.append(
            f"environment {services.env_name!r} keeps its state on local disk, lost after each CI job: "
            "set `state: {backend: s3, bucket: NAME}` and run this command again"
        )
    return ensure_ci_role(services.aws, spec, services.account())


def _account_services(env: EnvironmentConfig) -> tuple[str, ...]:
    """The account-level services an environment's opt-in resources call (ci_role.ACCOUNT_ACTIONS)."""
    out: list[str] = []
    if env.budget is not None:
        out += ["budgets", *(["ce"] if env.budget.anomaly_alerts else [])]
    security = env.security
    if security is not None:
        out += [
            *(["config"] if security.config_rules else []),
            *(["securityhub"] if security.security_hub else []),
            *(["guardduty"] if security.guardduty else []),
        ]
    return tuple(out)
