from datetime import timedelta

import pytest

from auth.crypto.tokens import token_digest
from models.base import utc_now
from models.errors import AlreadyExists, RateLimited, ValidationFailed
from models.users import actions
from models.users.orm import AuthToken, User
from tests.factories import PASSWORD, make_user


async def test_sign_up_stores_a_hash_and_returns_a_working_token(db):
    session = await make_user(email="Ada@Example.com")
    stored = await User.get(id=session.user.id)
    assert stored.email == "ada@example.com"
    assert PASSWORD not in stored.password_hash and stored.password_hash.startswith("$argon2id$")
    assert (await actions.user_for_token(session.token)).id == session.user.id
    # only the digest is kept
    assert await AuthToken.filter(token_hash=token_digest(session.token)).exists()
    assert not await AuthToken.filter(token_hash=session.token).exists()


async def test_one_account_per_email(db):
    await make_user(email="ada@example.com")
    with pytest.raises(AlreadyExists) as error:
        await make_user(email="ADA@example.com")
    assert error.value.field == ["input", "email"]


async def test_log_in_with_the_right_password_only(db):
    await make_user(email="ada@example.com")
    session = await actions.log_in(email="ada@example.com", password=PASSWORD, address="1.1.1.1")
    assert session.user.email == "ada@example.com"
    with pytest.raises(ValidationFailed):
        await actions.log_in(email="ada@example.com", password="wrong-password!", address="1.1.1.1")
    with pytest.raises(ValidationFailed):
        await actions.log_in(email="nobody@example.com", password=PASSWORD, address="1.1.1.1")


async def test_guessing_one_email_is_rate_limited_even_with_the_right_password(db):
    await make_user(email="ada@example.com")
    for _ in range(5):
        with pytest.raises(ValidationFailed):
            await actions.log_in(
                email="ada@example.com", password="nope-nope-nope", address=f"10.0.0.{_}"
            )
    with pytest.raises(RateLimited):
        await actions.log_in(email="ada@example.com", password=PASSWORD, address="10.0.0.99")


async def test_guessing_from_one_address_is_rate_limited_across_emails(db):
    await make_user(email="ada@example.com")
    for index in range(20):
        with pytest.raises(ValidationFailed):
            await actions.log_in(
                email=f"victim{index}@example.com",
                password="nope-nope-nope",
                address="198.51.100.1",
            )
    with pytest.raises(RateLimited):
        await actions.log_in(email="ada@example.com", password=PASSWORD, address="198.51.100.1")
    # another address is unaffected
    assert await actions.log_in(email="ada@example.com", password=PASSWORD, address="198.51.100.2")


async def test_log_out_revokes_only_that_token(db):
    first = await make_user(email="ada@example.com")
    second = await actions.log_in(email="ada@example.com", password=PASSWORD, address="x")
    await actions.log_out(first.token)
    assert await actions.user_for_token(first.token) is None
    assert (await actions.user_for_token(second.token)).id == first.user.id


async def test_expired_tokens_sign_nobody_in(db):
    session = await make_user()
    await AuthToken.filter(token_hash=token_digest(session.token)).update(
        expires_at=utc_now() - timedelta(seconds=1)
    )
    assert await actions.user_for_token(session.token) is None
    assert await actions.user_for_token("not-a-token") is None
    assert await actions.user_for_token(None) is None


async def test_make_staff_promotes_an_existing_account(db):
    session = await make_user(email="ops@example.com")
    assert not session.user.is_staff
    assert (await actions.make_staff("ops@example.com")).is_staff
    with pytest.raises(ValidationFailed):
        await actions.make_staff("ghost@example.com")
