"""The typing gate: when a setTyping reaches the other party, and when it is refused. A clock
of the test's own stands in for time."""

from __future__ import annotations

import uuid

import pytest

from models.errors import RateLimited
from models.interviews.typing import LIMIT, REFRESH_SECONDS, TTL_SECONDS, WINDOW_SECONDS, TypingGate

INTERVIEW = uuid.uuid4()
ALICE = uuid.uuid4()
BOB = uuid.uuid4()


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def gate(clock: Clock) -> TypingGate:
    return TypingGate(clock)


def test_a_first_signal_goes_out_and_shows_for_the_ttl(gate: TypingGate) -> None:
    decision = gate.decide(INTERVIEW, ALICE, True)
    assert decision.send
    assert decision.expires_in == TTL_SECONDS


def test_repeats_within_the_refresh_period_are_coalesced_then_one_goes_out(
    gate: TypingGate, clock: Clock
) -> None:
    gate.decide(INTERVIEW, ALICE, True)
    # a client calling on every key stroke
    for _ in range(4):
        clock.now += REFRESH_SECONDS / 5
        decision = gate.decide(INTERVIEW, ALICE, True)
        assert not decision.send
        # the indicator already showing clears when the first one said
        assert decision.expires_in == pytest.approx(TTL_SECONDS - (clock.now - 1000.0))
    clock.now = 1000.0 + REFRESH_SECONDS
    renewed = gate.decide(INTERVIEW, ALICE, True)
    assert renewed.send and renewed.expires_in == TTL_SECONDS


def test_a_stop_goes_out_only_while_an_indicator_shows(gate: TypingGate, clock: Clock) -> None:
    assert not gate.decide(INTERVIEW, ALICE, False).send  # nothing to clear
    gate.decide(INTERVIEW, ALICE, True)
    stop = gate.decide(INTERVIEW, ALICE, False)
    assert stop.send and stop.expires_in is None
    assert not gate.decide(INTERVIEW, ALICE, False).send  # cleared already
    # a new start right after a stop goes out: the other party shows nothing now
    assert gate.decide(INTERVIEW, ALICE, True).send
    clock.now += TTL_SECONDS
    assert not gate.decide(INTERVIEW, ALICE, False).send  # expired by itself


def test_past_the_limit_starts_are_refused_but_stops_never(gate: TypingGate, clock: Clock) -> None:
    for _ in range(LIMIT):
        gate.decide(INTERVIEW, ALICE, True)
        clock.now += 0.01
    with pytest.raises(RateLimited):
        gate.decide(INTERVIEW, ALICE, True)
    assert gate.decide(INTERVIEW, ALICE, False).send
    # others are not held back by Alice, nor is Alice elsewhere
    assert gate.decide(INTERVIEW, BOB, True).send
    assert gate.decide(uuid.uuid4(), ALICE, True).send
    # and the window slides: once the oldest calls are out of it, Alice may go on
    clock.now = 1000.0 + WINDOW_SECONDS + 0.005
    assert gate.decide(INTERVIEW, ALICE, True).send


def test_the_gate_forgets_who_has_gone_quiet(gate: TypingGate, clock: Clock) -> None:
    for _ in range(50):
        gate.decide(uuid.uuid4(), ALICE, True)
    assert len(gate) == 50
    clock.now += WINDOW_SECONDS + TTL_SECONDS
    gate.decide(INTERVIEW, BOB, True)
    assert len(gate) == 1
