from strands import Agent, tool


@tool
def researcher(query: str) -> str:
    """Ask the research agent."""
    helper = Agent(system_prompt="You research things.", callback_handler=None)
    return f"research notes: {helper(query)}".strip()


agent = Agent(system_prompt="You delegate research.", tools=[researcher])
