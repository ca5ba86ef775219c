"""Offline tests for the assistant (the scripted model and fixtures are in conftest.py).

Run with: pytest
"""

from __future__ import annotations

from typing import Any


def test_assistant_answers_with_the_time_tool(load: Any, scripted: Any, result_of: Any) -> None:
    module = load("assistant")
    model = scripted([{"tool": "current_time", "input": {"utc_offset_hours": 2}}, "It is noon."])
    agent = module.create_agent(model=model)

    result = agent("What time is it in Paris?")

    assert str(result).strip() == "It is noon."
    assert result.stop_reason == "end_turn"
    answer = result_of(model, 1)
    assert answer["status"] == "success"
    assert answer["content"][0]["text"].endswith("+02:00")


def test_current_time_rejects_impossible_offsets(load: Any) -> None:
    module = load("assistant")
    assert "between -14 and 14" in module.current_time(utc_offset_hours=99)
