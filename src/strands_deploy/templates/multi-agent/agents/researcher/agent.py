"""The researcher: looks facts up in its notes and reports them with their source."""

from __future__ import annotations

from typing import Any

from strands import Agent, tool

SYSTEM_PROMPT = (
    "You are a careful researcher. Use search_notes to find facts, quote them, and say which note "
    "they come from. If the notes have nothing, say so; never invent facts."
)

NOTES = {
    "strands": "Strands Agents is an open source SDK for building AI agents in a few lines of code.",
    "lambda": "AWS Lambda runs code without servers; a function can run for at most 15 minutes.",
    "bedrock": "Amazon Bedrock gives API access to foundation models from several providers.",
}


@tool
def search_notes(query: str) -> list[dict[str, str]]:
    """Search the research notes.

    Args:
        query: Words to look for (case-insensitive).
    """
    words = [w for w in query.lower().split() if len(w) > 2]
    return [
        {"note": key, "text": text}
        for key, text in NOTES.items()
        if any(w in key or w in text.lower() for w in words)
    ]


def create_agent(model: Any = None, session_manager: Any = None) -> Agent:
    return Agent(
        model=model,
        name="researcher",
        system_prompt=SYSTEM_PROMPT,
        tools=[search_notes],
        callback_handler=None,
        session_manager=session_manager,
    )


agent = create_agent()
