"""Daily cost per agent as a picture: terminal bars, or a self-contained HTML page (inline SVG)."""

from __future__ import annotations

import html
from collections.abc import Mapping

BLOCKS = " ▏▎▍▌▋▊▉█"


def bar(value: float, peak: float, width: int = 40) -> str:
    """A horizontal bar of ``value`` scaled so ``peak`` fills ``width`` characters."""
    if peak <= 0 or value <= 0:
        return ""
    eighths = round(value / peak * width * 8)
    full, rest = divmod(max(eighths, 1), 8)
    return "█" * full + (BLOCKS[rest] if rest else "")


def terminal_lines(
    by_day: Mapping[str, Mapping[str, float]], flagged: set[tuple[str, str]] | None = None
) -> list[str]:
    """One block per agent: ``YYYY-MM-DD  ████▌  $1.23`` per day (``!`` marks an anomaly)."""
    peak = max((v for days in by_day.values() for v in days.values()), default=0.0)
    out: list[str] = []
    for agent, days in by_day.items():
        out.append(f"agent {agent}")
        for day, usd in days.items():
            mark = " !" if flagged and (agent, day) in flagged else ""
            out.append(f"  {day}  {bar(usd, peak):<41} ${usd:,.4f}{mark}")
    return out


def html_page(title: str, by_day: Mapping[str, Mapping[str, float]], flagged: set[tuple[str, str]]) -> str:
    """A page with one inline SVG bar chart per agent; no script, no external asset."""
    peak = max((v for days in by_day.values() for v in days.values()), default=0.0) or 1.0
    charts = [_svg(agent, days, peak, flagged) for agent, days in by_day.items()]
    body = "\n".join(charts) or "<p>No requests in this period.</p>"
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title>"
        "<style>body{font-family:system-ui,sans-serif;margin:2em}h2{font-size:1.1em}"
        ".bar{fill:#4a7bd0}.anomaly{fill:#d0504a}text{font-size:11px}</style></head><body>"
        f"<h1>{html.escape(title)}</h1>\n{body}\n</body></html>\n"
    )


def _svg(agent: str, days: Mapping[str, float], peak: float, flagged: set[tuple[str, str]]) -> str:
    bar_w, gap, height, top = 28, 6, 160, 20
    width = max(len(days), 1) * (bar_w + gap) + 60
    parts = [f'<h2>agent {html.escape(agent)}</h2>',
             f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height + 60}" role="img" '
             f'aria-label="daily cost of agent {html.escape(agent)}">']  # fmt: skip
    for i, (day, usd) in enumerate(days.items()):
        h = usd / peak * height
        x = 50 + i * (bar_w + gap)
        y = top + height - h
        cls = "anomaly" if (agent, day) in flagged else "bar"
        parts.append(
            f'<rect class="{cls}" x="{x}" y="{y:.1f}" width="{bar_w}" height="{h:.1f}">'
            f"<title>{day}: ${usd:,.4f}</title></rect>"
            f'<text x="{x}" y="{top + height + 14}" transform="rotate(45 {x} {top + height + 14})">{day[5:]}</text>'
        )
    parts.append(
        f'<text x="0" y="{top + 4}">${peak:,.2f}</text><text x="0" y="{top + height}">$0</text></svg>'
    )
    return "".join(parts)
