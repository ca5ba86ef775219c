from strands import Agent
from strands_tools import calculator, current_time

agent = Agent(system_prompt="You compute.", tools=[calculator, current_time])
