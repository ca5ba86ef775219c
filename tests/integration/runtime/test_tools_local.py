"""The runtime in the local cloud's Lambda: the answer's tool calls drive an eval's ``tool_called``
expectation, and the request line's Embedded Metric Format metrics, extracted as CloudWatch Logs
does, are what the rollout gates read per version through GetMetricData."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from strands_deploy.config.rollout_schema import Gates
from strands_deploy.rollout import evals
from strands_deploy.rollout.gates import judge
from strands_deploy.rollout.metrics import version_stats
from strands_deploy.runtime import adapter
from tests.integration.local.conftest import Cloud, make_zip, unique
from tests.integration.local.conftest import cloud as cloud  # noqa: F401 - the session's local cloud
from tests.integration.local.conftest import role_arn as role_arn  # noqa: F401 - a fixture

# A self-contained agent: its model calls lookup_order when the prompt mentions an order, and
# reports 7 input / 3 output tokens per call.
AGENT = '''
from strands import Agent, tool
from strands.models.model import Model


@tool
def lookup_order(order: str) -> str:
    """Find an order."""
    return "shipped"


class OrderModel(Model):
    def update_config(self, **kw):
        return None

    def get_config(self):
        return {}

    async def structured_output(self, *args, **kwargs):
        raise NotImplementedError
        yield {}

    async def stream(self, messages, tool_specs=None, system_prompt=None, **kwargs):
        last = messages[-1]["content"][0]
        yield {"messageStart": {"role": "assistant"}}
        if "text" in last and "order" in last["text"]:
            start = {"toolUse": {"toolUseId": "t1", "name": "lookup_order"}}
            yield {"contentBlockStart": {"start": start}}
            yield {"contentBlockDelta": {"delta": {"toolUse": {"input": '{"order": "A1"}'}}}}
            yield {"contentBlockStop": {}}
            yield {"messageStop": {"stopReason": "tool_use"}}
        else:
            yield {"contentBlockStart": {"start": {}}}
            yield {"contentBlockDelta": {"delta": {"text": "It shipped." if "toolResult" in last else "Hello!"}}}
            yield {"contentBlockStop": {}}
            yield {"messageStop": {"stopReason": "end_turn"}}
        usage = {"inputTokens": 7, "outputTokens": 3, "totalTokens": 10}
        yield {"metadata": {"usage": usage, "metrics": {"latencyMs": 0}}}


agent = Agent(model=OrderModel(), tools=[lookup_order], callback_handler=None)
'''


def deploy_agent(cloud: Cloud, role: str) -> str:
    """The agent packaged as strands-deploy packages it, version 1 behind alias `live`."""
    lam = cloud.client("lambda")
    name = unique("agent")
    files = {"_strands_runtime.py": Path(adapter.__file__).read_text(), "agent.py": AGENT}
    lam.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=role,
        Handler="_strands_runtime.handler",
        Code={"ZipFile": make_zip(files)},
        Timeout=30,
        Environment={"Variables": {"STRANDS_ENTRY": "agent.py:agent", "STRANDS_AGENT_NAME": "support"}},
    )
    assert lam.publish_version(FunctionName=name)["Version"] == "1"
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
    return name


def invoke_live(cloud: Cloud, name: str, payload: dict[str, Any]) -> dict[str, Any]:
    resp = cloud.client("lambda").invoke(FunctionName=name, Qualifier="live", Payload=json.dumps(payload))
    assert "FunctionError" not in resp
    answer: dict[str, Any] = json.loads(resp["Payload"].read())
    return answer


def test_eval_tool_called_reads_the_answers_tool_calls(cloud: Cloud, role_arn: str, tmp_path: Path) -> None:
    name = deploy_agent(cloud, role_arn)
    (tmp_path / "suite.yaml").write_text(
        "cases:\n"
        "  - {name: order, prompt: 'where is my order A1?', expect: {tool_called: lookup_order}}\n"
        "  - {name: greeting, prompt: hello, expect: {tool_called: [lookup_order]}}\n"
    )
    invoke = evals.lambda_invoker(cloud.client("lambda"), name, "1")
    result = evals.run_suite(evals.load_suite(tmp_path / "suite.yaml"), invoke)

    order, greeting = result.results
    assert order.passed and order.answer == "It shipped.", order.problems
    assert not greeting.passed
    assert greeting.problems == ["tool 'lookup_order' was not called (called: none)"]
    answer = invoke({"prompt": "my order?"})
    assert [(t["name"], t["status"]) for t in answer["tools"]] == [("lookup_order", "success")]


def test_gates_read_the_runtimes_metrics_per_version(cloud: Cloud, role_arn: str) -> None:
    name = deploy_agent(cloud, role_arn)
    started = time.time() - 1
    assert invoke_live(cloud, name, {"prompt": "where is order A1?"})["response"] == "It shipped."
    assert invoke_live(cloud, name, {"prompt": "hello"})["response"] == "Hello!"
    assert invoke_live(cloud, name, {"prompt": ""})["status"] == 400  # answered, not a Lambda error

    stats = version_stats(cloud.client("cloudwatch"), name, "live", "1", started, time.time())
    assert stats.invocations == 3
    assert (stats.input_tokens, stats.output_tokens) == (21.0, 9.0)  # 3 model calls
    assert (stats.tool_calls, stats.tool_errors) == (1.0, 0.0)
    assert stats.errors == 1.0  # the 400 the runtime answered: Lambda saw 3 successful invocations

    verdict = judge(Gates(error_rate=0.1, cost_per_request_usd=0.0000001, min_invocations=3), stats, [])
    assert verdict.judged
    assert any(b.startswith("error rate 33.3%") for b in verdict.breaches)
    assert any(b.startswith("cost per request") for b in verdict.breaches)
    # another version of the same function has numbers of its own
    other = version_stats(cloud.client("cloudwatch"), name, "live", "2", started, time.time())
    assert (other.invocations, other.input_tokens, other.errors) == (0.0, 0.0, 0.0)
