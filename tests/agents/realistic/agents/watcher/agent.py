from strands import Agent

agent = Agent(system_prompt="You react to events.")
