"""The local model: boto3's bedrock-runtime client and real strands Agents against the local cloud."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from tests.integration.local.conftest import Cloud, create_function, invoke

SCRIPT = r"""
- match: 'weather in (?P<city>\w+)'
  tool: {name: get_weather, input: {city: "{city}", note: "asked: {text}"}}
- match: '^hello (\w+)'
  reply: "Hi {1}! You said: {text}"
"""

MESSAGES = [{"role": "user", "content": [{"text": "hi"}]}]
TOOLS = {
    "tools": [
        {
            "toolSpec": {
                "name": "get_weather",
                "description": "Weather for a city",
                "inputSchema": {"json": {"type": "object", "properties": {"city": {"type": "string"}}}},
            }
        }
    ]
}


@pytest.fixture
def scripted(cloud: Cloud, tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "model.yaml"
    path.write_text(SCRIPT)
    cloud.set_model_script(path)
    try:
        yield path
    finally:
        cloud.set_model_script(None)


def test_converse_echoes_the_last_user_message(cloud: Cloud) -> None:
    out = cloud.client("bedrock-runtime").converse(
        modelId="us.anthropic.claude-sonnet-4-x", messages=MESSAGES
    )
    assert out["output"]["message"] == {"role": "assistant", "content": [{"text": "echo: hi"}]}
    assert out["stopReason"] == "end_turn"
    assert out["usage"]["totalTokens"] == out["usage"]["inputTokens"] + out["usage"]["outputTokens"]
    assert "latencyMs" in out["metrics"]


def test_converse_stream_is_a_valid_event_stream(cloud: Cloud) -> None:
    out = cloud.client("bedrock-runtime").converse_stream(
        modelId="arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.x",
        messages=[{"role": "user", "content": [{"text": "hello there world"}]}],
    )
    events = list(out["stream"])  # botocore checks both CRCs of every message
    kinds = [next(iter(e)) for e in events]
    assert kinds[0] == "messageStart" and kinds[-3:] == ["contentBlockStop", "messageStop", "metadata"]
    text = "".join(e["contentBlockDelta"]["delta"]["text"] for e in events if "contentBlockDelta" in e)
    assert text == "echo: hello there world"
    assert events[-2]["messageStop"]["stopReason"] == "end_turn"
    assert events[-1]["metadata"]["usage"]["outputTokens"] > 0


def test_model_script_reply_and_tool_rules(cloud: Cloud, scripted: Path) -> None:
    br = cloud.client("bedrock-runtime")
    out = br.converse(modelId="m", messages=[{"role": "user", "content": [{"text": "hello Ada"}]}])
    assert out["output"]["message"]["content"] == [{"text": "Hi Ada! You said: hello Ada"}]

    ask = [{"role": "user", "content": [{"text": "what is the weather in Paris?"}]}]
    out = br.converse(modelId="m", messages=ask, toolConfig=TOOLS)
    assert out["stopReason"] == "tool_use"
    use = out["output"]["message"]["content"][0]["toolUse"]
    assert use["name"] == "get_weather"
    assert use["input"] == {"city": "Paris", "note": "asked: what is the weather in Paris?"}

    stream = list(br.converse_stream(modelId="m", messages=ask, toolConfig=TOOLS)["stream"])
    start = next(e["contentBlockStart"] for e in stream if "contentBlockStart" in e)
    assert start["start"]["toolUse"]["name"] == "get_weather"
    delta = next(e["contentBlockDelta"] for e in stream if "contentBlockDelta" in e)
    assert json.loads(delta["delta"]["toolUse"]["input"])["city"] == "Paris"
    assert next(e["messageStop"] for e in stream if "messageStop" in e)["stopReason"] == "tool_use"

    # a tool result never triggers a tool rule again: the default echoes the result
    result = {
        "role": "user",
        "content": [{"toolResult": {"toolUseId": use["toolUseId"], "content": [{"text": "sunny in Paris"}]}}],
    }
    follow = [*ask, {"role": "assistant", "content": [{"toolUse": use}]}, result]
    out = br.converse(modelId="m", messages=follow, toolConfig=TOOLS)
    assert out["output"]["message"]["content"] == [{"text": "echo: sunny in Paris"}]


def test_broken_model_script_is_a_validation_error(cloud: Cloud, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("- match: '('\n  reply: x\n")
    cloud.set_model_script(bad)
    try:
        with pytest.raises(ClientError) as exc:
            cloud.client("bedrock-runtime").converse(modelId="m", messages=MESSAGES)
        assert exc.value.response["Error"]["Code"] == "ValidationException"
        assert "rule 1" in exc.value.response["Error"]["Message"]
    finally:
        cloud.set_model_script(None)


AGENT = """
from strands import Agent

def handler(event, context):
    return str(Agent(callback_handler=None)("hi"))
"""

TOOL_AGENT = """
from strands import Agent, tool

@tool
def get_weather(city: str) -> str:
    \"\"\"The weather in a city.\"\"\"
    return f"sunny and 21C in {city}"

def handler(event, context):
    return str(Agent(tools=[get_weather], callback_handler=None)(event["prompt"]))
"""


@pytest.mark.slow
def test_strands_agent_with_default_model_answers_echo(cloud: Cloud, role_arn: str) -> None:
    name = create_function(cloud, role_arn, AGENT, Timeout=60)
    resp, out = invoke(cloud, name)
    assert "FunctionError" not in resp, out
    assert out.strip() == "echo: hi"


@pytest.mark.slow
def test_strands_agent_calls_a_tool_from_the_model_script(
    cloud: Cloud, role_arn: str, scripted: Path
) -> None:
    name = create_function(cloud, role_arn, TOOL_AGENT, Timeout=60)
    resp, out = invoke(cloud, name, {"prompt": "What is the weather in Lisbon?"})
    assert "FunctionError" not in resp, out
    assert "sunny and 21C in Lisbon" in out
