"""Users: signing up, in and out, and the signed-in viewer."""

from __future__ import annotations

from models.errors import DomainError
from models.users.actions import Session
from resolvers.context import Info
from resolvers.users import mutations
from schema.core import user_errors
from schema.users import AuthPayload, LogInInput, LogOutPayload, SignUpInput, User
from schema.viewer import Viewer


def _auth_payload(session: Session | None, problems: list[DomainError]) -> AuthPayload:
    if session is None:
        return AuthPayload(token=None, user=None, user_errors=user_errors(problems))
    return AuthPayload(token=session.token, user=User.from_row(session.user), user_errors=[])


async def sign_up(info: Info, input: SignUpInput) -> AuthPayload:
    return _auth_payload(
        *await mutations.sign_up(info, input.email, input.password, input.display_name)
    )


async def log_in(info: Info, input: LogInInput) -> AuthPayload:
    return _auth_payload(*await mutations.log_in(info, input.email, input.password))


async def log_out(info: Info) -> LogOutPayload:
    await mutations.log_out(info)
    return LogOutPayload(ok=True, user_errors=[])


async def viewer(info: Info) -> Viewer | None:
    user = info.context.user
    return Viewer(row=user) if user else None
