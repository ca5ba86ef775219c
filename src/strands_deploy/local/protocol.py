"""The framed JSON protocol between the server and a worker (stdlib only: workers import it).

A frame is a 4-byte big-endian length followed by that many bytes of UTF-8 JSON (an object).
Server -> worker: one ``setup`` frame, then ``invoke`` frames. Worker -> server: one ``init`` frame,
then exactly one ``result`` frame per ``invoke`` (one request at a time per worker).

Worker output (prints, logging, tracebacks) goes to the worker's stderr pipe, never to the
protocol pipe. After each invoke the worker writes ``END_MARKER + request_id + b"\\n"`` to that
pipe, so the server knows it has every line the request produced.
"""

from __future__ import annotations

import json
import struct
from typing import IO, Any

_LEN = struct.Struct(">I")
MAX_FRAME = 64 * 1024 * 1024
END_MARKER = b"\x00strands-local-end:"


def write_frame(stream: IO[bytes], obj: dict[str, Any]) -> None:
    data = json.dumps(obj, separators=(",", ":")).encode("utf-8")
    stream.write(_LEN.pack(len(data)) + data)
    stream.flush()


def _read_exact(stream: IO[bytes], n: int) -> bytes | None:
    chunks: list[bytes] = []
    while n:
        chunk = stream.read(n)
        if not chunk:
            return None
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def read_frame(stream: IO[bytes]) -> dict[str, Any] | None:
    """The next frame, or None at end of stream (the other side exited or closed the pipe)."""
    head = _read_exact(stream, _LEN.size)
    if head is None:
        return None
    (length,) = _LEN.unpack(head)
    if length > MAX_FRAME:
        raise ValueError(f"frame of {length} bytes is larger than {MAX_FRAME}")
    data = _read_exact(stream, length)
    if data is None:
        return None
    obj = json.loads(data)
    if not isinstance(obj, dict):
        raise ValueError("frame is not a JSON object")
    return obj
