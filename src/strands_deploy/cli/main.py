"""The `strands-deploy` entry point: a click group whose commands are imported on first use.

Each command lives in its own module exposing ``command`` (a click.Command or click.Group);
nothing heavy (boto3, rich, pydantic, moto) is imported until a command runs, so ``--help`` is
instant.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import click

from strands_deploy import __version__

# name -> (module, one-line help shown by --help without importing the module)
COMMANDS: dict[str, tuple[str, str]] = {
    "init": ("strands_deploy.cli.init_cmd", "Write a new project: strands.yaml and a first agent."),
    "validate": ("strands_deploy.cli.validate_cmd", "Check strands.yaml and report every problem at once."),
    "plan": ("strands_deploy.cli.plan_cmd", "Show what deploy would change."),
    "deploy": ("strands_deploy.cli.deploy_cmd", "Create or update the environment's resources."),
    "destroy": ("strands_deploy.cli.destroy_cmd", "Delete every resource of the environment."),
    "list": ("strands_deploy.cli.list_cmd", "List the resources recorded in the state."),
    "describe": ("strands_deploy.cli.describe_cmd", "Show one resource's record."),
    "outputs": ("strands_deploy.cli.outputs_cmd", "Print agent URLs, names and ARNs."),
    "graph": ("strands_deploy.cli.graph_cmd", "Print the resource graph."),
    "invoke": ("strands_deploy.cli.invoke_cmd", "Send a prompt to a deployed agent."),
    "simulate": ("strands_deploy.cli.simulate_cmd", "Send a deployed agent a sample trigger event."),
    "logs": ("strands_deploy.cli.logs_cmd", "Read an agent's logs."),
    "dev": ("strands_deploy.cli.dev_cmd", "Run agents locally with hot reload."),
    "local": ("strands_deploy.cli.local_cmd", "Start, stop or reset the embedded local cloud."),
    "history": ("strands_deploy.cli.history_cmd", "Who deployed what, when: the audit trail."),
    "state": ("strands_deploy.cli.state_cmd", "State: show, history, rollback, pull/push, migrate, unlock."),
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        spec = COMMANDS.get(cmd_name)
        if spec is None:
            return None
        module = importlib.import_module(spec[0])
        command: click.Command = module.command
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, help_) for name, (_, help_) in COMMANDS.items()]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="strands-deploy")
@click.option("--debug", is_flag=True, help="Show tracebacks for errors.")
@click.option(
    "--project-dir",
    "-C",
    type=click.Path(file_okay=False),
    default=".",
    help="Project folder (holding strands.yaml).",
)
@click.pass_context
def cli(ctx: click.Context, debug: bool, project_dir: str) -> None:
    """Deploy Strands agents to AWS, or to the embedded local cloud."""
    ctx.obj = {"debug": debug, "project_dir": project_dir}


def main(argv: list[str] | None = None) -> Any:
    from strands_deploy.cli.common import run_cli

    return run_cli(cli, argv if argv is not None else sys.argv[1:])
