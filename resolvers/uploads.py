"""`Upload` arguments (files a multipart request streamed to storage, schema/uploads.py) to
the domain's incoming files."""

from __future__ import annotations

from collections.abc import Sequence

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers, UploadFile

from models.attachments.storage import IncomingFile
from models.errors import ValidationFailed


class ReceivedUpload(UploadFile):
    """What an `Upload` argument receives: a Starlette UploadFile whose bytes went to `incoming`
    as they arrived."""

    def __init__(self, incoming: IncomingFile, filename: str, headers: Headers) -> None:
        super().__init__(file=None, filename=filename, headers=headers)  # type: ignore[arg-type]
        self.incoming = incoming

    async def write(self, data: bytes) -> None:
        await run_in_threadpool(self.incoming.write, data)

    async def seek(self, offset: int) -> None:
        # Starlette rewinds each finished part; ours is done differently (see `finish`).
        return None

    async def read(self, size: int = -1) -> bytes:
        raise NotImplementedError("uploads are read through their stored file")

    async def close(self) -> None:
        await run_in_threadpool(self.incoming.discard)


def incoming_files(values: Sequence[object] | None, field: list[str]) -> list[IncomingFile]:
    """The files of an `Upload` list. Strawberry passes any JSON value through the scalar, so a
    string where a file should be is refused here, not trusted."""
    files = []
    for index, value in enumerate(values or ()):
        if not isinstance(value, ReceivedUpload):
            raise ValidationFailed(
                "Expected a file part of a multipart request", field=[*field, str(index)]
            )
        files.append(value.incoming)
    return files
