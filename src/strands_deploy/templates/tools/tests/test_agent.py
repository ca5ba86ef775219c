"""Offline tests for the assistant's tools (the scripted model and fixtures are in conftest.py).

Run with: pytest
"""

from __future__ import annotations

from typing import Any

import pytest


def test_the_model_can_chain_two_tools(load: Any, scripted: Any, result_of: Any) -> None:
    module = load("assistant")
    model = scripted(
        [
            {"tool": "word_count", "input": {"text": "one two three four"}},
            {"tool": "calculator", "input": {"expression": "4 * 10 + 2"}},
            "The answer is 42.",
        ]
    )
    agent = module.create_agent(model=model)

    result = agent("Multiply the number of words in 'one two three four' by ten and add two.")

    assert str(result).strip() == "The answer is 42."
    assert result_of(model, 1)["content"][0]["text"] == "4"
    assert result_of(model, 2)["content"][0]["text"] == "42"


@pytest.mark.parametrize(
    ("expression", "expected"),
    [("1 + 2 * 3", "7"), ("(1 + 2) * 3", "9"), ("7 / 2", "3.5"), ("-2 ** 2", "-4"), ("10 // 3", "3")],
)
def test_calculator(load: Any, expression: str, expected: str) -> None:
    assert load("assistant").calculator(expression=expression) == expected


@pytest.mark.parametrize("expression", ["__import__('os')", "1 / 0", "2 ** 1000", "x + 1"])
def test_calculator_refuses_anything_but_arithmetic(load: Any, expression: str) -> None:
    assert load("assistant").calculator(expression=expression).startswith("cannot evaluate")


def test_word_count(load: Any) -> None:
    assert load("assistant").word_count(text="  the quick\nbrown fox ") == 4
