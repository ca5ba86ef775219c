"""CloudWatch Logs filter patterns, as AWS evaluates them (pure: no moto, no AWS call), and the
local cloud's ``FilterLogEvents`` answer built on them (:func:`answer_filter_log_events`).

The syntax is AWS's "Filter pattern syntax for metric filters, subscription filters, and filter
log events":

* **Terms** (unstructured text), case-sensitive substrings: ``ERROR`` (contains ERROR),
  ``ERROR Exception`` (contains both), ``"Failed to connect"`` (the exact phrase), ``?ERROR ?WARN``
  (contains either), ``ERROR -Throttled`` (ERROR but not Throttled), ``%[0-9]{3} ms%`` (a regular
  expression). An empty pattern matches every event.
* **JSON** (``{ ... }``), for events that are JSON objects: ``{ $.level = "ERROR" }``,
  ``{ $.status = 400 }``, ``{ $.duration_ms > 1000 }``, ``!=``, ``<``, ``<=``, ``>=``,
  ``{ $.user.id = "u-*" }`` (``*`` is a wildcard in string values), ``{ $.tags[0] = "a" }``,
  ``{ $.x IS NULL }``, ``{ $.x NOT EXISTS }``, ``{ $.ok IS TRUE }`` / ``IS FALSE``,
  ``{ $.msg = %time(d|out)% }`` (a regular expression), combined with ``&&``, ``||`` and
  parentheses. Numbers compare with numbers only; strings with ``=`` and ``!=`` only; a selector
  that names no value matches nothing (but ``NOT EXISTS``).
* **Space-delimited** (``[ ... ]``): ``[ip, user, ..., status = 404, bytes]`` names the
  whitespace-separated fields of an event (``"..."`` and ``[...]`` group a field); a named field can
  be compared (``= != < <= > >=``, with ``*`` wildcards and ``&&``/``||`` on one field), ``...``
  stands for any number of fields. The pattern matches when the fields line up.

:func:`parse` raises :class:`FilterPatternError` (a ``ValueError``) for an invalid pattern, with what
is wrong and where; :func:`matches` parses (cached) and evaluates.
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from werkzeug.wrappers import Response

__all__ = ["FilterPatternError", "Pattern", "answer_filter_log_events", "matches", "parse"]


class FilterPatternError(ValueError):
    """The pattern is not valid CloudWatch Logs filter pattern syntax."""


_MISSING = object()
Check = Callable[[Any], bool]


@dataclass(frozen=True)
class Pattern:
    """A parsed filter pattern: ``pattern.matches(message)``."""

    text: str
    kind: str  # "all", "terms", "json" or "delimited"
    test: Callable[[str], bool]

    def matches(self, message: str) -> bool:
        return self.test(message)


def _error(pattern: str, what: str, pos: int | None = None) -> FilterPatternError:
    where = f" at position {pos + 1}" if pos is not None else ""
    return FilterPatternError(f"Invalid filter pattern {pattern!r}: {what}{where}")


def _wildcard(value: str) -> re.Pattern[str]:
    return re.compile("^" + ".*".join(re.escape(p) for p in value.split("*")) + "$", re.DOTALL)


def _regex(pattern: str, body: str, pos: int) -> re.Pattern[str]:
    try:
        return re.compile(body)
    except re.error as e:
        raise _error(pattern, f"the regular expression %{body}% is invalid ({e})", pos) from None


# -- terms -------------------------------------------------------------------------------------
def _parse_terms(pattern: str) -> Callable[[str], bool]:
    required: list[Callable[[str], bool]] = []
    optional: list[Callable[[str], bool]] = []
    excluded: list[Callable[[str], bool]] = []
    i, n = 0, len(pattern)
    while i < n:
        if pattern[i].isspace():
            i += 1
            continue
        prefix = ""
        if pattern[i] in "?-" and i + 1 < n and not pattern[i + 1].isspace():
            prefix, i = pattern[i], i + 1
        test: Callable[[str], bool]
        if pattern[i] == '"':
            j, chars = i + 1, []
            while j < n and pattern[j] != '"':
                if pattern[j] == "\\" and j + 1 < n:
                    j += 1
                chars.append(pattern[j])
                j += 1
            if j >= n:
                raise _error(pattern, "a quoted term has no closing double quote", i)
            phrase = "".join(chars)
            test = functools.partial(_contains, phrase)
            i = j + 1
        elif pattern[i] == "%":
            j = pattern.find("%", i + 1)
            if j < 0:
                raise _error(pattern, "a regular expression has no closing %", i)
            rx = _regex(pattern, pattern[i + 1 : j], i)
            test = functools.partial(_search, rx)
            i = j + 1
        else:
            j = i
            while j < n and not pattern[j].isspace():
                if pattern[j] == '"':
                    raise _error(pattern, "a double quote inside a term (quote the whole term)", j)
                j += 1
            test = functools.partial(_contains, pattern[i:j])
            i = j
        if i < n and not pattern[i].isspace():
            raise _error(pattern, "terms must be separated by spaces", i)
        {"": required, "?": optional, "-": excluded}[prefix].append(test)
    if not (required or optional or excluded):
        return lambda message: True

    def test_terms(message: str) -> bool:
        if not all(t(message) for t in required):
            return False
        if optional and not any(t(message) for t in optional):
            return False
        return not any(t(message) for t in excluded)

    return test_terms


def _contains(term: str, message: str) -> bool:
    return term in message


def _search(rx: re.Pattern[str], message: str) -> bool:
    return rx.search(message) is not None


# -- JSON --------------------------------------------------------------------------------------
_TOKEN = re.compile(
    r"""\s*(?:
      (?P<op>&&|\|\||!=|<=|>=|=|<|>|\(|\))
    | (?P<selector>\$(?:\.[A-Za-z0-9_@\-:$]+|\[\d+\]|\.\*|\[\*\])*)
    | (?P<string>"(?:[^"\\]|\\.)*")
    | (?P<regex>%[^%]*%)
    | (?P<word>[^\s()=!<>&|"]+)
    )""",
    re.VERBOSE,
)


@dataclass
class _Tok:
    kind: str
    text: str
    pos: int


def _tokenize_json(pattern: str, body: str, offset: int) -> list[_Tok]:
    tokens: list[_Tok] = []
    i = 0
    while i < len(body):
        if body[i:].strip() == "":
            break
        m = _TOKEN.match(body, i)
        if m is None or m.end() == i:
            stripped = len(body[i:]) - len(body[i:].lstrip())
            raise _error(pattern, f"unexpected {body[i + stripped]!r}", offset + i + stripped)
        kind = m.lastgroup or "word"
        tokens.append(_Tok(kind, m.group(kind), offset + m.start(kind)))
        i = m.end()
    return tokens


def _select(doc: Any, path: list[str | int]) -> Any:
    cur = doc
    for step in path:
        if isinstance(step, int):
            if not isinstance(cur, list) or step >= len(cur):
                return _MISSING
            cur = cur[step]
        else:
            if not isinstance(cur, dict) or step not in cur:
                return _MISSING
            cur = cur[step]
    return cur


def _selector_path(pattern: str, tok: _Tok) -> list[str | int]:
    path: list[str | int] = []
    for m in re.finditer(r"\.([^.\[]+)|\[(\d+)\]", tok.text[1:]):
        if m.group(2) is not None:
            path.append(int(m.group(2)))
        elif m.group(1) == "*":
            raise _error(pattern, "wildcard selectors ($.*) are not supported", tok.pos)
        else:
            path.append(m.group(1))
    if "[*]" in tok.text:
        raise _error(pattern, "wildcard selectors ([*]) are not supported", tok.pos)
    if not path:
        raise _error(pattern, "a selector needs a field, e.g. $.level", tok.pos)
    return path


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


_NUMERIC_OPS: dict[str, Callable[[float, float], bool]] = {
    "=": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _string_form(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if _is_number(value):
        return json.dumps(value)
    return None


class _JsonParser:
    def __init__(self, pattern: str, tokens: list[_Tok], end: int) -> None:
        self.pattern = pattern
        self.tokens = tokens
        self.i = 0
        self.end = end

    def peek(self) -> _Tok | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self) -> _Tok:
        tok = self.peek()
        if tok is None:
            raise _error(self.pattern, "the expression ends too early", self.end)
        self.i += 1
        return tok

    def parse(self) -> Check:
        if not self.tokens:
            raise _error(self.pattern, 'an empty JSON pattern; write e.g. { $.level = "ERROR" }', self.end)
        check = self.or_expr()
        tok = self.peek()
        if tok is not None:
            raise _error(self.pattern, f"unexpected {tok.text!r}", tok.pos)
        return check

    def or_expr(self) -> Check:
        parts = [self.and_expr()]
        while (tok := self.peek()) is not None and tok.text == "||" and tok.kind == "op":
            self.i += 1
            parts.append(self.and_expr())
        if len(parts) == 1:
            return parts[0]
        return lambda doc: any(p(doc) for p in parts)

    def and_expr(self) -> Check:
        parts = [self.unary()]
        while (tok := self.peek()) is not None and tok.text == "&&" and tok.kind == "op":
            self.i += 1
            parts.append(self.unary())
        if len(parts) == 1:
            return parts[0]
        return lambda doc: all(p(doc) for p in parts)

    def unary(self) -> Check:
        tok = self.take()
        if tok.kind == "op" and tok.text == "(":
            inner = self.or_expr()
            close = self.take()
            if close.text != ")":
                raise _error(self.pattern, f"expected ')' but found {close.text!r}", close.pos)
            return inner
        if tok.kind != "selector":
            raise _error(self.pattern, f"expected a selector such as $.field, found {tok.text!r}", tok.pos)
        return self.comparison(tok)

    def comparison(self, selector: _Tok) -> Check:
        path = _selector_path(self.pattern, selector)
        op = self.take()
        if op.kind == "word" and op.text.upper() in ("IS", "NOT"):
            word = op.text.upper()
            arg = self.take()
            what = arg.text.upper()
            if word == "NOT" and what == "EXISTS":
                return lambda doc: _select(doc, path) is _MISSING
            if word == "IS" and what == "NULL":
                return lambda doc: _select(doc, path) is None
            if word == "IS" and what in ("TRUE", "FALSE"):
                want = what == "TRUE"
                return lambda doc: _select(doc, path) is want
            raise _error(
                self.pattern,
                f"expected IS NULL, IS TRUE, IS FALSE or NOT EXISTS after {selector.text}",
                op.pos,
            )
        if op.kind != "op" or op.text not in _NUMERIC_OPS:
            raise _error(self.pattern, f"expected an operator (= != < <= > >=), found {op.text!r}", op.pos)
        value = self.take()
        if value.kind == "op" or value.kind == "selector":
            raise _error(self.pattern, f"expected a value after {op.text}, found {value.text!r}", value.pos)
        if value.kind == "regex":
            if op.text not in ("=", "!="):
                raise _error(self.pattern, f"a regular expression needs = or !=, not {op.text}", op.pos)
            rx = _regex(self.pattern, value.text[1:-1], value.pos)
            negate = op.text == "!="

            def regex_check(doc: Any) -> bool:
                got = _string_form(_select(doc, path))
                return got is not None and (rx.search(got) is not None) != negate

            return regex_check
        if value.kind == "word" and (num := _number(value.text)) is not None:
            compare = _NUMERIC_OPS[op.text]
            number = num
            return lambda doc: _is_number(v := _select(doc, path)) and compare(float(v), number)
        if op.text not in ("=", "!="):
            raise _error(self.pattern, f"{op.text} compares numbers; {value.text} is not a number", value.pos)
        text = json.loads(value.text) if value.kind == "string" else value.text
        wanted = _wildcard(text) if "*" in text else None
        negate = op.text == "!="

        def string_check(doc: Any) -> bool:
            got = _string_form(_select(doc, path))
            if got is None:
                return False
            equal = wanted.match(got) is not None if wanted is not None else got == text
            return equal != negate

        return string_check


def _parse_json(pattern: str) -> Callable[[str], bool]:
    stripped = pattern.strip()
    if not stripped.endswith("}"):
        raise _error(pattern, "a JSON pattern must end with }", len(pattern.rstrip()))
    offset = pattern.index("{") + 1
    body = stripped[1:-1]
    check = _JsonParser(pattern, _tokenize_json(pattern, body, offset), offset + len(body)).parse()

    def test_json(message: str) -> bool:
        try:
            doc = json.loads(message)
        except ValueError:
            return False
        return isinstance(doc, dict | list) and check(doc)

    return test_json


# -- space-delimited ---------------------------------------------------------------------------
_FIELD_CMP = re.compile(
    r"^\s*(?P<name>[A-Za-z_][\w.\-]*)?\s*(?:(?P<op>!=|<=|>=|=|<|>)\s*(?P<value>.+?))?\s*$"
)


def _split_top(text: str, sep: str) -> list[str]:
    """Split on ``sep`` outside double quotes."""
    out: list[str] = []
    cur: list[str] = []
    quoted = False
    for ch in text:
        if ch == '"':
            quoted = not quoted
        if ch == sep and not quoted:
            out.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    out.append("".join(cur))
    return out


def _event_fields(message: str) -> list[str]:
    fields: list[str] = []
    for m in re.finditer(r'"((?:[^"\\]|\\.)*)"|\[([^\]]*)\]|(\S+)', message):
        if m.group(1) is not None:
            fields.append(m.group(1))
        elif m.group(2) is not None:
            fields.append(m.group(2))
        else:
            fields.append(m.group(3))
    return fields


def _numeric_field(compare: Callable[[float, float], bool], number: float, value: str) -> bool:
    got = _number(value)
    return got is not None and compare(got, number)


def _text_field(rx: re.Pattern[str], negate: bool, value: str) -> bool:
    return (rx.match(value) is not None) != negate


def _field_check(pattern: str, spec: str) -> Callable[[str], bool] | None:
    """None for ``...``; else a check of one field."""
    if spec.strip() == "...":
        return None
    alternatives: list[list[Callable[[str], bool]]] = []
    for alt in re.split(r"\|\|", spec):
        conjuncts: list[Callable[[str], bool]] = []
        for part in alt.split("&&"):
            m = _FIELD_CMP.match(part)
            if m is None:
                raise _error(pattern, f"cannot read the field {part.strip()!r}")
            if m.group("op") is None:
                if not m.group("name"):
                    raise _error(pattern, "an empty field; name it or write ...")
                conjuncts.append(lambda value: True)
                continue
            op, raw = m.group("op"), m.group("value").strip()
            num = _number(raw)
            if num is not None:
                compare, number = _NUMERIC_OPS[op], num
                conjuncts.append(functools.partial(_numeric_field, compare, number))
                continue
            if op not in ("=", "!="):
                raise _error(pattern, f"{op} compares numbers; {raw} is not a number")
            text = raw[1:-1] if len(raw) >= 2 and raw[0] == raw[-1] == '"' else raw
            rx = _wildcard(text)
            negate = op == "!="
            conjuncts.append(functools.partial(_text_field, rx, negate))
        alternatives.append(conjuncts)
    return lambda value: any(all(c(value) for c in conj) for conj in alternatives)


def _parse_delimited(pattern: str) -> Callable[[str], bool]:
    stripped = pattern.strip()
    if not stripped.endswith("]"):
        raise _error(pattern, "a space-delimited pattern must end with ]", len(pattern.rstrip()))
    body = stripped[1:-1]
    specs = [s for s in _split_top(body, ",")]
    if len(specs) == 1 and not specs[0].strip():
        raise _error(pattern, "an empty space-delimited pattern; name the fields, e.g. [ip, user, status]")
    checks = [_field_check(pattern, s) for s in specs]

    def fit(fields: list[str], ci: int, fi: int) -> bool:
        if ci == len(checks):
            return fi == len(fields)
        check = checks[ci]
        if check is None:
            return any(fit(fields, ci + 1, k) for k in range(fi, len(fields) + 1))
        return fi < len(fields) and check(fields[fi]) and fit(fields, ci + 1, fi + 1)

    return lambda message: fit(_event_fields(message), 0, 0)


# -- entry points ------------------------------------------------------------------------------
@functools.lru_cache(maxsize=256)
def parse(pattern: str | None) -> Pattern:
    """Parse a filter pattern; raises :class:`FilterPatternError` when it is not valid."""
    text = pattern or ""
    first = text.lstrip()[:1]
    if not text.strip():
        return Pattern(text, "all", lambda message: True)
    if first == "{":
        return Pattern(text, "json", _parse_json(text))
    if first == "[":
        return Pattern(text, "delimited", _parse_delimited(text))
    return Pattern(text, "terms", _parse_terms(text))


def matches(pattern: str | None, message: str) -> bool:
    """Whether ``message`` matches ``pattern`` as CloudWatch Logs decides it."""
    return parse(pattern).matches(message)


# -- the local cloud's FilterLogEvents ---------------------------------------------------------
def split_request(body: bytes) -> tuple[bytes, Pattern | None]:
    """A FilterLogEvents request body without its ``filterPattern`` (for moto), and the pattern.

    Raises :class:`FilterPatternError` for an invalid pattern (AWS: ``InvalidParameterException``)."""
    try:
        request = json.loads(body or b"{}")
    except ValueError:
        return body, None
    if not isinstance(request, dict) or not request.get("filterPattern"):
        return body, None
    pattern = parse(str(request.pop("filterPattern")))
    return json.dumps(request).encode("utf-8"), pattern


def filter_response(body: bytes, pattern: Pattern | None) -> bytes:
    """Keep only the events of a FilterLogEvents answer that match ``pattern``."""
    if pattern is None:
        return body
    try:
        data = json.loads(body)
    except ValueError:
        return body
    if not isinstance(data, dict) or not isinstance(data.get("events"), list):
        return body
    data["events"] = [e for e in data["events"] if pattern.matches(str(e.get("message", "")))]
    return json.dumps(data).encode("utf-8")


def invalid_pattern_body(err: FilterPatternError) -> bytes:
    """The JSON body of AWS's answer to an invalid pattern (HTTP 400, InvalidParameterException)."""
    return json.dumps({"__type": "InvalidParameterException", "message": str(err)}).encode("utf-8")


FILTER_LOG_EVENTS_TARGET = "Logs_20140328.FilterLogEvents"  # the X-Amz-Target of FilterLogEvents


def answer_filter_log_events(body: bytes, call_moto: Callable[[bytes], Response]) -> Response:
    """The local cloud's FilterLogEvents: moto finds the events (without the pattern), this keeps
    the ones the pattern matches, as CloudWatch does (a page can come back shorter than ``limit``,
    even empty with a ``nextToken``, on AWS too). An invalid pattern is AWS's 400
    ``InvalidParameterException``."""
    try:
        stripped, pattern = split_request(body)
    except FilterPatternError as err:
        return Response(
            invalid_pattern_body(err),
            status=400,
            headers={"x-amzn-ErrorType": "InvalidParameterException"},
            content_type="application/x-amz-json-1.1",
        )
    response = call_moto(stripped)
    if pattern is not None and response.status_code == 200:
        response.set_data(filter_response(response.get_data(), pattern))
    return response
