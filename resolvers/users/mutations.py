from __future__ import annotations

from auth.crypto.tokens import token_digest
from models.events import Published, user_channel
from models.users import actions
from resolvers.context import Info
from resolvers.publish import publish
from schema.compat import attempt
from schema.users import AuthPayload, LogInInput, LogOutPayload, SignUpInput, User


async def sign_up(info: Info, input: SignUpInput) -> AuthPayload:
    session, errors = await attempt(
        actions.sign_up(email=input.email, password=input.password, display_name=input.display_name)
    )
    if session is None:
        return AuthPayload(token=None, user=None, user_errors=errors)
    return _signed_in(info, session)


async def log_in(info: Info, input: LogInInput) -> AuthPayload:
    session, errors = await attempt(
        actions.log_in(
            email=input.email, password=input.password, address=info.context.client_address
        )
    )
    if session is None:
        return AuthPayload(token=None, user=None, user_errors=errors)
    return _signed_in(info, session)


def _signed_in(info: Info, session: actions.Session) -> AuthPayload:
    # The rest of this response (user.email) is read by the user who has just signed in.
    info.context.user = session.user
    return AuthPayload(token=session.token, user=User.from_row(session.user), user_errors=[])


async def log_out(info: Info) -> LogOutPayload:
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
    return LogOutPayload(ok=True, user_errors=[])
