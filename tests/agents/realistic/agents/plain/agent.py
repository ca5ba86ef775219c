from strands import Agent, tool


@tool
def word_count(text: str) -> int:
    """Count the words in a text."""
    return len(text.split())


agent = Agent(system_prompt="You count words.", tools=[word_count])
