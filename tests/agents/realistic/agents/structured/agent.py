from pydantic import BaseModel, Field
from strands import Agent


class Ticket(BaseModel):
    """A support ticket."""

    title: str = Field(description="short title")
    priority: int = Field(description="1 (high) to 3 (low)")


agent = Agent(system_prompt="You file support tickets.", structured_output_model=Ticket)
