"""The webhook forwarder: SNS alarm notifications → a chat webhook (Slack, Discord, any JSON).

Deployed by strands-deploy when `alarms.notify` names a `webhook:`. It runs inside Lambda,
subscribed to the environment's alarm topic; the webhook URL is a secret (Secrets Manager, ARN in
``STRANDS_WEBHOOK_SECRET_ARN``), never an environment variable. Each SNS record becomes one POST
with ``{"text": ..., "content": ...}`` (Slack reads ``text``, Discord ``content``). A failed POST
raises, so Lambda's asynchronous retries (and SNS's) deliver it again.

Imports nothing of strands-deploy: it runs on its own in the function.
"""

from __future__ import annotations

import json
import os
import urllib.request
from typing import Any

_url: str | None = None


def webhook_url() -> str:
    global _url
    if _url is None:
        import boto3

        arn = os.environ["STRANDS_WEBHOOK_SECRET_ARN"]
        _url = str(boto3.client("secretsmanager").get_secret_value(SecretId=arn)["SecretString"]).strip()
    return _url


def describe(subject: str | None, message: str) -> str:
    """One readable line for a CloudWatch alarm notification (or the raw message otherwise)."""
    try:
        alarm = json.loads(message)
    except (TypeError, ValueError):
        return f"{subject}: {message}" if subject else str(message)
    if not isinstance(alarm, dict) or "AlarmName" not in alarm:
        return f"{subject}: {message}" if subject else str(message)
    state = alarm.get("NewStateValue", "?")
    icon = {"ALARM": "🔴", "OK": "🟢"}.get(str(state), "⚪")
    reason = alarm.get("NewStateReason", "")
    return f"{icon} {alarm['AlarmName']} is {state}: {reason}".strip()


def post(url: str, text: str, timeout: float = 10.0) -> int:
    body = json.dumps({"text": text, "content": text}).encode()
    request = urllib.request.Request(
        url, data=body, headers={"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (the user's webhook)
        return int(response.status)


def handler(event: dict[str, Any], context: Any) -> dict[str, int]:
    url = webhook_url()
    sent = 0
    for record in event.get("Records") or []:
        sns = record.get("Sns") or {}
        post(url, describe(sns.get("Subject"), str(sns.get("Message", ""))))
        sent += 1
    return {"sent": sent}
