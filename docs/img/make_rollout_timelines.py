"""Draws docs/img/rollout-<strategy>.svg: the new version's share of traffic over time.

Run: python docs/img/make_rollout_timelines.py
"""

from __future__ import annotations

from pathlib import Path

W, H, PAD = 560, 170, 40
# (strategy, [(time in minutes, weight of the new version)], notes)
TIMELINES = {
    "all-at-once": ([(0, 0), (0, 1), (20, 1)], [(0, "deploy: 100% at once")]),
    "canary": (
        [(0, 0), (1, 0), (1, 0.1), (6, 0.1), (6, 0.5), (11, 0.5), (11, 1), (20, 1)],
        [(0, "evals"), (1, "10% held 5m"), (6, "50% held 5m"), (11, "promote")],
    ),
    "linear": (
        [(0, 0), (1, 0)]
        + [p for i in range(1, 10) for p in ((i, i / 10), (i + 1, i / 10))]
        + [(10, 1), (20, 1)],
        [(0, "evals"), (1, "+10% every 1m"), (10, "promote")],
    ),
    "blue-green": (
        [(0, 0), (12, 0), (12, 1), (20, 1)],
        [(0, "new version on live-green (0% of users)"), (12, "promote")],
    ),
    "rolled-back": (
        [(0, 0), (1, 0), (1, 0.1), (3.5, 0.1), (3.5, 0), (20, 0)],
        [(1, "10%"), (3.5, "error rate 9% > 2%: back to 0% at once")],
    ),
}


def svg(points: list[tuple[float, float]], notes: list[tuple[float, str]], title: str) -> str:
    def x(t: float) -> float:
        return PAD + t / 20 * (W - 2 * PAD)

    def y(w: float) -> float:
        return H - PAD - w * (H - 2 * PAD)

    path = " ".join(f"{'M' if i == 0 else 'L'}{x(t):.1f},{y(w):.1f}" for i, (t, w) in enumerate(points))
    labels = "".join(
        f'<text x="{x(t) + 3:.1f}" y="{PAD - 8 + 12 * (i % 2)}" font-size="10">{text}</text>'
        for i, (t, text) in enumerate(notes)
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif">'
        f'<rect width="{W}" height="{H}" fill="white"/>'
        f'<text x="{PAD}" y="14" font-size="12" font-weight="bold">{title}</text>'
        f'<line x1="{PAD}" y1="{y(0)}" x2="{W - PAD}" y2="{y(0)}" stroke="#999"/>'
        f'<line x1="{PAD}" y1="{y(0)}" x2="{PAD}" y2="{y(1)}" stroke="#999"/>'
        f'<text x="4" y="{y(1) + 4}" font-size="10">100%</text><text x="14" y="{y(0) + 4}" font-size="10">0%</text>'
        f'<text x="{W - PAD - 60}" y="{H - 12}" font-size="10">time →</text>'
        f'<path d="{path}" fill="none" stroke="#2b6cb0" stroke-width="2"/>{labels}</svg>\n'
    )


if __name__ == "__main__":
    here = Path(__file__).parent
    for name, (points, notes) in TIMELINES.items():
        (here / f"rollout-{name}.svg").write_text(
            svg(points, notes, f"{name}: the new version's share of traffic")
        )
