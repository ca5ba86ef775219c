"""Notifications of rollout events (started, step, rolled-back, promoted, failed) to Slack and
Discord webhooks, any JSON webhook, SNS topics and PagerDuty Events v2.

Webhook URLs and PagerDuty routing keys are ``secret`` resources, read when sending and never
recorded. A notification that fails is returned as a problem for the front end to report: it
never fails a deploy or a rollout.
"""

from __future__ import annotations

import json
import os
import urllib.request
from collections.abc import Callable
from typing import Any

from strands_deploy.config.rollout_schema import RolloutNotify

PAGERDUTY_URL = os.environ.get("STRANDS_PAGERDUTY_URL", "https://events.pagerduty.com/v2/enqueue")
TIMEOUT = 10.0
_ALERTING = {"rolled-back", "failed"}


def _post(url: str, body: dict[str, Any]) -> None:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    local = parts.scheme == "http" and parts.hostname in ("127.0.0.1", "localhost")
    if parts.scheme != "https" and not local:  # a webhook URL is a secret: never in clear text
        raise ValueError("a webhook URL must be https:// (http only to 127.0.0.1/localhost)")
    req = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(req, timeout=TIMEOUT) as resp:  # noqa: S310 (scheme checked above)
        resp.read()


def message(event: str, agent: str, env: str, detail: str) -> str:
    return f"[{env}] {agent}: rollout {event}" + (f" — {detail}" if detail else "")


class Notifier:
    """Sends one event to every target; ``secret(name)`` reads a secret resource's value,
    ``sns`` is an SNS client (or None where no AWS context exists)."""

    def __init__(
        self,
        targets: list[RolloutNotify],
        env: str,
        secret: Callable[[str], str],
        sns: Any = None,
    ) -> None:
        self.targets = targets
        self.env = env
        self.secret = secret
        self.sns = sns
        self.problems: list[str] = []

    def send(self, event: str, agent: str, detail: str = "", **fields: Any) -> list[str]:
        """Send to every target; returns (and keeps) the problems, one line each."""
        text = message(event, agent, self.env, detail)
        doc = {"event": event, "agent": agent, "environment": self.env, "detail": detail, **fields}
        problems: list[str] = []
        for target in self.targets:
            try:
                self._send_one(target, text, doc)
            except Exception as e:  # any failure: reported, never raised
                problems.append(f"notification to {target.kind} failed: {type(e).__name__}: {e}")
        self.problems += problems
        return problems

    def _send_one(self, target: RolloutNotify, text: str, doc: dict[str, Any]) -> None:
        kind = target.kind
        if kind == "slack" and target.slack:
            _post(self.secret(target.slack.secret), {"text": text})
        elif kind == "discord" and target.discord:
            _post(self.secret(target.discord.secret), {"content": text})
        elif kind == "webhook" and target.webhook:
            _post(self.secret(target.webhook.secret), {**doc, "text": text})
        elif kind == "pagerduty" and target.pagerduty:
            action = "trigger" if doc["event"] in _ALERTING else "resolve"
            _post(
                PAGERDUTY_URL,
                {
                    "routing_key": self.secret(target.pagerduty.secret),
                    "event_action": action,
                    "dedup_key": f"strands-rollout-{self.env}-{doc['agent']}",
                    "payload": {"summary": text, "source": f"strands-deploy/{self.env}", "severity": "error"},
                },
            )
        elif kind == "sns" and target.sns:
            if self.sns is None:
                raise RuntimeError("no AWS session to publish with")
            self.sns.publish(TopicArn=target.sns, Subject=text[:99], Message=json.dumps(doc))
        elif kind == "email":
            raise RuntimeError(
                "email is sent through an SNS topic: subscribe the address to a topic and use `sns: TOPIC_ARN`"
            )
