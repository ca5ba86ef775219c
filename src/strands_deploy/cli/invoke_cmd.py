"""`strands-deploy invoke AGENT "prompt"`: call the deployed agent (the use case is operate.invoke)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from strands_deploy.cli.common import console, env_option, err_console, print_json, project_dir
from strands_deploy.errors import StrandsDeployError

if TYPE_CHECKING:
    from strands_deploy.operate import Deployment
    from strands_deploy.services import Services


def read_prompt(prompt: str) -> str:
    if prompt == "-":
        prompt = sys.stdin.read()
    if not prompt.strip():
        raise StrandsDeployError(
            "the prompt is empty", fix='pass a prompt: strands-deploy invoke AGENT "Hello"'
        )
    return prompt


def deployment(services: Services, env_name: str) -> Deployment:
    """What operate/ needs of the opened environment (AWS clients made only when first used)."""
    from strands_deploy.operate import Deployment

    return Deployment(
        project=services.project,
        env_name=env_name,
        read_state=services.read_state,
        aws=lambda: services.aws,
    )


@click.command("invoke")
@click.argument("agent")
@click.argument("prompt")
@env_option
@click.option(
    "--session", "-s", help="Continue this conversation (the session id printed by a previous invoke)."
)
@click.option("--json", "as_json", is_flag=True, help="Print the whole answer as JSON.")
@click.pass_context
def command(
    ctx: click.Context, agent: str, prompt: str, env_name: str, session: str | None, as_json: bool
) -> None:
    """Send PROMPT to the deployed AGENT and print its answer ("-" reads the prompt from stdin)."""
    from strands_deploy.operate.invoke import invoke
    from strands_deploy.services import open_services

    text = read_prompt(prompt)
    services = open_services(Path(project_dir(ctx)), env_name)
    try:
        answer = invoke(deployment(services, env_name), agent, text, session)
    finally:
        close = getattr(services, "close", None)
        if callable(close):
            close()
    if as_json:
        print_json(answer)
        return
    console().print(str(answer.get("response", "")), markup=False, highlight=False, soft_wrap=True)
    sid = answer.get("session_id")
    if sid:
        env_flag = f" --env {env_name}"
        err_console().print(
            f"[dim]session {sid}  (continue: strands-deploy invoke {agent} --session {sid}{env_flag} ...)[/dim]",
            highlight=False,
            soft_wrap=True,
        )
