"""The assistant: a Strands agent with several tools.

strands-deploy imports ``agent`` from this file (``entry: agent.py:agent`` in strands.yaml) and
answers every request with a fresh conversation built from it.
"""

from __future__ import annotations

import ast
import operator
from datetime import datetime, timedelta, timezone
from typing import Any

from strands import Agent, tool

SYSTEM_PROMPT = (
    "You are a precise assistant. Use your tools: current_time for dates and times, calculator "
    "for any arithmetic (never compute in your head), word_count to count words."
)

_OPERATORS: dict[type, Any] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
    ast.USub: operator.neg,
    ast.UAdd: operator.pos,
}


def _evaluate(node: ast.AST) -> float:
    if isinstance(node, ast.Expression):
        return _evaluate(node.body)
    if (
        isinstance(node, ast.Constant)
        and isinstance(node.value, int | float)
        and not isinstance(node.value, bool)
    ):
        return node.value
    if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
        left, right = _evaluate(node.left), _evaluate(node.right)
        if isinstance(node.op, ast.Pow) and abs(right) > 100:
            raise ValueError("exponent too large")
        return float(_OPERATORS[type(node.op)](left, right))
    if isinstance(node, ast.UnaryOp) and type(node.op) in _OPERATORS:
        return float(_OPERATORS[type(node.op)](_evaluate(node.operand)))
    raise ValueError("only numbers and + - * / // % ** ( ) are allowed")


@tool
def calculator(expression: str) -> str:
    """Evaluate an arithmetic expression exactly, e.g. "(3 + 4) * 2.5".

    Args:
        expression: Numbers combined with + - * / // % ** and parentheses.
    """
    try:
        value = _evaluate(ast.parse(expression, mode="eval"))
    except (SyntaxError, ValueError, ZeroDivisionError, OverflowError) as e:
        return f"cannot evaluate {expression!r}: {e}"
    return str(int(value)) if value == int(value) else str(value)


@tool
def current_time(utc_offset_hours: float = 0.0) -> str:
    """Get the current date and time.

    Args:
        utc_offset_hours: Offset from UTC in hours, e.g. 2 for UTC+2 or -5.5 for UTC-5:30.
    """
    if not -14 <= utc_offset_hours <= 14:
        return "utc_offset_hours must be between -14 and 14"
    return datetime.now(timezone(timedelta(hours=utc_offset_hours))).isoformat(timespec="seconds")


@tool
def word_count(text: str) -> int:
    """Count the words in a text.

    Args:
        text: The text to count.
    """
    return len(text.split())


TOOLS = [calculator, current_time, word_count]


def create_agent(model: Any = None, session_manager: Any = None) -> Agent:
    """Build the agent. ``model=None`` is the SDK's default Bedrock model; tests pass their own."""
    return Agent(
        model=model,
        system_prompt=SYSTEM_PROMPT,
        tools=TOOLS,
        callback_handler=None,
        session_manager=session_manager,
    )


agent = create_agent()
