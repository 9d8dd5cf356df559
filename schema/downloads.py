"""`GET|HEAD /attachments/<id>`: a file, to the parties of its interview, proposal or contract.

Allowed by a signed link (`?expires=…&signature=…`, the `url` field of `Attachment`) or by the
bearer token of a party. Anything else, a bad or expired signature included, is the same 404 as
for an id that does not exist: nobody learns what exists. Files are sent as downloads
(`Content-Disposition: attachment`) with their stored type and `nosniff`, so a browser never
renders them as a page; single and multiple byte ranges are served (206, 416).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from uuid import UUID

from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response

from auth.backend import authenticate
from auth.crypto.tokens import bearer_token
from models.attachments import actions
from models.attachments.orm import Attachment
from models.attachments.rules import served_content_type
from models.attachments.signing import Links
from models.attachments.storage import Storage

logger = logging.getLogger("marketplace.attachments")

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "private",
    # Opened anyway (a download manager, a mistaken inline view): no script, no subresource.
    "Content-Security-Policy": "default-src 'none'; sandbox",
}


def _not_found() -> Response:
    return PlainTextResponse("Not found", status_code=404, headers={"Cache-Control": "no-store"})


async def _allowed_row(request: Request, attachment_id: UUID, links: Links) -> Attachment | None:
    expires = request.query_params.get("expires")
    signature = request.query_params.get("signature")
    if expires is not None or signature is not None:
        if not links.verify(attachment_id, expires or "", signature or ""):
            return None
        return await Attachment.get_or_none(id=attachment_id)
    user = await authenticate(bearer_token(request.headers.get("authorization")))
    if user is None:
        return None
    return await actions.readable(attachment_id, user.id, user.is_staff)


def download_endpoint(storage: Storage, links: Links) -> Callable[[Request], Awaitable[Response]]:
    async def download(request: Request) -> Response:
        try:
            attachment_id = UUID(request.path_params["attachment_id"])
        except ValueError:
            return _not_found()
        row = await _allowed_row(request, attachment_id, links)
        if row is None:
            return _not_found()
        path = storage.path(row.id)
        if path is None:
            # Never by design (a row commits only after its file is in place): the disk lost it.
            logger.error("attachment %s has a row but no file", row.id)
            return _not_found()
        return FileResponse(
            path,
            media_type=served_content_type(row.content_type),
            filename=row.filename,
            headers={**SECURITY_HEADERS, "ETag": f'"{row.sha256}"'},
        )

    return download
