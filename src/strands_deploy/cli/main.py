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
    "output": ("strands_deploy.cli.output_cmd", "Print one output (for scripts: --raw)."),
    "chat": ("strands_deploy.cli.chat_cmd", "Talk to a deployed agent in the terminal."),
    "cost": ("strands_deploy.cli.cost_cmd", "Monthly cost forecast, actual cost, prices."),
    "check": ("strands_deploy.cli.check_cmd", "Run the policy rules against the plan."),
    "approve": ("strands_deploy.cli.approve_cmd", "Approve a saved plan for a protected environment."),
    "report": ("strands_deploy.cli.report_cmd", "Compliance report: rules, evidence, approvals, history."),
    "rollout": ("strands_deploy.cli.rollout_cmd", "Status, resume or abort a progressive rollout."),
    "promote": ("strands_deploy.cli.promote_cmd", "Switch a blue-green agent's traffic to the new version."),
    "abort": ("strands_deploy.cli.abort_cmd", "Discard a blue-green agent's new version."),
    "rollback": ("strands_deploy.cli.rollback_cmd", "Move an agent's traffic back to an earlier version."),
    "versions": ("strands_deploy.cli.versions_cmd", "List an agent's published versions."),
    "eval": ("strands_deploy.cli.eval_cmd", "Run an agent's eval suite against a version."),
    "ui": ("strands_deploy.cli.ui_cmd", "Open the local web console."),
    "completion": ("strands_deploy.cli.completion_cmd", "Print or install shell completion."),
    "bootstrap": ("strands_deploy.cli.bootstrap_cmd", "Create what CI needs: an OIDC deploy role."),
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

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        """An unknown command name is an error suggesting the closest command (or alias)."""
        name = args[0] if args else ""
        if name and name not in COMMANDS and not name.startswith("-") and not ctx.resilient_parsing:
            import difflib

            from strands_deploy.cli.common import FLAGS

            known = [*COMMANDS, *(FLAGS.get("aliases") or {})]
            close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
            hint = f" Did you mean {close[0]}?" if close else ""
            raise click.UsageError(
                f"No such command {name!r}.{hint} (strands-deploy --help lists the commands)", ctx
            )
        return super().resolve_command(ctx, args)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, help_) for name, (_, help_) in COMMANDS.items()]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="strands-deploy")
@click.option("--debug", is_flag=True, help="Show tracebacks for errors (accepted anywhere on the line).")
@click.option("--quiet", "-q", is_flag=True, help="Print only results and errors (anywhere on the line).")
@click.option(
    "--verbose", "-v", is_flag=True, help="Show each AWS call with its duration (anywhere on the line)."
)
@click.option(
    "--project-dir",
    "-C",
    type=click.Path(file_okay=False),
    default=".",
    help="Project folder (holding strands.yaml).",
)
@click.pass_context
def cli(ctx: click.Context, debug: bool, quiet: bool, verbose: bool, project_dir: str) -> None:
    """Deploy Strands agents to AWS, or to the embedded local cloud."""
    from strands_deploy.cli.common import FLAGS, configure

    configure(debug=debug, quiet=quiet, verbose=verbose)
    ctx.obj = {
        "debug": debug,
        "quiet": quiet,
        "verbose": verbose,
        "json": FLAGS["json"],
        "project_dir": project_dir,
    }


def main(argv: list[str] | None = None) -> Any:
    from strands_deploy.cli.common import run_cli

    return run_cli(cli, argv if argv is not None else sys.argv[1:])
