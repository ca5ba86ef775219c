"""CloudWatch Logs filter patterns, checked against the examples of AWS's "Filter pattern syntax"."""

from __future__ import annotations

import json

import pytest

from strands_deploy.local.filter_pattern import (
    FilterPatternError,
    filter_response,
    matches,
    parse,
    split_request,
)

# the JSON log event of the AWS docs' JSON examples
EVENT = json.dumps(
    {
        "eventType": "UpdateTrail",
        "sourceIPAddress": "111.111.111.111",
        "arrayKey": ["value", "another value"],
        "objectList": [{"name": "a", "id": 1}, {"name": "b", "id": 2}],
        "SomeObject": None,
        "cluster.name": "c",
        "ThisFlag": True,
        "status": 400,
        "duration_ms": 1500.5,
        "level": "ERROR",
        "request": {"path": "/api/items", "user": {"id": "u-42"}},
    }
)


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ('{ $.eventType = "UpdateTrail" }', True),
        ('{ $.eventType = "CreateTrail" }', False),
        ("{ $.eventType = UpdateTrail }", True),  # unquoted string values
        ('{ $.level = "ERROR" }', True),
        ('{ $.level = "error" }', False),  # case-sensitive
        ("{ $.status = 400 }", True),
        ("{$.status=400}", True),
        ("{ $.status = 500 }", False),
        ("{ $.status != 500 }", True),
        ("{ $.status >= 400 }", True),
        ("{ $.status < 400 }", False),
        ("{ $.status <= 400.0 }", True),
        ("{ $.duration_ms > 1000 }", True),
        ("{ $.duration_ms > 2000 }", False),
        ("{ $.level > 1 }", False),  # a string never compares as a number
        ('{ $.sourceIPAddress = "111.111.*" }', True),
        ("{ $.sourceIPAddress = 111.111.* }", True),
        ('{ $.sourceIPAddress != "123.123.*" }', True),
        ('{ $.request.path = "*items*" }', True),
        ('{ $.request.path = "*users*" }', False),
        ('{ $.request.user.id = "u-42" }', True),
        ('{ $.arrayKey[0] = "value" }', True),
        ('{ $.arrayKey[1] = "another value" }', True),
        ('{ $.arrayKey[2] = "value" }', False),
        ("{ $.objectList[1].id = 2 }", True),
        ('{ $.objectList[0].name = "b" }', False),
        ("{ $.SomeObject IS NULL }", True),
        ("{ $.eventType IS NULL }", False),
        ("{ $.SomeOtherObject NOT EXISTS }", True),
        ("{ $.SomeObject NOT EXISTS }", False),
        ("{ $.ThisFlag IS TRUE }", True),
        ("{ $.ThisFlag IS FALSE }", False),
        ('{ $.missing = "x" }', False),  # a selector naming nothing matches nothing
        ('{ $.missing != "x" }', False),
        ("{ $.status = 400 && $.level = ERROR }", True),
        ("{ $.status = 500 && $.level = ERROR }", False),
        ("{ $.status = 500 || $.level = ERROR }", True),
        ('{ ($.eventType = "UpdateTrail" && $.status = 500) || $.duration_ms > 1000 }', True),
        ('{ $.eventType = "UpdateTrail" && ($.status = 500 || $.duration_ms > 9999) }', False),
        ("{ $.eventType = %Update[A-Z]% }", True),
        ("{ $.eventType = %^Create% }", False),
    ],
)
def test_json_patterns(pattern: str, expected: bool) -> None:
    assert matches(pattern, EVENT) is expected
    assert parse(pattern).kind == "json"


def test_json_patterns_never_match_text_or_other_json() -> None:
    assert not matches('{ $.level = "ERROR" }', 'level = "ERROR" but not JSON')
    assert not matches("{ $.status = 400 }", "[1, 2]")
    assert not matches("{ $.status = 400 }", '{"status": "400"}')  # a string is not the number
    assert matches('{ $.status = "400" }', '{"status": 400}')  # compared as written


@pytest.mark.parametrize(
    ("pattern", "message", "expected"),
    [
        ("ERROR", "[ERROR] Caught IllegalArgumentException", True),
        ("ERROR", "[INFO] all good", False),
        ("error", "[ERROR] shouting", False),  # case-sensitive
        ("ERROR Exception", "[ERROR] Caught IllegalArgumentException", True),
        ("ERROR Exception", "[ERROR] Unknown", False),  # every term must appear
        ('"Failed to connect"', "Failed to connect to db", True),
        ('"Failed to connect"', "Failed, then able to connect", False),
        ('"a \\"quoted\\" word"', 'a "quoted" word', True),
        ("?ERROR ?WARN", "[WARN] low disk", True),
        ("?ERROR ?WARN", "[ERROR] disk full", True),
        ("?ERROR ?WARN", "[INFO] ok", False),
        ("ERROR -Throttled", "[ERROR] Timeout", True),
        ("ERROR -Throttled", "[ERROR] Throttled", False),
        ('ERROR -"rate exceeded"', "[ERROR] rate exceeded", False),
        ("%[0-9]{3} ms%", "took 123 ms", True),
        ("%[0-9]{3} ms%", "took 12 ms", False),
        ("", "anything", True),
        ("   ", "anything", True),
        ('""', "anything", True),
    ],
)
def test_term_patterns(pattern: str, message: str, expected: bool) -> None:
    assert matches(pattern, message) is expected


APACHE = '127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /apache_pb.gif HTTP/1.0" 404 1534'


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("[ip, user, username, timestamp, request, status_code, bytes]", True),
        ("[ip, user, username, timestamp, request, status_code = 404, bytes]", True),
        ("[ip, user, username, timestamp, request, status_code = 200, bytes]", False),
        ("[ip, user, username, timestamp, request, status_code = 4*, bytes > 1000]", True),
        ("[ip, user, username, timestamp, request, status_code, bytes < 1000]", False),
        ("[ip = 127.0.0.*, ...]", True),
        ("[..., status_code = 404 || status_code = 410, bytes]", True),
        ("[..., status_code >= 400 && status_code < 500, bytes]", True),
        ('[ip, user, username = "frank", ...]', True),
        ("[ip, user, username != frank, ...]", False),
        ("[ip, user]", False),  # the fields must line up
    ],
)
def test_space_delimited_patterns(pattern: str, expected: bool) -> None:
    assert matches(pattern, APACHE) is expected


@pytest.mark.parametrize(
    "pattern",
    [
        "{ $.x = }",
        '{ $.x > "a" }',
        "{ $.x = 1",
        "{ x = 1 }",
        "{ $.x = 1 && }",
        "{ ($.x = 1 }",
        "{ $.x = 1 ) }",
        "{ $.x 1 }",
        "{ $.x IS MAYBE }",
        "{ }",
        "{ $ = 1 }",
        "{ $.x = %(% }",
        '"unterminated',
        "%(%",
        'ab"c',
        "[ip, user",
    ],
)
def test_invalid_patterns_are_clear_errors(pattern: str) -> None:
    with pytest.raises(FilterPatternError) as exc:
        parse(pattern)
    assert str(exc.value).startswith("Invalid filter pattern")
    assert isinstance(exc.value, ValueError)


def test_errors_say_where() -> None:
    with pytest.raises(FilterPatternError, match=r"compares numbers.*position 9"):
        parse('{ $.x > "a" }')


def test_filter_log_events_request_and_response() -> None:
    body = json.dumps({"logGroupName": "g", "filterPattern": "{ $.status = 500 }", "limit": 5}).encode()
    stripped, pattern = split_request(body)
    assert json.loads(stripped) == {"logGroupName": "g", "limit": 5}
    assert pattern is not None
    events = [{"message": '{"status": 500}'}, {"message": '{"status": 200}'}, {"message": "500 text"}]
    answer = json.dumps({"events": events, "nextToken": "t", "searchedLogStreams": []}).encode()
    kept = json.loads(filter_response(answer, pattern))
    assert kept == {"events": events[:1], "nextToken": "t", "searchedLogStreams": []}
    plain = json.dumps({"logGroupName": "g"}).encode()
    assert split_request(plain) == (plain, None)
    assert filter_response(answer, None) == answer
    with pytest.raises(FilterPatternError):
        split_request(json.dumps({"logGroupName": "g", "filterPattern": "{ $.x = }"}).encode())
