"""`strands-deploy logs AGENT`: read (or follow) the agent's CloudWatch log group (operate.logs)."""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from strands_deploy.cli.common import agent_argument, console, env_option, json_option, project_dir, summary
from strands_deploy.errors import StrandsDeployError

SINCE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|sec|m|min|h|hr|d|w)?\s*$", re.IGNORECASE)
UNIT_SECONDS = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "hr": 3600, "d": 86400, "w": 604800}


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


def event_json(event: dict[str, Any]) -> dict[str, Any]:
    """One event for scripts: the CloudWatch fields, plus the time in ISO 8601 (UTC)."""
    ms = int(event.get("timestamp", 0))
    out = {
        "timestamp": ms,
        "time": datetime.fromtimestamp(ms / 1000, tz=UTC).isoformat(),
        "message": str(event.get("message", "")).rstrip("\n"),
    }
    for key in ("logStreamName", "eventId"):
        if key in event:
            out[key] = event[key]
    return out


@click.command("logs")
@agent_argument
@env_option
@click.option("--follow", "-f", is_flag=True, help="Keep printing new events (every second) until Ctrl-C.")
@click.option(
    "--since", default="10m", show_default=True, help="How far back: 30s, 10m, 2h, 1d, or an ISO time."
)
@click.option(
    "--filter",
    "filter_text",
    metavar="TEXT",
    help=(
        "Only events containing TEXT, or matching a CloudWatch filter pattern, evaluated by CloudWatch "
        '(the local cloud too): {$.level = "ERROR"}, {$.status >= 500 && $.duration_ms > 1000}, '
        '"exact phrase", ?ERROR ?WARN (either), ERROR -Throttled (not Throttled).'
    ),
)
@json_option("One JSON object per event and line: timestamp (ms), time (ISO), message.")
@click.pass_context
def command(
    ctx: click.Context,
    agent: str,
    env_name: str,
    follow: bool,
    since: str,
    filter_text: str | None,
    as_json: bool,
) -> None:
    """Print AGENT's log events: one JSON line per request, plus whatever the agent printed."""
    from rich.text import Text

    from strands_deploy.cli.invoke_cmd import deployment
    from strands_deploy.operate.logs import open_logs
    from strands_deploy.services import open_services

    start_ms = parse_since(since)
    services = open_services(Path(project_dir(ctx)), env_name)
    con = console()

    def emit(event: dict[str, Any]) -> None:
        if as_json:
            click.echo(json.dumps(event_json(event)), nl=True)
            return
        text, style = format_event(event)
        con.print(Text(text, style=style), soft_wrap=True)

    try:
        reader = open_logs(deployment(services, env_name), agent, filter_text, emit)
        try:
            if follow:
                reader.follow(start_ms)
            elif reader.poll(start_ms) == 0:
                summary(
                    f"[dim]no log events since {since}{' matching ' + repr(filter_text) if filter_text else ''}[/dim]"
                )
        except KeyboardInterrupt:
            return
    finally:
        close = getattr(services, "close", None)
        if callable(close):
            close()
