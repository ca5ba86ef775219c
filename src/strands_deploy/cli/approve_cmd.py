from __future__ import annotations

import click


@click.command("approve")
@click.argument("plan_file", type=click.Path(dir_okay=False))
@click.option(
    "--as", "approver", help="The approver's name (required on the local cloud; default: your AWS identity)."
)
@click.pass_context
def command(ctx: click.Context, plan_file: str, approver: str | None) -> None:
    """Approve a saved plan for an environment with `require_approval: true`. The approver must
    not be the plan's maker; the approval is for exactly this file's content."""
    from pathlib import Path

    from strands_deploy import services as svc
    from strands_deploy.cli.common import err_console, open_for_change
    from strands_deploy.policy.approvals import read_document

    path = Path(plan_file)
    env_name = str(read_document(path).get("environment") or "local")
    services = open_for_change(ctx, env_name, start_local=False)
    approval = svc.approve_plan(services, path, approver)
    err_console().print(
        f"Approved {plan_file} ({approval.digest[:19]}…) as {approval.approver}; "
        f"made by {approval.maker or 'an unknown identity'}.",
        highlight=False,
    )
