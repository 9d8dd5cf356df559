"""Receiving GraphQL multipart requests (the spec's `operations`, `map` and file parts) as they
stream: each file part goes straight to the storage's incoming area, hashed and sniffed on the
way, and stops being written once it passes MAX_UPLOAD_BYTES (the action then refuses it with
FILE_TOO_LARGE). Nothing is buffered in memory beyond a chunk. The whole body is capped by
BodySizeLimitMiddleware (413 once over MAX_UPLOAD_REQUEST_BYTES).

Browsers send `multipart/form-data` cross-site without a preflight, so a multipart request must
carry a header a form cannot set (as Apollo's servers ask): `Apollo-Require-Preflight`,
`X-Apollo-Operation-Name` or `GraphQL-Require-Preflight`, with any non-empty value.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from dataclasses import dataclass
from typing import Any, ClassVar

from cross_web import FormData, HTTPException, StarletteRequestAdapter
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.requests import Request

from models.attachments.storage import Storage
from resolvers.uploads import ReceivedUpload

PREFLIGHT_HEADERS = (
    "apollo-require-preflight",
    "x-apollo-operation-name",
    "graphql-require-preflight",
)


@dataclass(frozen=True)
class UploadLimits:
    max_file_bytes: int
    max_files: int
    # For the `operations` and `map` fields: the limit of a JSON request body.
    max_field_bytes: int


class _Parser(MultiPartParser):
    def __init__(
        self,
        headers: Headers,
        stream: AsyncGenerator[bytes, None],
        storage: Storage,
        limits: UploadLimits,
    ) -> None:
        super().__init__(
            headers,
            stream,
            max_files=limits.max_files,
            # operations and map, and room for a client's extra field or two
            max_fields=8,
            max_part_size=limits.max_field_bytes,
        )
        self.storage = storage
        self.limits = limits
        self.received: list[ReceivedUpload] = []

    def on_headers_finished(self) -> None:
        super().on_headers_finished()
        part = self._current_part
        if part.file is None:
            return
        # Starlette made a spooled temporary file for this part: ours replaces it.
        spooled = part.file.file
        self._files_to_close_on_error.remove(spooled)  # type: ignore[arg-type]
        spooled.close()
        upload = ReceivedUpload(
            self.storage.receive(part.file.filename or "", self.limits.max_file_bytes),
            filename=part.file.filename or "",
            headers=part.file.headers,
        )
        part.file = upload
        self.received.append(upload)


async def read_multipart(request: Request, storage: Storage, limits: UploadLimits) -> FormData:
    """The request's form, its files received into `storage`; kept on `request.state.uploads`
    so the view discards what no action placed once the response is sent."""
    if not any(request.headers.get(name, "").strip() for name in PREFLIGHT_HEADERS):
        raise HTTPException(
            400,
            "Multipart requests need an Apollo-Require-Preflight (or X-Apollo-Operation-Name, "
            "or GraphQL-Require-Preflight) header",
        )
    parser = _Parser(request.headers, request.stream(), storage, limits)
    request.state.uploads = parser.received
    try:
        form = await parser.parse()
    except MultiPartException as error:
        raise HTTPException(400, error.message) from error
    for upload in parser.received:
        await run_in_threadpool(upload.incoming.finish)
    return FormData(files=form, form=form)


async def discard_uploads(request: Request) -> None:
    """Forget received files that no action placed (safe when there were none)."""
    # Read from the scope's state: `request.state` raises (and catches) an AttributeError on
    # every request without uploads, twice per request.
    state: dict[str, Any] = request.scope.get("state") or {}
    uploads = state.get("uploads")
    if not uploads:
        return
    state["uploads"] = []
    for upload in uploads:
        await upload.close()


class UploadRequestAdapter(StarletteRequestAdapter):
    """Strawberry's Starlette adapter, reading multipart bodies with `read_multipart` into the
    storage and within the limits of `for_uploads`."""

    storage: ClassVar[Storage]
    limits: ClassVar[UploadLimits]

    @classmethod
    def for_uploads(cls, storage: Storage, limits: UploadLimits) -> type[UploadRequestAdapter]:
        return type(cls.__name__, (cls,), {"storage": storage, "limits": limits})

    async def get_form_data(self) -> FormData:
        return await read_multipart(self._request, self.storage, self.limits)
