"""`strands-deploy logs AGENT`: read (or follow) the agent's CloudWatch log group."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from strands_deploy.cli.common import console, env_option, project_dir
from strands_deploy.errors import StrandsDeployError

SINCE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|sec|m|min|h|hr|d|w)?\s*$", re.IGNORECASE)
UNIT_SECONDS = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "hr": 3600, "d": 86400, "w": 604800}
PATTERN_STARTS = ("{", "[", "?", '"', "%", "-")  # already a CloudWatch filter pattern
LATE_MS = 10_000  # events can arrive late: each poll looks this far behind the newest seen


def parse_since(value: str, now: float | None = None) -> int:
    """'30s', '10m', '2h', '1d', '1w' (ago) or an ISO 8601 time -> epoch milliseconds."""
    now = time.time() if now is None else now
    m = SINCE_RE.match(value)
    if m:
        unit = (m.group(2) or "m").lower()
        return int((now - float(m.group(1)) * UNIT_SECONDS[unit]) * 1000)
    try:
        when = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise StrandsDeployError(
            f"--since {value!r} is not a duration or a time",
            fix="use e.g. --since 30s, 10m, 2h, 1d, or an ISO time like 2024-05-01T12:00",
        ) from None
    if when.tzinfo is None:
        when = when.astimezone()  # local time
    return int(when.timestamp() * 1000)


def filter_pattern(text: str | None) -> tuple[str | None, Callable[[str], bool]]:
    """The CloudWatch filter pattern for --filter, and the exact check applied to what comes back.

    Plain text is matched literally (as a quoted CloudWatch term, then as a substring here);
    text that already looks like a filter pattern ({...}, [...], ?a ?b, "...") is passed as is.
    """
    if not text:
        return None, lambda message: True
    if text.lstrip().startswith(PATTERN_STARTS):
        return text, lambda message: True
    quoted = '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return quoted, lambda message: text in message


def fetch(
    client: Any, group: str, start_ms: int, pattern: str | None, end_ms: int | None = None
) -> Iterator[dict[str, Any]]:
    """Every event of the group from start_ms on (all pages)."""
    kwargs: dict[str, Any] = {"logGroupName": group, "startTime": start_ms, "interleaved": True}
    if end_ms is not None:
        kwargs["endTime"] = end_ms
    if pattern:
        kwargs["filterPattern"] = pattern
    while True:
        resp = client.filter_log_events(**kwargs)
        yield from resp.get("events", [])
        token = resp.get("nextToken")
        if not token or token == kwargs.get("nextToken"):
            return
        kwargs["nextToken"] = token


def format_event(event: dict[str, Any]) -> tuple[str, str]:
    """(text, style) for one log event."""
    ts = datetime.fromtimestamp(event.get("timestamp", 0) / 1000, tz=UTC).astimezone()
    message = str(event.get("message", "")).rstrip("\n")
    style = ""
    stripped = message.lstrip()
    if stripped.startswith(("START RequestId", "END RequestId", "REPORT RequestId", "INIT_START")):
        style = "dim"
    elif stripped.startswith("{"):
        try:
            record = json.loads(stripped)
        except ValueError:
            record = None
        if isinstance(record, dict):
            level = str(record.get("level", "")).upper()
            style = "red" if level in ("ERROR", "CRITICAL") else "yellow" if level == "WARNING" else ""
    elif "Traceback" in message or "[ERROR]" in message:
        style = "red"
    return f"{ts:%Y-%m-%d %H:%M:%S}  {message}", style


class LogReader:
    """Prints the events of one log group once each, in time order; follow polls for new ones."""

    def __init__(
        self,
        client: Any,
        group: str,
        pattern: str | None,
        keep: Callable[[str], bool],
        emit: Callable[[dict[str, Any]], None],
    ) -> None:
        self.client = client
        self.group = group
        self.pattern = pattern
        self.keep = keep
        self.emit = emit
        self.seen: dict[str, int] = {}  # eventId -> timestamp (pruned as time moves on)
        self.last_ts = 0

    def poll(self, start_ms: int) -> int:
        """Print the new events since max(start_ms, the last one seen). Returns how many."""
        start = max(start_ms, self.last_ts - LATE_MS)
        events = sorted(
            fetch(self.client, self.group, start, self.pattern),
            key=lambda e: (e.get("timestamp", 0), e.get("ingestionTime", 0)),
        )
        printed = 0
        for event in events:
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
        while not stop():
            self.poll(start_ms)
            sleep(interval)


def log_group(services: Any, agent: str, env_name: str) -> str:
    from strands_deploy.cli.invoke_cmd import deployed_output

    return deployed_output(services, agent, env_name, "logs")


@click.command("logs")
@click.argument("agent")
@env_option
@click.option("--follow", "-f", is_flag=True, help="Keep printing new events (every second) until Ctrl-C.")
@click.option(
    "--since", default="10m", show_default=True, help="How far back: 30s, 10m, 2h, 1d, or an ISO time."
)
@click.option(
    "--filter",
    "filter_text",
    metavar="TEXT",
    help='Only events containing TEXT (a CloudWatch filter pattern such as {$.level = "ERROR"} also works).',
)
@click.pass_context
def command(
    ctx: click.Context, agent: str, env_name: str, follow: bool, since: str, filter_text: str | None
) -> None:
    """Print AGENT's log events: one JSON line per request, plus whatever the agent printed."""
    from botocore.exceptions import ClientError
    from rich.text import Text

    from strands_deploy.services import open_services

    start_ms = parse_since(since)
    pattern, keep = filter_pattern(filter_text)
    services = open_services(Path(project_dir(ctx)), env_name)
    con = console()

    def emit(event: dict[str, Any]) -> None:
        text, style = format_event(event)
        con.print(Text(text, style=style), soft_wrap=True)

    try:
        group = log_group(services, agent, env_name)
        reader = LogReader(services.aws.client("logs"), group, pattern, keep, emit)
        try:
            if follow:
                reader.follow(start_ms)
            elif reader.poll(start_ms) == 0:
                con.print(
                    f"[dim]no log events since {since}{' matching ' + repr(filter_text) if filter_text else ''}[/dim]"
                )
        except KeyboardInterrupt:
            return
        except ClientError as e:
            code = e.response.get("Error", {}).get("Code", "")
            if code == "ResourceNotFoundException":
                raise StrandsDeployError(
                    f"log group {group} of agent {agent!r} does not exist",
                    fix=f"run strands-deploy deploy --env {env_name}",
                ) from None
            raise StrandsDeployError(
                f"reading the logs of {agent!r} failed: {code}: {e.response.get('Error', {}).get('Message', e)}"
            ) from None
    finally:
        close = getattr(services, "close", None)
        if callable(close):
            close()
