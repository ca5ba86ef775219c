"""The role-usable gate and the probe's overlapping attempts (providers/role_gate.py), on a fake
clock: no test sleeps."""

from __future__ import annotations

import threading

import pytest

from strands_deploy.providers.role_gate import RoleGate, overlapping_attempts


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_a_role_not_created_in_this_run_goes_at_once() -> None:
    clock = Clock()
    gate = RoleGate(clock)
    assert gate.wait_turn("arn:old", clock.sleep) is False
    assert clock.now == 100.0


def test_one_probe_then_the_learned_delay_for_later_roles() -> None:
    clock = Clock()
    gate = RoleGate(clock)
    gate.created("arn:a")
    clock.now += 1
    gate.created("arn:b")
    assert gate.wait_turn("arn:a", clock.sleep) is True  # the probe
    clock.now = 107.0
    gate.done("arn:a", usable=True)  # usable 7 s after it was created
    # b was created after a: it waits until its own creation + 7 s, then goes (not a probe)
    assert gate.wait_turn("arn:b", clock.sleep) is False
    assert clock.now == pytest.approx(108.0)
    gate.created("arn:c")  # created now; the learned delay applies to it too
    assert gate.wait_turn("arn:c", clock.sleep) is False
    assert clock.now == pytest.approx(115.0)


def test_roles_created_before_a_usable_one_are_usable() -> None:
    clock = Clock()
    gate = RoleGate(clock)
    gate.created("arn:early")
    clock.now += 0.5
    gate.created("arn:probe")
    assert gate.wait_turn("arn:probe", clock.sleep) is True
    clock.now += 7
    gate.done("arn:probe", usable=True)
    before = clock.now
    assert gate.wait_turn("arn:early", clock.sleep) is False
    assert clock.now == before  # no wait


def test_others_wait_for_the_probe_and_take_over_when_it_fails() -> None:
    gate = RoleGate()
    gate.created("arn:a")
    gate.created("arn:b")
    assert gate.wait_turn("arn:a", lambda s: None) is True
    turn: list[bool] = []
    waiter = threading.Thread(target=lambda: turn.append(gate.wait_turn("arn:b", lambda s: None)))
    waiter.start()
    waiter.join(0.2)
    assert waiter.is_alive()  # waiting for the probe
    gate.done("arn:a", usable=False)  # the probe failed for another reason: b probes now
    waiter.join(5)
    assert turn == [True]


class Refused(Exception):
    pass


class Duplicate(Exception):
    pass


def test_overlapping_attempts_until_one_gets_through() -> None:
    clock = Clock()
    calls: list[float] = []
    lock = threading.Lock()

    def attempt() -> str:
        with lock:
            calls.append(clock.now)
            n = len(calls)
        if n < 4:
            raise Refused()
        return "created"

    got = overlapping_attempts(
        attempt, lambda e: isinstance(e, Refused), lambda e: isinstance(e, Duplicate), sleep=clock.sleep
    )
    assert got == "created" and len(calls) >= 4


def test_a_duplicate_waits_for_the_success_in_flight_and_other_errors_are_raised() -> None:
    clock = Clock()
    with pytest.raises(ValueError):
        overlapping_attempts(
            lambda: (_ for _ in ()).throw(ValueError("bad zip")),
            lambda e: False,
            lambda e: False,
            sleep=clock.sleep,
        )
    # only duplicates and no success: the duplicate is raised (the engine adopts the function)
    with pytest.raises(Duplicate):
        overlapping_attempts(
            lambda: (_ for _ in ()).throw(Duplicate()),
            lambda e: False,
            lambda e: isinstance(e, Duplicate),
            sleep=clock.sleep,
        )


def test_a_role_that_never_works_gives_up_after_the_timeout() -> None:
    clock = Clock()
    with pytest.raises(Refused):
        overlapping_attempts(
            lambda: (_ for _ in ()).throw(Refused()),
            lambda e: isinstance(e, Refused),
            lambda e: False,
            sleep=clock.sleep,
            timeout=5.0,
        )
    assert clock.now - 100.0 >= 5.0
