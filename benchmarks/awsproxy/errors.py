"""AWS error responses in each wire protocol, so any SDK parses them as the real service's."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from xml.sax.saxutils import escape

from benchmarks.awsproxy.identify import Operation

_QUERY_NS = {
    "iam": "https://iam.amazonaws.com/doc/2010-05-08/",
    "sts": "https://sts.amazonaws.com/doc/2011-06-15/",
    "sns": "http://sns.amazonaws.com/doc/2010-03-31/",
    "cloudwatch": "http://monitoring.amazonaws.com/doc/2010-08-01/",
}
_JSON_NAMESPACE = {
    "dynamodb": "com.amazonaws.dynamodb.v20120810",
    "logs": "com.amazonaws.logs",
    "cloudwatch": "com.amazonaws.cloudwatch",
}

# JSON-protocol services that were query services before: their SDKs read the code from a header.
_QUERY_COMPATIBLE = frozenset({"sqs", "cloudwatch"})


@dataclass
class Response:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


def _cbor_head(major: int, n: int) -> bytes:
    if n < 24:
        return bytes([major << 5 | n])
    if n < 0x100:
        return bytes([major << 5 | 24, n])
    if n < 0x10000:
        return bytes([major << 5 | 25]) + n.to_bytes(2, "big")
    return bytes([major << 5 | 26]) + n.to_bytes(4, "big")


def cbor_string_map(items: dict[str, str]) -> bytes:
    """CBOR encoding of a map of text strings (all an error body needs)."""
    out = bytearray(_cbor_head(5, len(items)))
    for key, value in items.items():
        for text in (key, value):
            raw = text.encode()
            out += _cbor_head(3, len(raw)) + raw
    return bytes(out)


def error_response(op: Operation, status: int, code: str, message: str, sender: bool = True) -> Response:
    """An error of ``code`` for ``op``, shaped as ``op``'s protocol returns errors."""
    request_id = str(uuid.uuid4())
    kind = "Sender" if sender else "Receiver"
    headers = {"x-amzn-RequestId": request_id}
    if op.protocol in ("rest-json", "unknown"):
        headers.update({"Content-Type": "application/json", "x-amzn-ErrorType": code})
        body: dict[str, str] = {"Type": "User" if sender else "Service", "message": message}
        if code == "TooManyRequestsException" and op.service == "lambda":
            body["Reason"] = "CallerRateLimitExceeded"
            headers["Retry-After"] = "1"
        return Response(status, headers, json.dumps(body).encode())
    if op.protocol == "json":
        ns = _JSON_NAMESPACE.get(op.service)
        headers.update({"Content-Type": "application/x-amz-json-1.1"})
        if op.service in _QUERY_COMPATIBLE:
            headers["x-amzn-query-error"] = f"{code};{kind}"
        body = {"__type": f"{ns}#{code}" if ns else code, "message": message}
        return Response(status, headers, json.dumps(body).encode())
    if op.protocol == "rpc-v2-cbor":
        headers.update(
            {
                "Content-Type": "application/cbor",
                "smithy-protocol": "rpc-v2-cbor",
                "x-amzn-query-error": f"{code};{kind}",
            }
        )
        ns = _JSON_NAMESPACE.get(op.service, "com.amazonaws")
        return Response(status, headers, cbor_string_map({"__type": f"{ns}#{code}", "message": message}))
    if op.protocol == "query":
        ns = _QUERY_NS.get(op.service, "https://amazonaws.com/doc/")
        xml = (
            f'<ErrorResponse xmlns="{ns}"><Error><Type>{kind}</Type><Code>{escape(code)}</Code>'
            f"<Message>{escape(message)}</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>"
        )
        headers["Content-Type"] = "text/xml"
        return Response(status, headers, xml.encode())
    # rest-xml (S3)
    xml = (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{escape(code)}</Code>'
        f"<Message>{escape(message)}</Message><RequestId>{request_id}</RequestId></Error>"
    )
    headers.update({"Content-Type": "application/xml", "x-amz-request-id": request_id})
    return Response(status, headers, xml.encode())
