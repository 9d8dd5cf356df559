from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import strawberry
from starlette.requests import Request
from starlette.websockets import WebSocket

from models.attachments.signing import Links
from models.interviews.typing import TypingGate
from models.users.orm import User
from realtime.presence import Presence
from resolvers.loaders import Loaders


@dataclass
class Context:
    """Per HTTP request, or per websocket connection (Strawberry builds it once per socket)."""

    request: Request | WebSocket
    response: Any
    request_id: str
    client_address: str
    user: User | None = None
    token: str | None = None
    # Strawberry stores the websocket's connection_init payload here.
    connection_params: dict[str, Any] | None = None
    loaders: Loaders = field(default_factory=Loaders)

    @property
    def broadcast(self) -> Any:
        return self.request.app.state.broadcast

    @property
    def presence(self) -> Presence:
        return self.request.app.state.presence  # type: ignore[no-any-return]

    @property
    def typing_gate(self) -> TypingGate:
        return self.request.app.state.typing_gate  # type: ignore[no-any-return]

    @property
    def links(self) -> Links:
        """Signs attachment download links."""
        links: Links = self.request.app.state.links
        return links


Info = strawberry.Info[Context, None]
