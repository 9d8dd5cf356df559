from __future__ import annotations

from auth.crypto.tokens import token_digest
from models.events import Published, user_channel
from models.users import actions
from resolvers.context import Info
from resolvers.errors import Outcome, attempt
from resolvers.publish import publish


async def sign_up(
    info: Info, email: str, password: str, display_name: str
) -> Outcome[actions.Session]:
    return _signed_in(
        info,
        await attempt(actions.sign_up(email=email, password=password, display_name=display_name)),
    )


async def log_in(info: Info, email: str, password: str) -> Outcome[actions.Session]:
    return _signed_in(
        info,
        await attempt(
            actions.log_in(email=email, password=password, address=info.context.client_address)
        ),
    )


def _signed_in(info: Info, outcome: Outcome[actions.Session]) -> Outcome[actions.Session]:
    session, _ = outcome
    if session is not None:
        # The rest of this response (user.email) is read by the user who has just signed in.
        info.context.user = session.user
    return outcome


async def log_out(info: Info) -> None:
    assert info.context.token is not None and info.context.user is not None
    await actions.log_out(info.context.token)
    # Live subscriptions opened with this token end when they see this.
    await publish(
        info,
        [
            Published(
                channel=user_channel(info.context.user.id),
                payload={"type": "token_revoked", "token_hash": token_digest(info.context.token)},
            )
        ],
    )
