"""The writer: drafts text and, with `sessions: true`, remembers the conversation per session_id."""

from __future__ import annotations

from typing import Any

from strands import Agent, tool

SYSTEM_PROMPT = (
    "You are a clear, friendly writer. Draft what the user asks for, keep earlier drafts of this "
    "conversation in mind when asked for changes, and use word_budget to respect length limits."
)


@tool
def word_budget(text: str, limit: int) -> dict[str, int | bool]:
    """Check a draft against a word limit.

    Args:
        text: The draft.
        limit: The maximum number of words.
    """
    words = len(text.split())
    return {"words": words, "limit": limit, "fits": words <= limit}


def create_agent(model: Any = None, session_manager: Any = None) -> Agent:
    return Agent(
        model=model,
        name="writer",
        system_prompt=SYSTEM_PROMPT,
        tools=[word_budget],
        callback_handler=None,
        session_manager=session_manager,
    )


agent = create_agent()
