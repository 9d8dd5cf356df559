"""The request's Actor (the viewer and their profile ids), through the per-request loaders."""

from __future__ import annotations

from models.actors import Actor
from models.errors import DomainError
from resolvers.context import Context, Info
from resolvers.errors import PublicError


async def viewer_actor(info: Info) -> Actor | None:
    return await actor_of(info.context)


async def actor_of(context: Context) -> Actor | None:
    user = context.user
    if user is None:
        return None
    loaders = context.loaders
    freelancer = await loaders.freelancer_profile_by_user.load(user.id)
    client = await loaders.client_profile_by_user.load(user.id)
    return Actor(
        user_id=user.id,
        is_staff=user.is_staff,
        freelancer_profile_id=freelancer.id if freelancer else None,
        client_profile_id=client.id if client else None,
    )


async def signed_in_actor(info: Info) -> Actor:
    """For resolvers behind IsAuthenticated."""
    actor = await viewer_actor(info)
    assert actor is not None, "IsAuthenticated runs first"
    return actor


def signed_in_user(info: Info) -> Actor:
    """The viewer as an Actor without their profiles, for actions that need to know only who is
    acting (two statements fewer than `signed_in_actor`). For resolvers behind IsAuthenticated."""
    user = info.context.user
    assert user is not None, "IsAuthenticated runs first"
    return Actor(user_id=user.id, is_staff=user.is_staff)


def bad_argument(error: DomainError) -> PublicError:
    return PublicError(error.message, "BAD_USER_INPUT", field=error.field)
