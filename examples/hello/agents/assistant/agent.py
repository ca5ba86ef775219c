"""A small Strands agent with one tool. Locally it talks to the emulated Bedrock model."""

from strands import Agent, tool


@tool
def word_count(text: str) -> int:
    """Count the words in a piece of text."""
    return len(text.split())


agent = Agent(
    system_prompt="You are a concise, helpful assistant.",
    tools=[word_count],
    callback_handler=None,
)
