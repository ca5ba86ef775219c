from fastapi import FastAPI
from pydantic import BaseModel
from strands import Agent

app = FastAPI()


class Question(BaseModel):
    text: str


@app.get("/health")
def health() -> dict:
    return {"ok": True}


@app.post("/chat")
def chat(question: Question) -> dict:
    agent = Agent(system_prompt="You are a web assistant.", callback_handler=None)
    return {"answer": str(agent(question.text)).strip()}
