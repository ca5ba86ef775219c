"""Invoke a deployed agent: Lambda ``Invoke`` on its ``live`` alias, and the answer checked."""

from __future__ import annotations

import json
from typing import Any

from strands_deploy.aws.errors import call, error_code
from strands_deploy.errors import StrandsDeployError
from strands_deploy.operate.deployment import Deployment, deployed_output, find_agent

QUALIFIER = "live"  # the alias every deploy moves to the new version


def invoke(deployment: Deployment, agent: str, prompt: str, session: str | None = None) -> dict[str, Any]:
    """Send ``prompt`` to ``agent`` and return the runtime's answer: ``response``, ``session_id``,
    ``stop_reason``, ``usage``, ``tools`` (the turn's tool calls: ``[{"name", "status",
    "duration_ms"?}]``, passed through as the runtime answers them; absent from an older runtime's
    answers), plus ``structured`` (the structured output, a JSON object) when the
    agent has a structured output model and ``tool_errors`` (``[{"tool", "error", "file", "line"}]``)
    when one of its tools raised.

    Every failure — unknown or undeployed agent, AWS error, the agent's own error — is a
    :class:`StrandsDeployError` naming where to look.
    """
    cfg = find_agent(deployment.project, agent)
    body: dict[str, Any] = {"prompt": prompt}
    if session:
        body["session_id"] = session
    payload, function_error = invoke_live(deployment, agent, body)
    return check_answer(payload, function_error, agent, deployment.env_name, str(cfg.path))


def invoke_live(deployment: Deployment, agent: str, event: Any) -> tuple[Any, str | None]:
    """Invoke ``agent``'s ``live`` alias synchronously with ``event``: (the JSON answer, Lambda's
    FunctionError or None). A function that is not there is a 'not deployed' error."""
    function = deployed_output(deployment, agent, "function")
    env_name = deployment.env_name
    try:
        resp = call(
            f"agent.{agent}",
            deployment.aws().client("lambda"),
            "invoke",
            FunctionName=function,
            Qualifier=QUALIFIER,
            InvocationType="RequestResponse",
            Payload=json.dumps(event).encode(),
        )
    except StrandsDeployError as err:
        if error_code(err) == "ResourceNotFoundException":
            raise StrandsDeployError(
                f"agent {agent!r} is not deployed in environment {env_name!r} (function {function} not found)",
                fix=f"run strands-deploy deploy --env {env_name}",
            ) from None
        raise
    return parse_payload(resp["Payload"].read(), agent), resp.get("FunctionError")


def parse_payload(raw: bytes, agent: str) -> Any:
    """The function's JSON answer; an error pointing at the logs if it is not JSON."""
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
        if isinstance(status, int) and 400 <= status < 500 and "HTTP app" in message:
            fix = f"call it through its endpoint (strands-deploy outputs{env_flag} shows the URL)"
        elif isinstance(status, int) and 400 <= status < 500:
            fix = "check the prompt and the --session value"
        elif payload.get("file"):
            fix = f"fix {where}, then deploy again: strands-deploy deploy{env_flag}"
        else:
            fix = logs_fix
        raise StrandsDeployError(f"agent {agent!r} answered {status or 500}: {message}", where=where, fix=fix)
    if "response" not in payload:
        # an agent whose entry is its own Lambda handler answers what that handler returns
        return {"response": json.dumps(payload, default=str), "raw": payload}
    return payload
