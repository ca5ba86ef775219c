"""`strands-deploy eval AGENT [--version N] [--suite FILE]`: run an eval suite on demand."""

from __future__ import annotations

import sys

import click

from strands_deploy.cli.common import agent_argument, env_option, json_option, print_json


@click.command("eval")
@env_option
@json_option()
@click.option("--version", "version", default=None, help="Version or alias to test (default: live).")
@click.option("--suite", "suite", default=None, help="Suite file (default: the agent's rollout.gates.evals).")
@agent_argument
@click.pass_context
def command(
    ctx: click.Context, env_name: str, as_json: bool, version: str | None, suite: str | None, agent: str
) -> None:
    """Run the agent's eval suite against one version; exit 1 under the pass rate."""
    from strands_deploy import services as svc
    from strands_deploy.cli.rollout_cmd import open_rollout
    from strands_deploy.errors import StrandsDeployError
    from strands_deploy.rollout import evals as ev

    services = open_rollout(ctx, env_name)
    suite = suite or svc.rollout_config(services, agent).gates.evals
    if not suite:
        raise StrandsDeployError(
            f"agent {agent!r} has no eval suite",
            "rollout.gates.evals",
            "pass --suite FILE or set rollout.gates.evals",
        )
    state = services.read_state()
    record = state.resources.get(f"agent.{agent}.function")
    if record is None:
        raise StrandsDeployError(
            f"agent {agent!r} is not deployed", f"environment {env_name}", "deploy it first"
        )
    function = str(record.physical_id).rsplit(":", 1)[-1]
    qualifier = version or "live"
    loaded = ev.load_suite(services.root / suite)
    pctx = services.provider_context()
    judge = (
        ev.bedrock_judge(ev.client_of(pctx, "bedrock-runtime"), loaded.judge_model)
        if loaded.judge_model
        else None
    )
    result = ev.run_suite(loaded, ev.lambda_invoker(pctx.client("lambda"), function, qualifier), judge)
    path = ev.save_results(services.root, agent, qualifier, result)
    if as_json:
        print_json({**result.to_json(), "saved": str(path)})
    else:
        from rich.table import Table

        from strands_deploy.cli.common import console, summary

        table = Table("case", "result", "latency", "problems", title=f"{agent} @ {qualifier}")
        for r in result.results:
            table.add_row(
                r.name, "pass" if r.passed else "FAIL", f"{r.latency_ms:.0f} ms", "; ".join(r.problems)
            )
        console().print(table)
        summary(f"{result.summary()}; results saved to {path}")
    if not result.passed:
        sys.exit(1)
