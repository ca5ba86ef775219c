"""`strands-deploy bootstrap`: what CI needs in the AWS account (`ci-role`)."""

from __future__ import annotations

import click

from strands_deploy.cli.common import console, env_option, print_json, print_notes, project_dir


@click.group("bootstrap")
def command() -> None:
    """Create what CI needs in the AWS account: an OIDC deploy role (ci-role)."""


@command.command("ci-role")
@env_option
@click.option(
    "--repo", required=True, help="The repository whose pipelines deploy: OWNER/NAME or GROUP/PROJECT."
)
@click.option(
    "--provider",
    type=click.Choice(["github", "gitlab"]),
    default="github",
    show_default=True,
    help="The CI system (its OIDC issuer).",
)
@click.option("--issuer", help="A self-managed GitLab's URL (default: https://gitlab.com).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def ci_role(
    ctx: click.Context,
    env_name: str,
    repo: str,
    provider: str,
    issuer: str | None,
    as_json: bool,
) -> None:
    """Create the CI system's IAM OIDC provider and a deploy role only REPO's pipelines can
    assume, with the permissions deploying this project's environment needs (its resources, its
    remote state). Running it again changes only what differs."""
    from strands_deploy.services import bootstrap_ci_role, open_services

    services = open_services(project_dir(ctx), env_name, start_local=False)
    role_arn, changes = bootstrap_ci_role(services, provider=provider, repo=repo, issuer=issuer)
    if as_json:
        print_json({"role_arn": role_arn, "changes": changes, "notes": services.notes})
        return
    print_notes(services.notes)
    for change in changes:
        console().print(f"  [green]+[/green] {change}", highlight=False)
    state = "is ready" if changes else "was already ready"
    console().print(
        f"The deploy role {state}: {role_arn}\n"
        "Store it as the CI variable STRANDS_DEPLOY_ROLE_ARN "
        + (
            "(Settings > Secrets and variables > Actions > Variables)."
            if provider == "github"
            else "(Settings > CI/CD > Variables)."
        ),
        highlight=False,
        soft_wrap=True,
    )
