r"""The local model's script: rules that decide what the fake Bedrock model answers.

A model script is a YAML list of rules, tried in order; the first rule whose ``match`` regex is found
(``re.search``) in the last user message's text decides the answer::

    - match: 'weather in (?P<city>\w+)'     # single quotes: YAML keeps backslashes as is
      tool: {name: get_weather, input: {city: "{city}"}}
    - match: '^hello'
      reply: "Hi! You said: {text}"

``reply`` is the assistant's text; ``tool`` asks the agent to call a tool (``input`` defaults to
``{}``). In both, ``{text}`` is the whole message text, ``{0}`` the whole match, ``{1}``... the
numbered groups and ``{name}`` a named group; ``{{`` and ``}}`` are literal braces; anything else
in braces is left as written. Placeholders are replaced inside every string of ``tool.input``.

When the last user message carries a tool result, ``tool`` rules are skipped (so a script cannot
loop forever) and ``reply`` rules match the tool result's text. With no matching rule the answer is
``echo: <text>`` - for a tool result that is the tool's output, so it shows in the agent's answer.

Invariant: :func:`load` never raises for a bad script; it returns a :class:`Script` whose ``error``
says what is wrong (file, rule number, fix), and the model answers requests with that error.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

_PLACEHOLDER = re.compile(r"\{\{|\}\}|\{(\w+)\}")


@dataclass(frozen=True)
class Rule:
    number: int  # 1-based position in the file, for messages
    pattern: re.Pattern[str]
    reply: str | None = None
    tool_name: str | None = None
    tool_input: Any = None


@dataclass(frozen=True)
class Script:
    path: str | None
    rules: tuple[Rule, ...] = ()
    error: str | None = None


@dataclass(frozen=True)
class Decision:
    """What the model says: either ``text`` or a tool call (``tool_name`` + ``tool_input``)."""

    text: str | None = None
    tool_name: str | None = None
    tool_input: dict[str, Any] = field(default_factory=dict)
    rule: int | None = None  # which rule decided, None for the default echo


def substitute(template: str, values: dict[str, str]) -> str:
    def repl(m: re.Match[str]) -> str:
        token = m.group(0)
        if token == "{{":
            return "{"
        if token == "}}":
            return "}"
        name = m.group(1)
        return values.get(name, token)

    return _PLACEHOLDER.sub(repl, template)


def _substitute_deep(value: Any, values: dict[str, str]) -> Any:
    if isinstance(value, str):
        return substitute(value, values)
    if isinstance(value, list):
        return [_substitute_deep(v, values) for v in value]
    if isinstance(value, dict):
        return {k: _substitute_deep(v, values) for k, v in value.items()}
    return value


def parse(text: str, path: str | None = None) -> Script:
    where = path or "model_script"
    fix = "see docs/local-cloud.md (model_script) for the format"
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        return Script(path, error=f"{where}: not valid YAML: {e}; fix: {fix}")
    if data is None:
        return Script(path)
    if not isinstance(data, list):
        return Script(path, error=f"{where}: must be a YAML list of rules (- match: ...); fix: {fix}")
    rules: list[Rule] = []
    for i, item in enumerate(data, start=1):
        prefix = f"{where}: rule {i}"
        if not isinstance(item, dict) or "match" not in item:
            return Script(path, error=f"{prefix}: each rule needs `match: <regex>`; fix: {fix}")
        unknown = set(item) - {"match", "reply", "tool"}
        if unknown:
            return Script(path, error=f"{prefix}: unknown key(s) {sorted(unknown)}; fix: {fix}")
        if ("reply" in item) == ("tool" in item):
            return Script(path, error=f"{prefix}: give exactly one of `reply:` or `tool:`; fix: {fix}")
        try:
            pattern = re.compile(str(item["match"]))
        except re.error as e:
            return Script(path, error=f"{prefix}: `match` is not a valid regex: {e}; fix: {fix}")
        if "reply" in item:
            rules.append(Rule(i, pattern, reply=str(item["reply"])))
            continue
        tool = item["tool"]
        if not isinstance(tool, dict) or not isinstance(tool.get("name"), str):
            return Script(path, error=f"{prefix}: `tool` needs `name: <tool name>`; fix: {fix}")
        tool_input = tool.get("input", {})
        if not isinstance(tool_input, dict):
            return Script(path, error=f"{prefix}: `tool.input` must be a mapping; fix: {fix}")
        rules.append(Rule(i, pattern, tool_name=tool["name"], tool_input=tool_input))
    return Script(path, tuple(rules))


class ScriptCache:
    """Re-reads the script file when its path, mtime or size changes (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._key: tuple[str, int, int] | None = None
        self._script = Script(None)

    def get(self, path: str | None) -> Script:
        if not path:
            return Script(None)
        try:
            st = Path(path).stat()
        except OSError as e:
            return Script(path, error=f"model_script {path} cannot be read: {e.strerror}")
        key = (path, st.st_mtime_ns, st.st_size)
        with self._lock:
            if key != self._key:
                try:
                    text = Path(path).read_text(encoding="utf-8")
                except OSError as e:
                    return Script(path, error=f"model_script {path} cannot be read: {e.strerror}")
                self._script, self._key = parse(text, path), key
            return self._script


def decide(
    script: Script, text: str, is_tool_result: bool, tool_names: set[str], history: str = ""
) -> Decision:
    """Apply the first matching rule to ``text``; the default is ``echo: <text>``.

    ``history`` is the text of the earlier user messages of the conversation, joined with `` | ``
    (the ``{history}`` placeholder), so scripts can show what an agent remembers."""
    for rule in script.rules:
        if rule.tool_name is not None and is_tool_result:
            continue  # invariant: no tool call answers a tool result, so scripts cannot loop
        m = rule.pattern.search(text)
        if m is None:
            continue
        values = {"text": text, "history": history, "0": m.group(0)}
        values.update({str(i): g or "" for i, g in enumerate(m.groups(), start=1)})
        values.update({k: v or "" for k, v in m.groupdict().items()})
        if rule.reply is not None:
            return Decision(text=substitute(rule.reply, values), rule=rule.number)
        assert rule.tool_name is not None
        if rule.tool_name not in tool_names:
            offered = ", ".join(sorted(tool_names)) or "none"
            return Decision(
                text=(
                    f"model_script rule {rule.number} asks for tool {rule.tool_name!r}, "
                    f"but the agent offers: {offered}"
                ),
                rule=rule.number,
            )
        return Decision(
            tool_name=rule.tool_name,
            tool_input=_substitute_deep(rule.tool_input, values),
            rule=rule.number,
        )
    return Decision(text=f"echo: {text}")
