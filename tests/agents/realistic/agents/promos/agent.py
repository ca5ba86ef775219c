from strands import Agent
from tools.promos import lookup_promo

agent = Agent(system_prompt="You know our promotions.", tools=[lookup_promo])
