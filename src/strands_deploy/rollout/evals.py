"""Agent-quality eval suites, run against one version of an agent (by qualifier, before any user
traffic reaches it).

```yaml
pass_rate: 90%          # default 100%
concurrency: 4          # cases in flight at once (default 4)
judge_model: us.anthropic.claude-3-5-haiku-20241022-v1:0   # for `judge:` rubrics
cases:
  - name: refund
    session: ["I bought a kettle", "it broke"]     # earlier turns, same session
    prompt: "Can I get a refund?"
    expect: {contains: refund, regex: "\\d+ days", max_latency_ms: 8000, max_tokens: 2000,
             tool_called: lookup_order, json_schema: {...}}   # tool_called: a name or a list
    judge: "Offers a refund and asks for the order number"
```
Offline, the local cloud's model script makes a suite's answers deterministic.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

from strands_deploy.config.rollout_schema import fraction
from strands_deploy.errors import StrandsDeployError

Invoke = Callable[[dict[str, Any]], dict[str, Any]]  # payload -> the agent's answer
Judge = Callable[[str, str, str], bool]  # (rubric, prompt, answer) -> passed


@dataclass
class Case:
    name: str
    prompt: str
    session: list[str] = field(default_factory=list)
    expect: dict[str, Any] = field(default_factory=dict)
    judge: str | None = None


@dataclass
class Suite:
    cases: list[Case]
    pass_rate: float = 1.0
    concurrency: int = 4
    judge_model: str | None = None


@dataclass
class CaseResult:
    name: str
    passed: bool
    problems: list[str]
    latency_ms: float
    answer: str


@dataclass
class SuiteResult:
    results: list[CaseResult]
    pass_rate: float
    required: float

    @property
    def passed(self) -> bool:
        return self.pass_rate >= self.required

    def summary(self) -> str:
        failed = [r.name for r in self.results if not r.passed]
        text = f"{self.pass_rate:.0%} of {len(self.results)} cases passed (required {self.required:.0%})"
        return text + (f"; failed: {', '.join(failed)}" if failed else "")

    def to_json(self) -> dict[str, Any]:
        return {
            "pass_rate": self.pass_rate,
            "required": self.required,
            "passed": self.passed,
            "results": [asdict(r) for r in self.results],
        }


_EXPECT_KEYS = {"contains", "regex", "json_schema", "tool_called", "max_tokens", "max_latency_ms"}


def load_suite(path: Path) -> Suite:
    try:
        doc = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as e:
        raise StrandsDeployError(f"cannot read eval suite {path}: {e}", str(path), "fix the file") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("cases"), list) or not doc["cases"]:
        raise StrandsDeployError("an eval suite needs a non-empty `cases:` list", str(path), "add cases")
    cases = []
    for i, c in enumerate(doc["cases"]):
        if not isinstance(c, dict) or not isinstance(c.get("prompt"), str):
            raise StrandsDeployError(f"case #{i + 1} needs a `prompt:`", str(path), "add one")
        unknown = set(c.get("expect") or {}) - _EXPECT_KEYS
        if unknown:
            raise StrandsDeployError(
                f"case #{i + 1}: unknown expectation(s) {sorted(unknown)}",
                str(path),
                f"use {', '.join(sorted(_EXPECT_KEYS))}",
            )
        cases.append(
            Case(
                str(c.get("name") or f"case-{i + 1}"),
                c["prompt"],
                list(c.get("session") or []),
                dict(c.get("expect") or {}),
                c.get("judge"),
            )
        )
    return Suite(
        cases,
        fraction(doc.get("pass_rate", 1.0)),
        max(1, int(doc.get("concurrency", 4))),
        doc.get("judge_model"),
    )


def _text(answer: dict[str, Any]) -> str:
    return str(answer.get("response") if "response" in answer else json.dumps(answer))


def check(case: Case, answer: dict[str, Any], latency_ms: float, judge: Judge | None) -> list[str]:
    """The expectations the answer misses (empty: the case passed)."""
    problems: list[str] = []
    text, expect = _text(answer), case.expect
    if "error" in answer or "errorMessage" in answer:
        problems.append(f"the agent answered an error: {answer.get('error') or answer.get('errorMessage')}")
    for needle in (
        [expect["contains"]] if isinstance(expect.get("contains"), str) else expect.get("contains") or []
    ):
        if str(needle).lower() not in text.lower():
            problems.append(f"does not contain {needle!r}")
    if expect.get("regex") and not re.search(str(expect["regex"]), text):
        problems.append(f"does not match /{expect['regex']}/")
    if "json_schema" in expect:
        problems += _schema_problems(expect["json_schema"], answer, text)
    if expect.get("tool_called"):
        problems += _tool_problems(expect["tool_called"], answer)
    usage = answer.get("usage") or {}
    tokens = usage.get("totalTokens") or (usage.get("inputTokens", 0) + usage.get("outputTokens", 0))
    if expect.get("max_tokens") is not None and tokens > int(expect["max_tokens"]):
        problems.append(f"used {tokens} tokens (max {expect['max_tokens']})")
    if expect.get("max_latency_ms") is not None and latency_ms > float(expect["max_latency_ms"]):
        problems.append(f"took {latency_ms:.0f} ms (max {expect['max_latency_ms']})")
    if case.judge and judge is not None and not problems and not judge(case.judge, case.prompt, text):
        problems.append(f"the judge found the answer does not meet: {case.judge}")
    return problems


def called_tools(answer: dict[str, Any]) -> list[str]:
    """The names of the tools the turn called, in order (the runtime's ``tools`` list)."""
    tools = answer.get("tools")
    if not isinstance(tools, list):
        return []
    return [str(t.get("name")) for t in tools if isinstance(t, dict) and t.get("name")]


def _tool_problems(wanted: Any, answer: dict[str, Any]) -> list[str]:
    """``tool_called``: one tool name or a list of names, each called at least once this turn."""
    if "tools" not in answer and "response" in answer:
        return [
            "the answer has no `tools` list, so tool calls cannot be checked (the function runs an older "
            "runtime: deploy again; or its entry is its own Lambda handler)"
        ]
    called = called_tools(answer)
    names = [wanted] if isinstance(wanted, str) else list(wanted or [])
    return [
        f"tool {name!r} was not called (called: {', '.join(called) or 'none'})"
        for name in names
        if str(name) not in called
    ]


def _schema_problems(schema: Any, answer: dict[str, Any], text: str) -> list[str]:
    import jsonschema

    value = answer.get("structured")
    if value is None:
        try:
            value = json.loads(text)
        except ValueError:
            return ["the answer is not JSON"]
    try:
        jsonschema.validate(value, schema)
    except jsonschema.ValidationError as e:
        return [f"does not match the JSON schema: {e.message}"]
    return []


def run_case(case: Case, invoke: Invoke, judge: Judge | None, clock: Callable[[], float]) -> CaseResult:
    session = f"eval-{case.name}-{int(clock() * 1000)}"
    try:
        for turn in case.session:
            invoke({"prompt": turn, "session_id": session})
        started = clock()
        answer = invoke({"prompt": case.prompt, "session_id": session})
        latency = (clock() - started) * 1000
    except Exception as e:
        return CaseResult(case.name, False, [f"invoke failed: {e}"], 0.0, "")
    problems = check(case, answer, latency, judge)
    return CaseResult(case.name, not problems, problems, latency, _text(answer)[:500])


def run_suite(
    suite: Suite, invoke: Invoke, judge: Judge | None = None, clock: Callable[[], float] = time.monotonic
) -> SuiteResult:
    with ThreadPoolExecutor(max_workers=min(suite.concurrency, len(suite.cases))) as pool:
        results = list(pool.map(lambda c: run_case(c, invoke, judge, clock), suite.cases))
    rate = sum(r.passed for r in results) / len(results)
    return SuiteResult(results, rate, suite.pass_rate)


def lambda_invoker(lam: Any, function: str, qualifier: str) -> Invoke:
    """Invoke one version (or alias) of the agent's function directly."""

    def invoke(payload: dict[str, Any]) -> dict[str, Any]:
        resp = lam.invoke(FunctionName=function, Qualifier=qualifier, Payload=json.dumps(payload).encode())
        body = json.loads(resp["Payload"].read() or b"null")
        return body if isinstance(body, dict) else {"response": json.dumps(body)}

    return invoke


def bedrock_judge(bedrock: Any, model_id: str) -> Judge:
    """A model grades the answer against the rubric: PASS or FAIL."""

    def judge(rubric: str, prompt: str, answer: str) -> bool:
        text = (
            f"Grade the answer against the rubric. Reply with exactly PASS or FAIL.\n"
            f"Rubric: {rubric}\nQuestion: {prompt}\nAnswer: {answer}"
        )
        resp = bedrock.converse(modelId=model_id, messages=[{"role": "user", "content": [{"text": text}]}])
        out = "".join(c.get("text", "") for c in resp["output"]["message"]["content"])
        return "PASS" in out.upper() and "FAIL" not in out.upper()

    return judge


def save_results(root: Path, agent: str, version: str, result: SuiteResult) -> Path:
    """Results are kept under .strands/evals/<agent>/<version>-<time>.json."""
    folder = root / ".strands" / "evals" / agent
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{version}-{time.strftime('%Y%m%dT%H%M%S')}.json"
    path.write_text(json.dumps(result.to_json(), indent=2))
    return path


def client_of(ctx: Any, service: str) -> Any:
    """A client of a service the typed client factory does not list (bedrock-runtime)."""
    factory: Any = ctx.client
    return factory(service)
