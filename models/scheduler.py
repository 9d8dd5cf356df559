"""Time-based rules, each safe to run in every server process at once (row locks, then a
status check), each callable with an injected clock for tests and `marketplace run-due`."""

from __future__ import annotations

from datetime import datetime

from models.base import utc_now
from models.contracts.actions import expire_offers
from models.contracts.milestones import auto_release_due
from models.events import Published
from models.reviews.actions import reveal_due

RULES = (expire_offers, auto_release_due, reveal_due)


async def run_due(now: datetime | None = None) -> list[Published]:
    now = now or utc_now()
    events: list[Published] = []
    for rule in RULES:
        events += await rule(now)
    return events
