from __future__ import annotations

from resolvers.context import Info
from schema.viewer import Viewer


async def viewer(info: Info) -> Viewer | None:
    user = info.context.user
    return Viewer(row=user) if user else None
