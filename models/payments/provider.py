"""The payment provider behind addFunds and withdrawFunds. The sandbox moves no real money;
a real gateway implements the same two calls."""

from __future__ import annotations

import secrets
from typing import Protocol
from uuid import UUID


class PaymentProvider(Protocol):
    async def charge(self, user_id: UUID, amount_cents: int, idempotency_key: str) -> str:
        """Take money from the user's card; returns the provider's reference."""

    async def payout(self, user_id: UUID, amount_cents: int, idempotency_key: str) -> str:
        """Send money to the user's bank; returns the provider's reference."""


class SandboxProvider:
    async def charge(self, user_id: UUID, amount_cents: int, idempotency_key: str) -> str:
        return f"sandbox_ch_{secrets.token_hex(8)}"

    async def payout(self, user_id: UUID, amount_cents: int, idempotency_key: str) -> str:
        return f"sandbox_po_{secrets.token_hex(8)}"


provider: PaymentProvider = SandboxProvider()
