from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import strawberry

from models.attachments.orm import Attachment as AttachmentRow
from resolvers.context import Info
from schema.core import Node, described_field, encode_global_id


@strawberry.type(
    description=(
        "A file attached to a message, a proposal or a milestone submission. Only the parties "
        "of its interview, proposal or contract can see it."
    )
)
class Attachment(Node):
    id: strawberry.ID
    filename: str = strawberry.field(
        description="As uploaded, made safe: no path, no control characters, at most 255 bytes."
    )
    content_type: str = strawberry.field(
        description="Decided from the file's name and checked against its bytes."
    )
    size: int = strawberry.field(description="In bytes.")
    sha256: str = strawberry.field(description="The SHA-256 of the contents, in hex.")
    created_at: datetime
    pk: strawberry.Private[UUID]

    @classmethod
    def from_row(cls, row: AttachmentRow) -> Attachment:
        return cls(
            id=encode_global_id("Attachment", row.id),
            filename=row.filename,
            content_type=row.content_type,
            size=row.size,
            sha256=row.sha256,
            created_at=row.created_at,
            pk=row.id,
        )

    @classmethod
    def from_envelope(cls, envelope: dict[str, Any]) -> Attachment:
        return cls(
            id=encode_global_id("Attachment", UUID(envelope["id"])),
            filename=envelope["filename"],
            content_type=envelope["content_type"],
            size=envelope["size"],
            sha256=envelope["sha256"],
            created_at=datetime.fromisoformat(envelope["created_at"]),
            pk=UUID(envelope["id"]),
        )

    @described_field(
        "Where to download the file: a path on this server, signed and valid for a short "
        "while (ATTACHMENT_URL_TTL_SECONDS, 15 minutes by default), that needs no token. "
        "Ask again for a fresh one. `GET /attachments/<id>` with the bearer token of a party "
        "works too."
    )
    def url(self, info: Info) -> str:
        return info.context.links.url(self.pk)


def attachments_of(rows: list[AttachmentRow]) -> list[Attachment]:
    return [Attachment.from_row(row) for row in rows]
