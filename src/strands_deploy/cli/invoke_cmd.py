"""`strands-deploy invoke AGENT "prompt"`: call the deployed agent (Lambda Invoke on alias `live`)."""

from __future__ import annotations

import difflib
import json
import sys
from pathlib import Path
from typing import Any

import click

from strands_deploy.cli.common import console, env_option, err_console, print_json, project_dir
from strands_deploy.errors import StrandsDeployError

QUALIFIER = "live"


def check_agent(services: Any, agent: str, env_name: str) -> Any:
    """The agent's config; a clear error (with a suggestion) if the project has no such agent."""
    agents: dict[str, Any] = dict(services.project.agents)
    if agent not in agents:
        close = difflib.get_close_matches(agent, list(agents), n=1)
        raise StrandsDeployError(
            f"no agent named {agent!r} in this project",
            fix=f"did you mean {close[0]!r}?" if close else f"agents: {', '.join(agents) or '(none)'}",
        )
    return agents[agent]


def deployed_output(services: Any, agent: str, env_name: str, kind: str, output: str = "name") -> str:
    """``state.resources["agent.<agent>.<kind>"].outputs[output]``, or a 'not deployed' error."""
    check_agent(services, agent, env_name)
    state = services.read_state()
    resources = getattr(state, "resources", None) or {}
    record = resources.get(f"agent.{agent}.{kind}")
    outputs = getattr(record, "outputs", None) if record is not None else None
    if isinstance(record, dict):
        outputs = record.get("outputs")
    value = (outputs or {}).get(output)
    if not value:
        env_flag = f" --env {env_name}"
        raise StrandsDeployError(
            f"agent {agent!r} is not deployed in environment {env_name!r}",
            fix=f"run strands-deploy deploy{env_flag}",
        )
    return str(value)


def read_prompt(prompt: str) -> str:
    if prompt == "-":
        prompt = sys.stdin.read()
    if not prompt.strip():
        raise StrandsDeployError(
            "the prompt is empty", fix='pass a prompt: strands-deploy invoke AGENT "Hello"'
        )
    return prompt


def parse_payload(raw: bytes, agent: str) -> Any:
    try:
        return json.loads(raw or b"null")
    except ValueError:
        text = raw.decode("utf-8", "replace")[:500]
        raise StrandsDeployError(
            f"agent {agent!r} answered something that is not JSON: {text!r}",
            fix=f"check its logs: strands-deploy logs {agent}",
        ) from None


def check_answer(
    payload: Any, function_error: str | None, agent: str, env_name: str, folder: str
) -> dict[str, Any]:
    """Turn a FunctionError or an adapter error status into a StrandsDeployError."""
    env_flag = f" --env {env_name}"
    logs_fix = f"see strands-deploy logs {agent}{env_flag}"
    if function_error:
        info = payload if isinstance(payload, dict) else {}
        kind = info.get("errorType") or function_error
        message = info.get("errorMessage") or str(payload)
        raise StrandsDeployError(
            f"agent {agent!r} failed: {kind}: {message}", where=f"agent.{agent}", fix=logs_fix
        )
    if not isinstance(payload, dict):
        raise StrandsDeployError(
            f"agent {agent!r} answered {json.dumps(payload)[:200]}, not the runtime's JSON object",
            where=f"agent.{agent}",
            fix="is the function's handler _strands_runtime.handler? deploy again: strands-deploy deploy"
            + env_flag,
        )
    status = payload.get("status") or payload.get("statusCode")
    if "error" in payload or (isinstance(status, int) and status >= 400):
        message = str(payload.get("error", "unknown error"))
        where = f"agent.{agent}"
        if payload.get("file"):
            where = f"{folder}/{payload['file']}" + (f":{payload['line']}" if payload.get("line") else "")
        if isinstance(status, int) and 400 <= status < 500:
            fix = "check the prompt and the --session value"
        elif payload.get("file"):
            fix = f"fix {where}, then deploy again: strands-deploy deploy{env_flag}"
        else:
            fix = logs_fix
        raise StrandsDeployError(f"agent {agent!r} answered {status or 500}: {message}", where=where, fix=fix)
    if "response" not in payload:
        raise StrandsDeployError(
            f"agent {agent!r} answered without a response: {json.dumps(payload)[:200]}",
            where=f"agent.{agent}",
            fix=logs_fix,
        )
    return payload


def invoke(services: Any, agent: str, env_name: str, prompt: str, session: str | None) -> dict[str, Any]:
    cfg = check_agent(services, agent, env_name)
    function = deployed_output(services, agent, env_name, "function")
    body: dict[str, Any] = {"prompt": prompt}
    if session:
        body["session_id"] = session
    client = services.aws.client("lambda")
    from botocore.exceptions import ClientError

    try:
        resp = client.invoke(
            FunctionName=function,
            Qualifier=QUALIFIER,
            InvocationType="RequestResponse",
            Payload=json.dumps(body).encode(),
        )
    except ClientError as e:
        code = e.response.get("Error", {}).get("Code", "")
        if code == "ResourceNotFoundException":
            env_flag = f" --env {env_name}"
            raise StrandsDeployError(
                f"agent {agent!r} is not deployed in environment {env_name!r} (function {function} not found)",
                fix=f"run strands-deploy deploy{env_flag}",
            ) from None
        raise StrandsDeployError(
            f"invoking agent {agent!r} failed: {code}: {e.response.get('Error', {}).get('Message', e)}",
            where=f"agent.{agent}",
        ) from None
    payload = parse_payload(resp["Payload"].read(), agent)
    return check_answer(payload, resp.get("FunctionError"), agent, env_name, str(getattr(cfg, "path", agent)))


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
    from strands_deploy.services import open_services

    text = read_prompt(prompt)
    services = open_services(Path(project_dir(ctx)), env_name)
    try:
        answer = invoke(services, agent, env_name, text, session)
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
