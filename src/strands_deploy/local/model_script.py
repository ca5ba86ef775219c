r"""The local model's script: rules that decide what the fake Bedrock model answers.

A model script is a YAML list of rules, tried in order; the first rule whose ``match`` regex is found
(``re.search``) in the last user message's text decides the answer::

    - match: 'weather in (?P<city>\w+)'     # single quotes: YAML keeps backslashes as is
      tool: {name: get_weather, input: {city: "{city}"}}
    - match: '^hello'
      reply: "Hi! You said: {text}"

``reply`` is the assistant's text; ``tool`` asks the agent to call a tool (``input`` defaults to
``{}``); ``structured: {...}`` answers with a structured object: the call of the structured-output
tool the request forces (``toolConfig.toolChoice``) or offers, with that object as its input. In both, ``{text}`` is the whole message text, ``{0}`` the whole match, ``{1}``... the
numbered groups and ``{name}`` a named group; ``{{`` and ``}}`` are literal braces; anything else
in braces is left as written. Placeholders are replaced inside every string of ``tool.input``.

When the last user message carries a tool result, ``tool`` rules are skipped (so a script cannot
loop forever) and ``reply`` rules match the tool result's text. With no matching rule the answer is
``echo: <text>`` - for a tool result that is the tool's output, so it shows in the agent's answer.

When the request forces a tool (``toolChoice`` ``{"tool": {"name": X}}`` or ``{"any": {}}``) the
answer is always a call of that tool: its input comes from the first ``tool`` rule for it or
``structured`` rule that matches the last user message (or, failing that, an earlier one), else it
is the minimal input the tool's JSON schema accepts (:func:`minimal_input`).

Invariant: :func:`load` never raises for a bad script; it returns a :class:`Script` whose ``error``
says what is wrong (file, rule number, fix), and the model answers requests with that error.
"""

from __future__ import annotations

import json
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
    structured: Any = None


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
        unknown = set(item) - {"match", "reply", "tool", "structured"}
        if unknown:
            return Script(path, error=f"{prefix}: unknown key(s) {sorted(unknown)}; fix: {fix}")
        if sum(k in item for k in ("reply", "tool", "structured")) != 1:
            return Script(
                path, error=f"{prefix}: give exactly one of `reply:`, `tool:` or `structured:`; fix: {fix}"
            )
        try:
            pattern = re.compile(str(item["match"]))
        except re.error as e:
            return Script(path, error=f"{prefix}: `match` is not a valid regex: {e}; fix: {fix}")
        if "reply" in item:
            rules.append(Rule(i, pattern, reply=str(item["reply"])))
            continue
        if "structured" in item:
            if not isinstance(item["structured"], dict):
                return Script(path, error=f"{prefix}: `structured` must be a mapping; fix: {fix}")
            rules.append(Rule(i, pattern, structured=item["structured"]))
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


def _values(m: re.Match[str], text: str, history: str) -> dict[str, str]:
    values = {"text": text, "history": history, "0": m.group(0)}
    values.update({str(i): g or "" for i, g in enumerate(m.groups(), start=1)})
    values.update({k: v or "" for k, v in m.groupdict().items()})
    return values


def _resolve(schema: Any, root: Any, depth: int = 0) -> Any:
    """Follow local ``$ref``s (``#/$defs/X``, as pydantic writes them)."""
    while isinstance(schema, dict) and isinstance(schema.get("$ref"), str) and depth < 32:
        target: Any = root
        for part in schema["$ref"].lstrip("#/").split("/"):
            target = target.get(part) if isinstance(target, dict) else None
        schema, depth = target, depth + 1
    return schema


def minimal_input(schema: Any, root: Any = None, depth: int = 0) -> Any:
    """The smallest value a JSON schema accepts: required properties only, strings "", numbers 0,
    booleans false, arrays [], objects recursively (a ``default``, ``const`` or first ``enum``
    value when the schema gives one; the first choice of an ``anyOf``/``oneOf``)."""
    root = schema if root is None else root
    schema = _resolve(schema, root)
    if not isinstance(schema, dict) or depth > 16:
        return {}
    for key in ("const", "default"):
        if key in schema:
            return schema[key]
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        return schema["enum"][0]
    for key in ("anyOf", "oneOf", "allOf"):
        choices = [c for c in schema.get(key) or [] if _resolve(c, root) != {"type": "null"}]
        if choices:
            if key == "allOf":
                merged: dict[str, Any] = {}
                for c in choices:
                    value = minimal_input(c, root, depth + 1)
                    if isinstance(value, dict):
                        merged.update(value)
                return merged
            return minimal_input(choices[0], root, depth + 1)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind is None and "properties" in schema:
        kind = "object"
    simple = {"string": "", "integer": 0, "number": 0, "boolean": False, "array": [], "null": None}
    if kind in simple:
        if kind == "array" and schema.get("minItems"):
            return [minimal_input(schema.get("items", {}), root, depth + 1)] * int(schema["minItems"])
        return simple[kind]
    properties = schema.get("properties") or {}
    return {
        name: minimal_input(properties.get(name, {}), root, depth + 1)
        for name in schema.get("required") or []
    }


def fits(schema: Any, value: Any) -> bool:
    """Whether an object has every required property of an object schema and no unknown one."""
    schema = _resolve(schema, schema)
    if not isinstance(schema, dict) or not isinstance(value, dict):
        return False
    properties = schema.get("properties") or {}
    required = set(schema.get("required") or [])
    return required <= set(value) and (not properties or set(value) <= set(properties))


def decide(
    script: Script,
    text: str,
    is_tool_result: bool,
    tool_names: set[str],
    history: str = "",
    *,
    forced: str | None = None,
    schemas: dict[str, Any] | None = None,
    earlier: tuple[str, ...] = (),
) -> Decision:
    """Apply the first matching rule to ``text``; the default is ``echo: <text>``.

    ``history`` is the text of the earlier user messages of the conversation, joined with `` | ``
    (the ``{history}`` placeholder), so scripts can show what an agent remembers. ``forced`` is the
    tool the request forces (``"*"``: any tool), ``schemas`` the offered tools' input schemas and
    ``earlier`` the earlier user texts, newest first (a forced call looks for its rule there too)."""
    schemas = schemas or {}
    if forced is not None and tool_names:
        return _forced(script, text, tool_names, history, forced, schemas, earlier)
    for rule in script.rules:
        if rule.tool_name is not None and is_tool_result:
            continue  # invariant: no tool call answers a tool result, so scripts cannot loop
        m = rule.pattern.search(text)
        if m is None:
            continue
        values = _values(m, text, history)
        if rule.reply is not None:
            return Decision(text=substitute(rule.reply, values), rule=rule.number)
        if rule.structured is not None:
            obj = _substitute_deep(rule.structured, values)
            target = next((n for n in sorted(tool_names) if fits(schemas.get(n), obj)), None)
            if target is None:
                return Decision(text=json.dumps(obj), rule=rule.number)
            return Decision(tool_name=target, tool_input=obj, rule=rule.number)
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


def _forced(
    script: Script,
    text: str,
    tool_names: set[str],
    history: str,
    forced: str,
    schemas: dict[str, Any],
    earlier: tuple[str, ...],
) -> Decision:
    """The call of the forced tool: input from a matching rule, else the schema's minimal input."""
    allowed = tool_names if forced == "*" else {forced} & tool_names
    if not allowed:  # AWS rejects this request; bedrock.py checks it first
        return Decision(text=f"the request forces tool {forced!r}, which it does not offer")
    for candidate in (text, *earlier):
        for rule in script.rules:
            if rule.reply is not None or (rule.tool_name is not None and rule.tool_name not in allowed):
                continue
            m = rule.pattern.search(candidate)
            if m is None:
                continue
            values = _values(m, candidate, history)
            if rule.tool_name is not None:
                return Decision(
                    tool_name=rule.tool_name,
                    tool_input=_substitute_deep(rule.tool_input, values),
                    rule=rule.number,
                )
            obj = _substitute_deep(rule.structured, values)
            name = next((n for n in sorted(allowed) if fits(schemas.get(n), obj)), sorted(allowed)[0])
            return Decision(tool_name=name, tool_input=obj, rule=rule.number)
    name = sorted(allowed)[0]
    value = minimal_input(schemas.get(name) or {"type": "object"})
    return Decision(tool_name=name, tool_input=value if isinstance(value, dict) else {})
