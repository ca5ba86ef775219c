import json

from strands import Agent

agent = Agent(system_prompt="You answer briefly.", callback_handler=None)


def lambda_handler(event, context):
    body = json.loads(event["body"]) if isinstance(event.get("body"), str) else event
    result = agent(body.get("question", "hello"))
    return {
        "statusCode": 200,
        "answer": str(result).strip(),
        "request": getattr(context, "aws_request_id", None),
    }
