"""Draw a deploy's AWS calls over time as an SVG, from the latency proxy's call log.

One row per lane (the resource a call is about, e.g. ``lambda bench-a0``, or the operation when
the request names no resource), one bar per call from its start to its answer, coloured by
service; calls the proxy refused (IAM propagation, a 409 while Pending/InProgress, a throttle) are
drawn hatched red. Hand-written SVG: no plotting dependency. Hovering a bar shows its operation,
start, duration and status (an SVG ``<title>``).

``python -m benchmarks.timeline CALLS.json OUT.svg`` draws a saved call log
(``curl localhost:PORT/_proxy/calls > CALLS.json``).
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

COLOURS = {
    "iam": "#d9822b",
    "lambda": "#e8a317",
    "dynamodb": "#3b6fb6",
    "s3": "#3f8f3f",
    "logs": "#8e6bbf",
    "cloudwatch": "#c2457a",
    "apigatewayv2": "#2a9d8f",
    "sts": "#7a7a7a",
}
OTHER_COLOUR = "#9aa5b1"
REFUSED_COLOUR = "#d62728"

ROW = 18  # px per lane
LABEL_WIDTH = 230
PLOT_WIDTH = 760
TOP = 46
BOTTOM = 40


@dataclass
class Bar:
    start: float  # seconds from the first call
    duration: float
    op: str
    status: int
    refused: str | None = None


@dataclass
class Lane:
    name: str
    service: str
    bars: list[Bar] = field(default_factory=list)

    @property
    def first(self) -> float:
        return min(b.start for b in self.bars)


def lanes_of(calls: Sequence[dict[str, Any]], max_lanes: int = 48) -> list[Lane]:
    """Group calls into lanes by resource (by operation when a call names none, or when there
    would be more than ``max_lanes`` resource lanes), ordered by first call."""
    if not calls:
        return []
    t0 = min(float(c["t"]) for c in calls)
    by_resource = len({_lane_key(c, True) for c in calls}) <= max_lanes
    lanes: dict[str, Lane] = {}
    for c in sorted(calls, key=lambda c: float(c["t"])):
        key = _lane_key(c, by_resource)
        service = str(c["op"]).split(":", 1)[0]
        lane = lanes.setdefault(key, Lane(key, service))
        lane.bars.append(
            Bar(
                float(c["t"]) - t0,
                max(0.0, float(c["d"])),
                str(c["op"]),
                int(c.get("status", 0)),
                c.get("injected"),
            )
        )
    return sorted(lanes.values(), key=lambda lane: (lane.first, lane.name))


def _lane_key(call: dict[str, Any], by_resource: bool) -> str:
    op = str(call["op"])
    service = op.split(":", 1)[0]
    resource = str(call.get("resource") or "")
    if by_resource and resource:
        return f"{service} {resource}"
    return op


def _nice_step(span: float) -> float:
    """A tick step of 1, 2 or 5 × 10^k giving 5-12 ticks over ``span`` seconds."""
    if span <= 0:
        return 1.0
    raw = span / 8
    power = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 5, 10):
        if m * power >= raw:
            return float(m * power)
    return float(10 * power)


def render_svg(calls: Sequence[dict[str, Any]], title: str = "", max_lanes: int = 48) -> str:
    """The SVG document (a string) drawing ``calls`` (the proxy's ``/_proxy/calls`` records)."""
    lanes = lanes_of(calls, max_lanes)
    span = max((b.start + b.duration for lane in lanes for b in lane.bars), default=0.0)
    span = span or 1.0
    scale = PLOT_WIDTH / span
    width = LABEL_WIDTH + PLOT_WIDTH + 20
    height = TOP + ROW * max(1, len(lanes)) + BOTTOM
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">',
        '<defs><pattern id="refused" width="4" height="4" patternUnits="userSpaceOnUse" '
        'patternTransform="rotate(45)"><rect width="2" height="4" '
        f'fill="{REFUSED_COLOUR}"/></pattern></defs>',
        f'<rect width="{width}" height="{height}" fill="#ffffff"/>',
        f'<text x="10" y="18" font-size="13" font-weight="bold">{escape(title)}</text>',
    ]
    out += _axis(span, scale, len(lanes))
    for i, lane in enumerate(lanes):
        y = TOP + i * ROW
        if i % 2:
            out.append(f'<rect x="0" y="{y}" width="{width}" height="{ROW}" fill="#f4f6f8"/>')
        label = lane.name if len(lane.name) <= 36 else lane.name[:35] + "…"
        out.append(f'<text x="{LABEL_WIDTH - 6}" y="{y + 13}" text-anchor="end">{escape(label)}</text>')
        colour = COLOURS.get(lane.service, OTHER_COLOUR)
        for bar in lane.bars:
            out.append(_bar(bar, y, scale, colour))
    out.append(_legend(lanes, height - 14))
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _axis(span: float, scale: float, rows: int) -> list[str]:
    step = _nice_step(span)
    bottom = TOP + ROW * max(1, rows)
    out = [
        f'<line x1="{LABEL_WIDTH}" y1="{TOP}" x2="{LABEL_WIDTH}" y2="{bottom}" stroke="#888"/>',
    ]
    n = int(span / step + 1e-9)
    for k in range(n + 1):
        x = LABEL_WIDTH + k * step * scale
        out.append(f'<line x1="{x:.1f}" y1="{TOP - 4}" x2="{x:.1f}" y2="{bottom}" stroke="#e1e4e8"/>')
        out.append(f'<text x="{x:.1f}" y="{TOP - 8}" text-anchor="middle">{k * step:g} s</text>')
    return out


def _bar(bar: Bar, y: int, scale: float, colour: str) -> str:
    x = LABEL_WIDTH + bar.start * scale
    w = max(1.0, bar.duration * scale)
    fill = "url(#refused)" if bar.refused else colour
    what = f"{bar.op} at {bar.start:.3f} s, {bar.duration * 1000:.0f} ms, HTTP {bar.status}"
    if bar.refused:
        what += f" (refused by the model: {bar.refused})"
    return (
        f'<rect x="{x:.1f}" y="{y + 3}" width="{w:.1f}" height="{ROW - 6}" fill="{fill}" '
        f'stroke="{REFUSED_COLOUR if bar.refused else "none"}" stroke-width="0.5">'
        f"<title>{escape(what)}</title></rect>"
    )


def _legend(lanes: list[Lane], y: int) -> str:
    services = sorted({lane.service for lane in lanes})
    parts = ['<g class="legend">']
    x = 10
    for service in services:
        colour = COLOURS.get(service, OTHER_COLOUR)
        parts.append(f'<rect x="{x}" y="{y - 9}" width="10" height="10" fill="{colour}"/>')
        parts.append(f'<text x="{x + 14}" y="{y}">{escape(service)}</text>')
        x += 24 + 7 * len(service)
    parts.append(f'<rect x="{x}" y="{y - 9}" width="10" height="10" fill="url(#refused)"/>')
    parts.append(f'<text x="{x + 14}" y="{y}">refused by the model (retried)</text>')
    parts.append("</g>")
    return "".join(parts)


def write_svg(calls: Sequence[dict[str, Any]], path: Path, title: str = "") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_svg(calls, title))
    return path


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python -m benchmarks.timeline CALLS.json OUT.svg", file=sys.stderr)
        return 2
    calls = json.loads(Path(argv[0]).read_text())
    write_svg(calls, Path(argv[1]), title=Path(argv[0]).name)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
