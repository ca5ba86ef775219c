"""The daily cost chart as a PNG file (``cost --actual --png FILE``), with no imaging library.

One grouped bar chart: a group of bars per day, one bar per agent in the agent's colour, a y axis
from $0 to the highest day, day labels under the groups, and a legend. Text uses a built-in 3×5
bitmap font drawn at twice its size. An anomalous day (docs/cost.md, "Actual cost") gets a red
mark above its bar. The image is 8-bit RGB, written with zlib and struct (PNG spec, filter 0).

Invariant: a bar's height in pixels is ``round(usd / peak × PLOT_H)`` — the tests decode the file
and check it — so bars are proportional to cost to the pixel.
"""

from __future__ import annotations

import math
import struct
import zlib
from collections.abc import Mapping
from dataclasses import dataclass

Color = tuple[int, int, int]
WHITE: Color = (255, 255, 255)
INK: Color = (40, 40, 40)
GRID: Color = (220, 220, 220)
ANOMALY: Color = (208, 40, 40)
PALETTE: tuple[Color, ...] = (
    (74, 123, 208),
    (230, 145, 40),
    (60, 160, 90),
    (150, 90, 190),
    (40, 170, 190),
    (190, 150, 30),
    (120, 120, 120),
    (200, 90, 140),
)
SCALE = 2  # font pixels per glyph dot
CHAR_W = 4 * SCALE  # 3 dots and a gap
LINE_H = 8 * SCALE
LEFT, RIGHT, TOP = 90, 20, 44  # TOP: the title, and room for an anomaly mark over a full bar
PLOT_H = 200
BAR_W, GROUP_GAP = 12, 10

# 3×5 glyphs, rows top to bottom; "1" is ink
_GLYPHS = {
    "0": "111101101101111", "1": "010110010010111", "2": "111001111100111", "3": "111001111001111",
    "4": "101101111001001", "5": "111100111001111", "6": "111100111101111", "7": "111001001010010",
    "8": "111101111101111", "9": "111101111001111", "a": "010101111101101", "b": "110101110101110",
    "c": "011100100100011", "d": "110101101101110", "e": "111100110100111", "f": "111100110100100",
    "g": "011100101101011", "h": "101101111101101", "i": "111010010010111", "j": "001001001101010",
    "k": "101101110101101", "l": "100100100100111", "m": "101111111101101", "n": "110101101101101",
    "o": "010101101101010", "p": "110101110100100", "q": "010101101110011", "r": "110101110101101",
    "s": "011100010001110", "t": "111010010010010", "u": "101101101101111", "v": "101101101101010",
    "w": "101101111111101", "x": "101101010101101", "y": "101101010010010", "z": "111001010100111",
    "$": "011110010011110", ".": "000000000000010", "-": "000000111000000", "_": "000000000000111",
    ":": "000010000010000", "/": "001001010100100", ",": "000000000010100", " ": "000000000000000",
    "(": "010100100100010", ")": "010001001001010", "!": "010010010000010", "?": "111001010000010",
}  # fmt: skip


@dataclass(frozen=True)
class Bar:
    agent: str
    day: str
    usd: float
    x: int  # left column
    top: int  # first row of the bar (the bar ends at the x axis)
    height: int
    color: Color


class Canvas:
    def __init__(self, width: int, height: int, fill: Color = WHITE) -> None:
        self.width, self.height = width, height
        self.rows = [bytearray(bytes(fill) * width) for _ in range(height)]

    def rect(self, x: int, y: int, w: int, h: int, color: Color) -> None:
        x0, x1 = max(x, 0), min(x + w, self.width)
        if x1 <= x0:
            return
        run = bytes(color) * (x1 - x0)
        for row in range(max(y, 0), min(y + h, self.height)):
            self.rows[row][x0 * 3 : x1 * 3] = run

    def text(self, x: int, y: int, text: str, color: Color = INK) -> None:
        for i, ch in enumerate(text.lower()):
            glyph = _GLYPHS.get(ch, _GLYPHS["?"])
            for dot, bit in enumerate(glyph):
                if bit == "1":
                    row, col = divmod(dot, 3)
                    self.rect(x + i * CHAR_W + col * SCALE, y + row * SCALE, SCALE, SCALE, color)

    def png(self) -> bytes:
        raw = b"".join(b"\x00" + bytes(row) for row in self.rows)  # filter type 0 on every row
        header = struct.pack(">IIBBBBB", self.width, self.height, 8, 2, 0, 0, 0)  # 8-bit RGB
        return (
            b"\x89PNG\r\n\x1a\n"
            + _chunk(b"IHDR", header)
            + _chunk(b"IDAT", zlib.compress(raw, 9))
            + _chunk(b"IEND", b"")
        )


def _chunk(kind: bytes, data: bytes) -> bytes:
    return (
        struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    )


def layout(by_day: Mapping[str, Mapping[str, float]], title: str = "") -> tuple[int, int, list[Bar]]:
    """(width, height, bars) of the chart of ``by_day`` (agent → day → USD) under ``title``."""
    agents = list(by_day)
    days = sorted({d for v in by_day.values() for d in v})
    peak = max((v for per in by_day.values() for v in per.values()), default=0.0)
    group_w = max(len(agents), 1) * BAR_W + GROUP_GAP
    width = LEFT + max(len(days), 1) * group_w + RIGHT
    width = max(
        width,
        LEFT + RIGHT + CHAR_W * (4 + max((len(a) for a in agents), default=0)),
        16 + CHAR_W * len(title),
    )
    height = TOP + PLOT_H + 2 * LINE_H + 8 + LINE_H * max(len(agents), 1) + 8
    base = TOP + PLOT_H  # the x axis row
    bars = []
    for g, day in enumerate(days):
        for i, agent in enumerate(agents):
            usd = by_day[agent].get(day, 0.0)
            h = round(usd / peak * PLOT_H) if peak > 0 else 0
            x = LEFT + g * group_w + GROUP_GAP // 2 + i * BAR_W
            bars.append(Bar(agent, day, usd, x, base - h, h, PALETTE[i % len(PALETTE)]))
    return width, height, bars


def render_png(
    title: str, by_day: Mapping[str, Mapping[str, float]], flagged: set[tuple[str, str]] | None = None
) -> bytes:
    """The chart as PNG bytes."""
    width, height, bars = layout(by_day, title)
    c = Canvas(width, height)
    base = TOP + PLOT_H
    peak = max((b.usd for b in bars), default=0.0)
    c.text(8, 8, title)
    for frac in (0.25, 0.5, 0.75, 1.0):  # light grid lines under the bars
        c.rect(LEFT, base - round(frac * PLOT_H), width - LEFT - RIGHT, 1, GRID)
    for b in bars:
        c.rect(b.x, b.top, BAR_W - 2, b.height, b.color)
        if flagged and (b.agent, b.day) in flagged:
            c.text(b.x + 1, b.top - LINE_H + 2, "!", ANOMALY)
    c.rect(LEFT - 1, TOP, 1, PLOT_H + 1, INK)  # y axis
    c.rect(LEFT - 1, base, width - LEFT - RIGHT + 1, 1, INK)  # x axis
    c.text(8, TOP, _money(peak))
    c.text(8, base - 5 * SCALE, "$0")
    days = sorted({b.day for b in bars})
    group_w = (width - LEFT - RIGHT) // max(len(days), 1)
    every = max(1, math.ceil((5 * CHAR_W + 4) / max(group_w, 1)))  # skip labels that would overlap
    for g, day in enumerate(days):
        if g % every == 0:
            c.text(LEFT + g * group_w + 2, base + 6, day[5:])
    legend_y = base + LINE_H + 14
    for i, agent in enumerate(by_day):
        y = legend_y + i * LINE_H
        c.rect(LEFT, y, 10, 10, PALETTE[i % len(PALETTE)])
        c.text(LEFT + 16, y, agent[: (width - LEFT - 16) // CHAR_W])
    return c.png()


def _money(usd: float) -> str:
    return f"${usd:,.2f}" if usd >= 0.01 or usd == 0 else f"${usd:.4f}"
