"""Read (or follow) a deployed agent's CloudWatch log group: each event once, in time order."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from strands_deploy.aws.errors import error_code, to_deploy_error
from strands_deploy.errors import StrandsDeployError
from strands_deploy.operate.deployment import Deployment, deployed_output

if TYPE_CHECKING:
    from mypy_boto3_logs import CloudWatchLogsClient

PATTERN_STARTS = ("{", "[", "?", '"', "%", "-")  # already a CloudWatch filter pattern
LATE_MS = 10_000  # events can arrive late: each poll looks this far behind the newest seen
ACTION = "logs:FilterLogEvents"


def log_group(deployment: Deployment, agent: str) -> str:
    """The name of ``agent``'s log group, from the state (a 'not deployed' error if it has none)."""
    return deployed_output(deployment, agent, "logs")


_TERM = re.compile(r'\s*(?:"(?:[^"\\]|\\.)*"|[^\s"]+)(?=\s|$)')


def _looks_like_pattern(text: str) -> bool:
    """A CloudWatch pattern: JSON or space-delimited, or terms separated by spaces where a term
    starting with a quote is one whole quoted phrase. Anything else (``"id":"chat-1"``, quotes
    glued to other text) is literal text to look for."""
    stripped = text.strip()
    if not stripped.startswith(PATTERN_STARTS):
        return False
    if stripped[0] in "{[%":
        return True
    pos = 0
    while pos < len(stripped):
        m = _TERM.match(stripped, pos)
        if m is None:
            return False
        pos = m.end()
    return True


def filter_pattern(text: str | None) -> tuple[str | None, Callable[[str], bool]]:
    """The CloudWatch filter pattern for a filter text, and the exact check applied to what comes back.

    Plain text is matched literally (as a quoted CloudWatch term, then as a substring here);
    text that already looks like a filter pattern ({...}, [...], ?a ?b, -a, "...", %regex%) is sent
    to CloudWatch as is and CloudWatch alone decides (the local cloud's FilterLogEvents evaluates
    patterns as AWS does, see strands_deploy.local.filter_pattern); an invalid pattern comes back
    as AWS's InvalidParameterException.
    """
    if not text:
        return None, lambda message: True
    if _looks_like_pattern(text):
        return text, lambda message: True
    quoted = '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return quoted, lambda message: text in message


def fetch(
    client: CloudWatchLogsClient, group: str, start_ms: int, pattern: str | None, end_ms: int | None = None
) -> Iterator[dict[str, Any]]:
    """Every event of the group from start_ms on (all pages, through botocore's paginator).

    AWS errors come out as botocore's exceptions; :class:`LogReader` converts them.
    """
    kwargs: dict[str, Any] = {"logGroupName": group, "startTime": start_ms, "interleaved": True}
    if end_ms is not None:
        kwargs["endTime"] = end_ms
    if pattern:
        kwargs["filterPattern"] = pattern
    for page in client.get_paginator("filter_log_events").paginate(**kwargs):
        for event in page.get("events", []):
            yield dict(event)


def _is_aws_failure(err: BaseException) -> bool:
    """A botocore ``ClientError`` / ``BotoCoreError``, recognised without importing botocore here.

    Only ``aws/`` imports botocore; ``aws.errors.call`` converts single calls, but a paginator's
    pages are requested while iterating, outside any call we make.
    """
    return any(cls.__module__.partition(".")[0] == "botocore" for cls in type(err).__mro__)


class LogReader:
    """Emits the events of one log group once each, in time order; ``follow`` polls for new ones.

    ``agent`` and ``env_name`` only make error messages precise (which agent, which ``--env``).
    """

    def __init__(
        self,
        client: CloudWatchLogsClient,
        group: str,
        pattern: str | None,
        keep: Callable[[str], bool],
        emit: Callable[[dict[str, Any]], None],
        *,
        agent: str | None = None,
        env_name: str | None = None,
    ) -> None:
        self.client = client
        self.group = group
        self.pattern = pattern
        self.keep = keep
        self.emit = emit
        self.agent = agent
        self.env_name = env_name
        self.seen: dict[str, int] = {}  # eventId -> timestamp (pruned as time moves on)
        self.last_ts = 0

    def events(self, start_ms: int) -> list[dict[str, Any]]:
        """All events since ``start_ms``, sorted by time; AWS errors become StrandsDeployError."""
        try:
            events = list(fetch(self.client, self.group, start_ms, self.pattern))
        except Exception as err:
            if not _is_aws_failure(err):
                raise
            raise self._convert(err) from err
        return sorted(events, key=lambda e: (e.get("timestamp", 0), e.get("ingestionTime", 0)))

    def _convert(self, err: BaseException) -> StrandsDeployError:
        of_agent = f" of agent {self.agent!r}" if self.agent else ""
        if error_code(err) == "ResourceNotFoundException":
            env_flag = f" --env {self.env_name}" if self.env_name else ""
            return StrandsDeployError(
                f"log group {self.group}{of_agent} does not exist",
                fix=f"run strands-deploy deploy{env_flag}",
            )
        address = f"agent.{self.agent}.logs" if self.agent else self.group
        return to_deploy_error(err, address, ACTION)

    def poll(self, start_ms: int) -> int:
        """Emit the new events since max(start_ms, the last one seen). Returns how many."""
        start = max(start_ms, self.last_ts - LATE_MS)
        printed = 0
        for event in self.events(start):
            key = str(
                event.get("eventId")
                or (event.get("logStreamName"), event.get("timestamp"), event.get("message"))
            )
            if key in self.seen:
                continue
            self.seen[key] = int(event.get("timestamp", 0))
            self.last_ts = max(self.last_ts, int(event.get("timestamp", 0)))
            if self.keep(str(event.get("message", ""))):
                self.emit(event)
                printed += 1
        # Events older than the window we ask for can never come back: forget them.
        self.seen = {k: ts for k, ts in self.seen.items() if ts >= self.last_ts - LATE_MS}
        return printed

    def follow(
        self,
        start_ms: int,
        interval: float = 1.0,
        sleep: Callable[[float], None] = time.sleep,
        stop: Callable[[], bool] = lambda: False,
    ) -> None:
        """Poll every ``interval`` seconds until ``stop()`` (or Ctrl-C, which the caller handles)."""
        while not stop():
            self.poll(start_ms)
            sleep(interval)


def open_logs(
    deployment: Deployment,
    agent: str,
    filter_text: str | None,
    emit: Callable[[dict[str, Any]], None],
) -> LogReader:
    """A reader of ``agent``'s log group in ``deployment``, keeping only events matching ``filter_text``."""
    group = log_group(deployment, agent)
    pattern, keep = filter_pattern(filter_text)
    return LogReader(
        deployment.aws().client("logs"), group, pattern, keep, emit, agent=agent, env_name=deployment.env_name
    )
