"""The assistant: a Strands agent with one tool.

strands-deploy imports ``agent`` from this file (``entry: agent.py:agent`` in strands.yaml) and
answers every request with a fresh conversation built from it (or with the conversation of the
request's session_id when ``sessions: true``).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from strands import Agent, tool

SYSTEM_PROMPT = (
    "You are a concise, friendly assistant. "
    "When asked about the current date or time, use the current_time tool instead of guessing."
)


@tool
def current_time(utc_offset_hours: float = 0.0) -> str:
    """Get the current date and time.

    Args:
        utc_offset_hours: Offset from UTC in hours, e.g. 2 for UTC+2 or -5.5 for UTC-5:30.
    """
    if not -14 <= utc_offset_hours <= 14:
        return "utc_offset_hours must be between -14 and 14"
    zone = timezone(timedelta(hours=utc_offset_hours))
    return datetime.now(zone).isoformat(timespec="seconds")


def create_agent(model: Any = None, session_manager: Any = None) -> Agent:
    """Build the agent. ``model=None`` is the SDK's default Bedrock model; tests pass their own."""
    return Agent(
        model=model,
        system_prompt=SYSTEM_PROMPT,
        tools=[current_time],
        callback_handler=None,
        session_manager=session_manager,
    )


agent = create_agent()
