"""The typing gate: when a setTyping reaches the other party, and when it is refused. A clock
of the test's own stands in for time."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from models.errors import RateLimited
from models.interviews.typing import LIMIT, REFRESH_SECONDS, TTL_SECONDS, WINDOW_SECONDS, TypingGate

INTERVIEW = uuid.uuid4()
ALICE = uuid.uuid4()
BOB = uuid.uuid4()
AT = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


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
    decision = gate.decide(INTERVIEW, ALICE, True, AT)
    assert decision.send
    assert decision.expires_at == AT + timedelta(seconds=TTL_SECONDS)


def test_repeats_within_the_refresh_period_are_coalesced_then_one_goes_out(
    gate: TypingGate, clock: Clock
) -> None:
    first = gate.decide(INTERVIEW, ALICE, True, AT)
    # a client calling on every key stroke
    for stroke in range(1, 5):
        clock.now += REFRESH_SECONDS / 5
        decision = gate.decide(INTERVIEW, ALICE, True, AT + timedelta(seconds=stroke * 0.4))
        assert not decision.send
        # the indicator already showing clears when the first one said
        assert decision.expires_at == first.expires_at
    clock.now = 1000.0 + REFRESH_SECONDS
    renewed = gate.decide(INTERVIEW, ALICE, True, AT + timedelta(seconds=REFRESH_SECONDS))
    assert renewed.send
    assert renewed.expires_at == AT + timedelta(seconds=REFRESH_SECONDS + TTL_SECONDS)


def test_a_stop_goes_out_only_while_an_indicator_shows(gate: TypingGate, clock: Clock) -> None:
    assert not gate.decide(INTERVIEW, ALICE, False, AT).send  # nothing to clear
    gate.decide(INTERVIEW, ALICE, True, AT)
    stop = gate.decide(INTERVIEW, ALICE, False, AT)
    assert stop.send and stop.expires_at is None
    assert not gate.decide(INTERVIEW, ALICE, False, AT).send  # cleared already
    # a new start right after a stop goes out: the other party shows nothing now
    assert gate.decide(INTERVIEW, ALICE, True, AT).send
    clock.now += TTL_SECONDS
    assert not gate.decide(INTERVIEW, ALICE, False, AT).send  # expired by itself


def test_past_the_limit_starts_are_refused_but_stops_never(gate: TypingGate, clock: Clock) -> None:
    for _ in range(LIMIT):
        gate.decide(INTERVIEW, ALICE, True, AT)
        clock.now += 0.01
    with pytest.raises(RateLimited):
        gate.decide(INTERVIEW, ALICE, True, AT)
    assert gate.decide(INTERVIEW, ALICE, False, AT).send
    # others are not held back by Alice, nor is Alice elsewhere
    assert gate.decide(INTERVIEW, BOB, True, AT).send
    assert gate.decide(uuid.uuid4(), ALICE, True, AT).send
    # and the window slides: once the oldest calls are out of it, Alice may go on
    clock.now = 1000.0 + WINDOW_SECONDS + 0.005
    assert gate.decide(INTERVIEW, ALICE, True, AT).send


def test_the_gate_forgets_who_has_gone_quiet(gate: TypingGate, clock: Clock) -> None:
    for _ in range(50):
        gate.decide(uuid.uuid4(), ALICE, True, AT)
    assert len(gate) == 50
    clock.now += WINDOW_SECONDS + TTL_SECONDS
    gate.decide(INTERVIEW, BOB, True, AT)
    assert len(gate) == 1
