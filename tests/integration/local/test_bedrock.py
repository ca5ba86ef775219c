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
    message = out["output"]["message"]
    assert message["role"] == "assistant"
    # the first echo of a server may carry, once, a note in a reasoning block (str(result) skips it)
    assert [b for b in message["content"] if "reasoningContent" not in b] == [{"text": "echo: hi"}]
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
    deltas = [e["contentBlockDelta"] for e in events if "contentBlockDelta" in e]
    text = "".join(d["delta"]["text"] for d in deltas if d["contentBlockIndex"] == 0)
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


SCHEMA_TOOLS = {
    "tools": [
        {
            "toolSpec": {
                "name": "Person",
                "inputSchema": {
                    "json": {
                        "type": "object",
                        "properties": {
                            "name": {"type": "string"},
                            "age": {"type": "integer"},
                            "admin": {"type": "boolean"},
                            "tags": {"type": "array", "items": {"type": "string"}},
                            "address": {"$ref": "#/$defs/Address"},
                            "nickname": {"type": "string"},
                        },
                        "required": ["name", "age", "admin", "tags", "address"],
                        "$defs": {
                            "Address": {
                                "type": "object",
                                "properties": {"city": {"type": "string"}, "zip": {"type": "number"}},
                                "required": ["city", "zip"],
                            }
                        },
                    }
                },
            }
        },
        TOOLS["tools"][0],
    ]
}
MINIMAL_PERSON = {"name": "", "age": 0, "admin": False, "tags": [], "address": {"city": "", "zip": 0}}


def test_tool_choice_forces_the_tool_with_a_minimal_input(cloud: Cloud) -> None:
    br = cloud.client("bedrock-runtime")
    forced = {**SCHEMA_TOOLS, "toolChoice": {"tool": {"name": "Person"}}}
    out = br.converse(modelId="m", messages=MESSAGES, toolConfig=forced)
    assert out["stopReason"] == "tool_use"
    use = out["output"]["message"]["content"][0]["toolUse"]
    assert (use["name"], use["input"]) == ("Person", MINIMAL_PERSON)

    stream = list(br.converse_stream(modelId="m", messages=MESSAGES, toolConfig=forced)["stream"])
    delta = next(e["contentBlockDelta"] for e in stream if "contentBlockDelta" in e)
    assert json.loads(delta["delta"]["toolUse"]["input"]) == MINIMAL_PERSON

    anything = {**SCHEMA_TOOLS, "toolChoice": {"any": {}}}
    out = br.converse(modelId="m", messages=MESSAGES, toolConfig=anything)
    assert out["stopReason"] == "tool_use"

    with pytest.raises(ClientError) as exc:
        br.converse(
            modelId="m", messages=MESSAGES, toolConfig={**TOOLS, "toolChoice": {"tool": {"name": "x"}}}
        )
    assert exc.value.response["Error"]["Code"] == "ValidationException"


def test_forced_tool_takes_its_input_from_the_script(cloud: Cloud, tmp_path: Path) -> None:
    path = tmp_path / "structured.yaml"
    path.write_text(
        SCRIPT
        + """
- match: 'person (?P<name>\\w+)'
  structured: {name: "{name}", age: 36, admin: true, tags: [x], address: {city: Paris, zip: 75001}}
"""
    )
    cloud.set_model_script(path)
    try:
        br = cloud.client("bedrock-runtime")
        ask = [{"role": "user", "content": [{"text": "describe person Ada"}]}]
        # auto: the structured rule calls the tool whose schema the object fits
        out = br.converse(modelId="m", messages=ask, toolConfig=SCHEMA_TOOLS)
        use = out["output"]["message"]["content"][0]["toolUse"]
        assert use["name"] == "Person" and use["input"]["name"] == "Ada"
        # forced after a follow-up prompt (the SDK's structured output retry): found in the history
        retry = [
            *ask,
            {"role": "assistant", "content": [{"text": "Ada is 36."}]},
            {
                "role": "user",
                "content": [{"text": "You must format the previous response as structured output."}],
            },
        ]
        forced = {**SCHEMA_TOOLS, "toolChoice": {"tool": {"name": "Person"}}}
        use = br.converse(modelId="m", messages=retry, toolConfig=forced)["output"]["message"]["content"][0]
        assert use["toolUse"]["input"]["address"] == {"city": "Paris", "zip": 75001}
        # a tool rule for the forced tool gives its input too
        weather = [{"role": "user", "content": [{"text": "weather in Oslo"}]}]
        forced = {**TOOLS, "toolChoice": {"any": {}}}
        use = br.converse(modelId="m", messages=weather, toolConfig=forced)["output"]["message"]["content"][0]
        assert use["toolUse"]["input"]["city"] == "Oslo"
    finally:
        cloud.set_model_script(None)


def test_usage_grows_with_the_conversation(cloud: Cloud) -> None:
    br = cloud.client("bedrock-runtime")
    short = br.converse(modelId="m", messages=MESSAGES)["usage"]
    long_history = [
        {"role": "user", "content": [{"text": "a fairly long first question " * 20}]},
        {"role": "assistant", "content": [{"text": "a fairly long first answer " * 20}]},
        {"role": "user", "content": [{"text": "hi"}]},
    ]
    long = br.converse(modelId="m", messages=long_history)["usage"]
    assert long["inputTokens"] > short["inputTokens"] + 200  # ~1 token per 4 characters
    assert long["outputTokens"] == short["outputTokens"]


def test_invoke_model_speaks_the_anthropic_messages_format(cloud: Cloud, scripted: Path) -> None:
    br = cloud.client("bedrock-runtime")
    body = {
        "anthropic_version": "bedrock-2023-05-31",
        "max_tokens": 512,
        "messages": [{"role": "user", "content": "hello Ada"}],
    }
    out = json.loads(br.invoke_model(modelId="anthropic.claude-x", body=json.dumps(body))["body"].read())
    assert out["content"] == [{"type": "text", "text": "Hi Ada! You said: hello Ada"}]
    assert out["stop_reason"] == "end_turn" and out["role"] == "assistant"
    assert out["usage"]["input_tokens"] > 0 and out["usage"]["output_tokens"] > 0

    tools = [
        {
            "name": "get_weather",
            "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}},
        }
    ]
    body = {**body, "messages": [{"role": "user", "content": [{"type": "text", "text": "weather in Rome"}]}]}
    out = json.loads(br.invoke_model(modelId="m", body=json.dumps({**body, "tools": tools}))["body"].read())
    assert out["stop_reason"] == "tool_use"
    use = out["content"][-1]
    assert (use["type"], use["name"], use["input"]["city"]) == ("tool_use", "get_weather", "Rome")

    stream = br.invoke_model_with_response_stream(modelId="m", body=json.dumps({**body, "tools": tools}))
    chunks = [json.loads(e["chunk"]["bytes"]) for e in stream["body"]]
    assert chunks[0]["type"] == "message_start" and chunks[-1]["type"] == "message_stop"
    partial = "".join(
        c["delta"].get("partial_json", "") for c in chunks if c["type"] == "content_block_delta"
    )
    assert json.loads(partial)["city"] == "Rome"


def test_the_first_echo_of_a_server_explains_the_local_model(tmp_path: Path) -> None:
    from tests.conftest import stop_process
    from tests.integration.local.conftest import start_server

    server = start_server(tmp_path / "state", tmp_path / "server.log")
    try:
        br = server.client("bedrock-runtime")
        first = br.converse(modelId="m", messages=MESSAGES)["output"]["message"]["content"]
        assert first[0] == {"text": "echo: hi"}
        note = first[1]["reasoningContent"]["reasoningText"]["text"]
        assert "local model" in note and "model_script" in note and "docs/local-cloud.md" in note
        again = br.converse(modelId="m", messages=MESSAGES)["output"]["message"]["content"]
        assert again == [{"text": "echo: hi"}]  # once per server start
    finally:
        stop_process(server.proc)


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


@pytest.fixture
def model_role(cloud: Cloud, role_arn: str) -> str:
    """A role that may invoke models, as strands-deploy's own roles do: the local cloud checks it."""
    cloud.client("iam").put_role_policy(
        RoleName=role_arn.rsplit("/", 1)[-1],
        PolicyName="models",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": ["bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"],
                        "Resource": [
                            "arn:aws:bedrock:*::foundation-model/*",
                            "arn:aws:bedrock:*:*:inference-profile/*",
                        ],
                    }
                ],
            }
        ),
    )
    return role_arn


@pytest.mark.slow
def test_strands_agent_with_default_model_answers_echo(cloud: Cloud, model_role: str) -> None:
    name = create_function(cloud, model_role, AGENT, Timeout=60)
    resp, out = invoke(cloud, name)
    assert "FunctionError" not in resp, out
    assert out.strip() == "echo: hi"


STRUCTURED_AGENT = """
from pydantic import BaseModel
from strands import Agent

class Person(BaseModel):
    name: str
    age: int

def handler(event, context):
    result = Agent(callback_handler=None)("who is Ada?", structured_output_model=Person)
    return result.structured_output.model_dump()
"""


@pytest.mark.slow
def test_strands_structured_output_works_without_a_script(cloud: Cloud, model_role: str) -> None:
    name = create_function(cloud, model_role, STRUCTURED_AGENT, Timeout=60)
    resp, out = invoke(cloud, name)
    assert "FunctionError" not in resp, out
    assert (out if isinstance(out, dict) else json.loads(out)) == {"name": "", "age": 0}


@pytest.mark.slow
def test_strands_agent_calls_a_tool_from_the_model_script(
    cloud: Cloud, model_role: str, scripted: Path
) -> None:
    name = create_function(cloud, model_role, TOOL_AGENT, Timeout=60)
    resp, out = invoke(cloud, name, {"prompt": "What is the weather in Lisbon?"})
    assert "FunctionError" not in resp, out
    assert "sunny and 21C in Lisbon" in out
