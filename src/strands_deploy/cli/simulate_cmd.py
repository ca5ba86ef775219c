"""`strands-deploy simulate AGENT KIND`: send the agent the event a trigger would (operate.simulate)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from strands_deploy.cli.common import console, env_option, err_console, print_json, project_dir
from strands_deploy.errors import StrandsDeployError
from strands_deploy.operate.simulate import KINDS


def _json_object(option: str, text: str | None) -> dict[str, Any] | None:
    if text is None:
        return None
    try:
        value = json.loads(text)
    except ValueError as e:
        raise StrandsDeployError(
            f"{option} is not JSON: {e}", fix=f"""pass an object: {option} '{{"id": "a-1"}}'"""
        ) from None
    if not isinstance(value, dict):
        raise StrandsDeployError(
            f"{option} must be a JSON object", fix=f"""pass an object: {option} '{{"id": "a-1"}}'"""
        )
    return value


@click.command("simulate")
@click.argument("agent")
@click.argument("kind", type=click.Choice(KINDS))
@env_option
@click.option("--key", help="s3: the object key (default: a sample under the trigger's prefix).")
@click.option("--bucket", help="s3: the bucket (default: the agent's bucket trigger's).")
@click.option("--message", help="sns: the message.")
@click.option("--subject", help="sns: the subject.")
@click.option("--body", help="sqs: the message body.")
@click.option("--detail", help="event: the detail, a JSON object.")
@click.option("--source", help="event: the source (default: the first of the agent's pattern).")
@click.option("--detail-type", "detail_type", help="event: the detail-type (default: the pattern's).")
@click.option("--keys", help="ddb: the item's key attributes, a JSON object.")
@click.option("--new", "new", help="ddb: the new image's other attributes, a JSON object.")
@click.option("--old", "old", help="ddb: the old image's other attributes, a JSON object.")
@click.option("--json", "as_json", is_flag=True, help="Print the event and the raw answer as JSON.")
@click.pass_context
def command(
    ctx: click.Context,
    agent: str,
    kind: str,
    env_name: str,
    key: str | None,
    bucket: str | None,
    message: str | None,
    subject: str | None,
    body: str | None,
    detail: str | None,
    source: str | None,
    detail_type: str | None,
    keys: str | None,
    new: str | None,
    old: str | None,
    as_json: bool,
) -> None:
    """Invoke AGENT with a sample KIND event (an S3 object, an SNS message, a queue message, a
    schedule, an EventBridge event, a DynamoDB stream record), naming its deployed trigger's source."""
    from strands_deploy.cli.invoke_cmd import deployment
    from strands_deploy.operate.simulate import SimulateOptions, simulate
    from strands_deploy.services import open_services

    options = SimulateOptions(
        key=key,
        bucket=bucket,
        message=message,
        subject=subject,
        body=body,
        detail=_json_object("--detail", detail),
        source=source,
        detail_type=detail_type,
        keys=_json_object("--keys", keys),
        new=_json_object("--new", new),
        old=_json_object("--old", old),
    )
    services = open_services(Path(project_dir(ctx)), env_name)
    sim = simulate(deployment(services, env_name), agent, kind, options)
    if as_json:
        print_json({"agent": agent, "kind": kind, "event": sim.event, "answer": sim.answer})
        return
    named = ", ".join(f"{k} {v}" for k, v in sim.sources.items())
    err_console().print(f"[dim]{kind} event ({named}) → agent {agent}[/dim]", highlight=False, soft_wrap=True)
    for text in _answers(sim.answer):
        console().print(text, markup=False, highlight=False, soft_wrap=True)


def _answers(answer: Any) -> list[str]:
    """The runtime's response text(s): one answer, or one per record (``{"answers": [...]}``)."""
    if isinstance(answer, dict) and isinstance(answer.get("answers"), list):
        return [t for a in answer["answers"] for t in _answers(a)]
    if isinstance(answer, dict) and "response" in answer:
        return [str(answer["response"])]
    if isinstance(answer, list):
        return [t for a in answer for t in _answers(a)]
    return [json.dumps(answer, indent=2)]
