"""The PNG daily cost chart: a valid file (signature, chunk CRCs, IHDR) whose bars, read back from
the decoded pixels, are proportional to each day's cost."""

from __future__ import annotations

import io
import struct
import zlib

import pytest

from strands_deploy.cost.png import BAR_W, PLOT_H, TOP, layout, render_png

BY_DAY = {
    "support": {"2026-01-01": 2.0, "2026-01-02": 1.0, "2026-01-03": 0.5},
    "triage": {"2026-01-01": 0.25, "2026-01-03": 4.0},
}


def decode(data: bytes) -> tuple[int, int, list[bytes]]:
    """(width, height, rows of RGB bytes): a strict reader of what render_png writes."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, header = 8, b"", b""
    kinds = []
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        assert crc == zlib.crc32(kind + body) & 0xFFFFFFFF, kind
        kinds.append(kind)
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    assert kinds[0] == b"IHDR" and kinds[-1] == b"IEND"
    width, height, depth, color, _, _, _ = struct.unpack(">IIBBBBB", header)
    assert (depth, color) == (8, 2)
    raw = zlib.decompress(idat)
    stride = 1 + width * 3
    assert len(raw) == stride * height
    rows = [raw[r * stride : (r + 1) * stride] for r in range(height)]
    assert all(row[0] == 0 for row in rows)
    return width, height, [row[1:] for row in rows]


def column_run(rows: list[bytes], x: int, color: tuple[int, int, int]) -> int:
    """How many pixels of ``color`` the column ``x`` holds, counted up from the x axis."""
    n, y = 0, TOP + PLOT_H - 1
    while y >= 0 and tuple(rows[y][x * 3 : x * 3 + 3]) == color:
        n, y = n + 1, y - 1
    return n


def test_png_decodes_and_bars_are_proportional() -> None:
    data = render_png("Daily cost", BY_DAY, {("triage", "2026-01-03")})
    width, height, rows = decode(data)
    w, h, bars = layout(BY_DAY)
    assert (width, height) == (w, h) == layout(BY_DAY, "Daily cost")[:2]
    assert w == 90 + 3 * (2 * BAR_W + 10) + 20
    assert len(bars) == 6  # 3 days × 2 agents (a missing day is a bar of 0)
    peak = 4.0
    for bar in bars:
        measured = column_run(rows, bar.x + BAR_W // 2 - 1, bar.color)
        assert measured == round(bar.usd / peak * PLOT_H), bar
    heights = {(b.agent, b.day): b.height for b in bars}
    assert heights[("triage", "2026-01-03")] == PLOT_H
    assert heights[("support", "2026-01-01")] == 2 * heights[("support", "2026-01-02")] == 100
    assert heights[("triage", "2026-01-02")] == 0
    # the anomaly mark: red pixels right above the flagged bar, none above the others
    red = (208, 40, 40)
    flagged = next(b for b in bars if (b.agent, b.day) == ("triage", "2026-01-03"))
    above = rows[max(flagged.top - 16, 0) : flagged.top]
    assert any(red == tuple(r[x * 3 : x * 3 + 3]) for r in above for x in range(flagged.x, flagged.x + BAR_W))
    # a legend swatch per agent, in the bars' colours
    for bar in (bars[0], bars[1]):
        assert any(bytes(bar.color) * 10 in row for row in rows[TOP + PLOT_H + 1 :])


def test_a_real_decoder_reads_it_when_pillow_is_installed() -> None:
    image_module = pytest.importorskip(
        "PIL.Image", reason="Pillow is not installed: the strict reader above suffices"
    )
    data = render_png("Daily cost", BY_DAY)
    with image_module.open(io.BytesIO(data)) as image:
        image.load()
        assert image.mode == "RGB" and image.size == layout(BY_DAY, "Daily cost")[:2]


def test_empty_chart_is_still_a_picture() -> None:
    width, height, rows = decode(render_png("nothing", {}))
    assert width > 0 and height > 0 and len(rows) == height
