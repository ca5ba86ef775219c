"""AWS event-stream binary framing (``application/vnd.amazon.eventstream``), encode side only.

One message on the wire::

    total_length  uint32 BE   (the whole message, prelude and CRCs included)
    headers_length uint32 BE
    prelude_crc   uint32 BE   (CRC32 of the 8 bytes above)
    headers       headers_length bytes: name_len u8, name, type u8 (7 = string), value_len u16 BE, value
    payload       total_length - headers_length - 16 bytes
    message_crc   uint32 BE   (CRC32 of every byte before it)

botocore's ``EventStreamBuffer`` checks both CRCs, so a message that parses there is well formed.
"""

from __future__ import annotations

import binascii
import json
import struct
from typing import Any

_STRING = 7  # header value type: UTF-8 string with a 2-byte length
_PRELUDE = struct.Struct(">II")
_CRC = struct.Struct(">I")


def _crc(data: bytes, start: int = 0) -> int:
    return binascii.crc32(data, start) & 0xFFFFFFFF


def encode_headers(headers: dict[str, str]) -> bytes:
    out = bytearray()
    for name, value in headers.items():
        n, v = name.encode("utf-8"), value.encode("utf-8")
        if len(n) > 255 or len(v) > 0xFFFF:
            raise ValueError(f"event-stream header {name!r} is too long")
        out += bytes([len(n)]) + n + bytes([_STRING]) + struct.pack(">H", len(v)) + v
    return bytes(out)


def encode_message(headers: dict[str, str], payload: bytes) -> bytes:
    """One framed message; the result decodes with botocore's EventStreamBuffer."""
    raw_headers = encode_headers(headers)
    total = _PRELUDE.size + _CRC.size + len(raw_headers) + len(payload) + _CRC.size
    prelude = _PRELUDE.pack(total, len(raw_headers))
    head = prelude + _CRC.pack(_crc(prelude)) + raw_headers + payload
    return head + _CRC.pack(_crc(head))


def encode_event(event_type: str, body: dict[str, Any]) -> bytes:
    """An ``event`` message as AWS JSON services send it: the event member's fields as the payload."""
    return encode_message(
        {":event-type": event_type, ":content-type": "application/json", ":message-type": "event"},
        json.dumps(body, separators=(",", ":")).encode("utf-8"),
    )


def encode_exception(error_type: str, message: str) -> bytes:
    """A modeled ``exception`` message (for example ``validationException``) inside a stream."""
    return encode_message(
        {
            ":exception-type": error_type,
            ":content-type": "application/json",
            ":message-type": "exception",
        },
        json.dumps({"message": message}).encode("utf-8"),
    )
