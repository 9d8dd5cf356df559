"""argon2id password hashing, run off the event loop (a hash takes tens of milliseconds)."""

from __future__ import annotations

import asyncio
from functools import lru_cache

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError

from settings import get_settings


@lru_cache
def _hasher() -> PasswordHasher:
    if get_settings().password_hashing == "fast":
        return PasswordHasher.from_parameters(profiles.CHEAPEST)
    return PasswordHasher.from_parameters(profiles.RFC_9106_LOW_MEMORY)


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(_hasher().hash, password)


async def verify_password(password_hash: str, password: str) -> bool:
    def verify() -> bool:
        try:
            return _hasher().verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    return await asyncio.to_thread(verify)


@lru_cache
def _dummy_hash() -> str:
    return _hasher().hash("no such user, but take as long as a real check")


async def burn_verification_time(password: str) -> None:
    """Verify against a dummy hash so an unknown email costs the same time as a wrong password."""
    await verify_password(_dummy_hash(), password)
