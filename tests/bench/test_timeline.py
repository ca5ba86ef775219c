"""The deploy timeline SVG (benchmarks/timeline.py), drawn from a synthetic proxy call log."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from benchmarks.timeline import _nice_step, lanes_of, main, render_svg, write_svg

SVG = "{http://www.w3.org/2000/svg}"

# What AwsProxy.calls() returns: t (monotonic start), d (duration), u (moto's time), op, status,
# injected (when the proxy refused the call), resource (when the request names one).
CALLS: list[dict[str, Any]] = [
    {"t": 100.00, "d": 0.05, "u": 0.01, "op": "sts:GetCallerIdentity", "status": 200},
    {"t": 100.10, "d": 0.30, "u": 0.02, "op": "iam:CreateRole", "status": 200, "resource": "app-a0"},
    {"t": 100.45, "d": 0.25, "u": 0.02, "op": "iam:PutRolePolicy", "status": 200, "resource": "app-a0"},
    {
        "t": 100.50,
        "d": 0.60,
        "u": 0.0,
        "op": "lambda:CreateFunction",
        "status": 400,
        "injected": "iam_propagation",
        "resource": "app-a0",
    },
    {"t": 107.50, "d": 0.60, "u": 0.05, "op": "lambda:CreateFunction", "status": 201, "resource": "app-a0"},
    {"t": 100.12, "d": 0.15, "u": 0.01, "op": "dynamodb:CreateTable", "status": 200, "resource": "app-t"},
    {"t": 100.13, "d": 0.15, "u": 0.01, "op": "cloudwatch:PutMetricAlarm", "status": 200},
    {"t": 111.00, "d": 0.30, "u": 0.01, "op": "lambda:CreateAlias", "status": 201, "resource": "app-a0"},
]


def _parse(text: str) -> ET.Element:
    return ET.fromstring(text)  # raises on malformed XML


def test_svg_is_well_formed_with_one_bar_per_call() -> None:
    root = _parse(render_svg(CALLS, title="S1 <first> deploy & more"))
    assert root.tag == f"{SVG}svg"
    bars = [r for r in root.iter(f"{SVG}rect") if r.find(f"{SVG}title") is not None]
    assert len(bars) == len(CALLS)
    titles = [r.find(f"{SVG}title").text or "" for r in bars]  # type: ignore[union-attr]
    assert sum("refused by the model: iam_propagation" in t for t in titles) == 1
    refused = [r for r in bars if "refused" in (r.find(f"{SVG}title").text or "")]  # type: ignore[union-attr]
    assert refused[0].get("fill") == "url(#refused)"
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert "S1 <first> deploy & more" in texts  # escaped in the file, intact once parsed


def test_bars_are_placed_on_the_time_axis() -> None:
    root = _parse(render_svg(CALLS))
    bars = {
        (r.find(f"{SVG}title").text or "").split(" at ")[0]: r  # type: ignore[union-attr]
        for r in root.iter(f"{SVG}rect")
        if r.find(f"{SVG}title") is not None
    }
    first = float(bars["sts:GetCallerIdentity"].get("x", "0"))
    alias = bars["lambda:CreateAlias"]
    # the last call ends the axis: its right edge is the plot's right edge
    assert float(alias.get("x", "0")) + float(alias.get("width", "0")) == pytest.approx(first + 760, abs=0.2)
    assert float(bars["iam:CreateRole"].get("x", "0")) > first


def test_lanes_by_resource_in_order_of_first_call() -> None:
    lanes = lanes_of(CALLS)
    names = [lane.name for lane in lanes]
    assert names == [
        "sts:GetCallerIdentity",
        "iam app-a0",
        "dynamodb app-t",
        "cloudwatch:PutMetricAlarm",
        "lambda app-a0",
    ]
    assert [b.op for b in lanes[-1].bars] == ["lambda:CreateFunction"] * 2 + ["lambda:CreateAlias"]
    assert lanes[-1].bars[0].start == 0.5  # seconds from the first call


def test_too_many_resources_fall_back_to_one_lane_per_operation() -> None:
    calls = [
        {"t": i * 0.1, "d": 0.1, "op": "lambda:CreateFunction", "status": 201, "resource": f"f{i}"}
        for i in range(60)
    ] + [{"t": 0.05, "d": 0.1, "op": "iam:CreateRole", "status": 200, "resource": "r"}]
    lanes = lanes_of(calls, max_lanes=48)
    assert [lane.name for lane in lanes] == ["lambda:CreateFunction", "iam:CreateRole"]
    assert len(lanes[0].bars) == 60


def test_empty_log_and_tick_steps() -> None:
    root = _parse(render_svg([]))
    assert root.tag == f"{SVG}svg"
    assert _nice_step(11.18) == 2.0
    assert _nice_step(0.4) == 0.05
    assert _nice_step(200) == 50.0


def test_written_file_and_command_line(tmp_path: Path) -> None:
    out = write_svg(CALLS, tmp_path / "img" / "t.svg", title="x")
    assert _parse(out.read_text()).tag == f"{SVG}svg"
    log = tmp_path / "calls.json"
    log.write_text(json.dumps(CALLS))
    assert main([str(log), str(tmp_path / "cli.svg")]) == 0
    assert _parse((tmp_path / "cli.svg").read_text()).tag == f"{SVG}svg"
    assert main([]) == 2
