"""Offline tests for both agents (the scripted model and fixtures are in conftest.py).

Run with: pytest
"""

from __future__ import annotations

import json
from typing import Any


def test_researcher_searches_its_notes(load: Any, scripted: Any, result_of: Any) -> None:
    module = load("researcher")
    model = scripted([{"tool": "search_notes", "input": {"query": "lambda limits"}}, "At most 15 minutes."])
    agent = module.create_agent(model=model)

    result = agent("How long can a Lambda function run?")

    assert str(result).strip() == "At most 15 minutes."
    found = result_of(model, 1)["content"]
    assert "15 minutes" in json.dumps(found)


def test_researcher_finds_nothing_for_unknown_topics(load: Any) -> None:
    assert load("researcher").search_notes(query="volcanoes") == []


def test_writer_remembers_the_conversation(load: Any, scripted: Any) -> None:
    module = load("writer")
    model = scripted(["Roses are red.", "Roses are red, violets are blue."])
    agent = module.create_agent(model=model)

    agent("Write a one-line poem.")
    agent("Make it two lines.")

    texts = [block["text"] for m in model.calls[1] for block in m["content"] if "text" in block]
    assert texts == ["Write a one-line poem.", "Roses are red.", "Make it two lines."]


def test_word_budget(load: Any) -> None:
    assert load("writer").word_budget(text="a b c", limit=2) == {"words": 3, "limit": 2, "fits": False}
