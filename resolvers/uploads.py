"""`Upload` arguments to the domain's incoming files."""

from __future__ import annotations

from collections.abc import Sequence

from models.attachments.storage import IncomingFile
from models.errors import ValidationFailed
from schema.uploads import ReceivedUpload


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
