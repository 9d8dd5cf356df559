"""Attaching uploaded files to messages, proposals and milestone submissions; who may read them;
sweeping what a crash left behind.

The commit protocol. Invariant: **every committed attachment row has its complete file**; a file
without a committed row is invisible (downloads and listings start from the row) and is deleted
by the sweeper once older than a grace period.

1. While the request streams in, each file is written to `incoming/`, hashed and sniffed
   (models.attachments.storage); it is checked (count, size, type) before any transaction.
2. Inside the owning action's transaction, each file is fsynced and renamed to its final name
   (its new attachment id), *then* the rows are inserted in one statement, then the transaction
   commits.
3. If the transaction fails, the placed files are removed again.

A crash at any point keeps the invariant: before the rename, only an `incoming/` file exists;
between the rename and the commit, a final file exists whose row never commits: invisible, and
swept. There is no moment at which a committed row lacks its file, which renaming after the
commit could not promise. The grace period must exceed the longest such transaction (placing
refreshes the file's time, so it counts from the rename).
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self
from uuid import UUID, uuid4

from models.attachments import rules
from models.attachments.orm import Attachment
from models.attachments.storage import IncomingFile, Storage, get_storage
from models.contracts.orm import MilestoneSubmission
from models.errors import DomainError, ErrorCode, ValidationFailed
from models.interviews.orm import Message
from models.proposals.orm import Proposal

# Far longer than any transaction between placing a file and committing its row.
SWEEP_GRACE_SECONDS = 3600.0
_SWEEP_BATCH = 500


@dataclass(frozen=True)
class Accepted:
    """An incoming file that passed the checks, with the name and type it will be stored with."""

    incoming: IncomingFile
    filename: str
    content_type: str


def accept(files: Sequence[IncomingFile], *, limit: int, field: list[str]) -> list[Accepted]:
    """The files checked before any transaction: how many, how large, what they are."""
    if len(files) > limit:
        raise DomainError(
            f"At most {limit} files at once", field=field, code=ErrorCode.TOO_MANY_FILES
        )
    accepted = []
    for index, incoming in enumerate(files):
        at = [*field, str(index)]
        if incoming.placed:
            raise ValidationFailed("This file is already attached to something else", field=at)
        if incoming.too_large:
            raise DomainError(
                f"A file is at most {incoming.max_bytes} bytes",
                field=at,
                code=ErrorCode.FILE_TOO_LARGE,
            )
        if incoming.size == 0:
            raise ValidationFailed("The file is empty", field=at)
        filename = rules.sanitize_filename(incoming.client_filename)
        content_type = rules.decide_content_type(filename, incoming.sniffer)
        if content_type is None:
            raise DomainError(
                "Allowed are "
                + ", ".join(f".{extension}" for extension in rules.ALLOWED_EXTENSIONS)
                + " files whose contents are what their name says",
                field=at,
                code=ErrorCode.UNSUPPORTED_FILE_TYPE,
            )
        accepted.append(Accepted(incoming, filename, content_type))
    return accepted


class Placing:
    """Stores accepted files inside the caller's transaction, which this must enclose:

        async with Placing(accepted) as placing, in_transaction():
            ...
            attachments = await placing.store(uploader_id=..., message_seq=...)

    If anything fails after the files were placed (the commit included), they are removed.
    With no files it does nothing and costs no statement."""

    def __init__(self, accepted: Sequence[Accepted], storage: Storage | None = None) -> None:
        self.accepted = list(accepted)
        self.storage = storage or get_storage()
        self.placed: list[UUID] = []

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if error is not None and self.placed:
            await asyncio.to_thread(self._remove_placed)

    def _remove_placed(self) -> None:
        for key in self.placed:
            self.storage.remove(key)

    async def store(
        self,
        *,
        uploader_id: UUID,
        message_seq: int | None = None,
        proposal_id: UUID | None = None,
        submission_id: int | None = None,
    ) -> list[Attachment]:
        if not self.accepted:
            return []
        rows = [
            Attachment(
                id=uuid4(),
                message_id=message_seq,
                proposal_id=proposal_id,
                submission_id=submission_id,
                uploader_id=uploader_id,
                position=position,
                filename=item.filename,
                content_type=item.content_type,
                size=item.incoming.size,
                sha256=item.incoming.sha256,
            )
            for position, item in enumerate(self.accepted)
        ]
        # Files first, rows second: see the module docstring.
        await asyncio.to_thread(self._place, rows)
        await Attachment.bulk_create(rows)
        return rows

    def _place(self, rows: list[Attachment]) -> None:
        for row, item in zip(rows, self.accepted, strict=True):
            self.storage.place(item.incoming, row.id)
            self.placed.append(row.id)


def envelope(row: Attachment) -> dict[str, Any]:
    """An attachment as it travels in a published event."""
    return {
        "id": str(row.id),
        "filename": row.filename,
        "content_type": row.content_type,
        "size": row.size,
        "sha256": row.sha256,
        "created_at": row.created_at.isoformat(),
    }


async def by_owner(column: str, owner_ids: Sequence[Any]) -> dict[Any, list[Attachment]]:
    """Each owner's attachments in the order they were given, in one query."""
    grouped: dict[Any, list[Attachment]] = defaultdict(list)
    if not owner_ids:
        return grouped
    # Keyed as the caller keys them, whatever type the backend hands back (UUID or str).
    keys = {str(key): key for key in owner_ids}
    rows = await Attachment.filter(**{f"{column}__in": list(owner_ids)}).order_by(
        column, "position"
    )
    for row in rows:
        grouped[keys[str(getattr(row, column))]].append(row)
    return grouped


async def readers(row: Attachment) -> tuple[set[UUID], bool]:
    """Who may read an attachment: the parties of its interview, proposal or contract (user
    ids), and whether staff may too (they see every contract, to resolve disputes)."""
    parties: list[dict[str, Any]]
    if row.message_id is not None:
        parties = await Message.filter(seq=row.message_id).values(
            "interview__client_id", "interview__freelancer_id"
        )
        return {value for party in parties for value in party.values()}, False
    if row.proposal_id is not None:
        parties = await Proposal.filter(id=row.proposal_id).values(
            "freelancer__user_id", "job__client__user_id"
        )
        return {value for party in parties for value in party.values()}, False
    if row.submission_id is not None:
        parties = await MilestoneSubmission.filter(id=row.submission_id).values(
            "milestone__contract__client_user_id", "milestone__contract__freelancer_user_id"
        )
        return {value for party in parties for value in party.values()}, True
    return set(), False


async def readable(attachment_id: UUID, user_id: UUID | None, is_staff: bool) -> Attachment | None:
    """The attachment if this user may read it; None otherwise, as if it did not exist."""
    row = await Attachment.get_or_none(id=attachment_id)
    if row is None or user_id is None:
        return None
    users, staff_too = await readers(row)
    return (
        row if user_id in {UUID(str(user)) for user in users} or (staff_too and is_staff) else None
    )


@dataclass(frozen=True)
class Swept:
    orphans: int
    incoming: int


async def sweep(
    storage: Storage | None = None,
    *,
    grace_seconds: float = SWEEP_GRACE_SECONDS,
    now: float | None = None,
) -> Swept:
    """Delete placed files without a row, and abandoned incoming files, older than the grace
    period. Safe to run while servers run, and in several processes at once."""
    storage = storage or get_storage()
    cutoff = (now if now is not None else time.time()) - grace_seconds
    incoming = await asyncio.to_thread(storage.remove_incoming, cutoff)
    candidates = await asyncio.to_thread(
        lambda: [key for key, modified in storage.placed() if modified < cutoff]
    )
    orphans = 0
    for start in range(0, len(candidates), _SWEEP_BATCH):
        batch = candidates[start : start + _SWEEP_BATCH]
        known = {
            UUID(str(key))
            for key in await Attachment.filter(id__in=batch).values_list("id", flat=True)
        }
        for key in batch:
            if key not in known:
                await asyncio.to_thread(storage.remove, key)
                orphans += 1
    return Swept(orphans=orphans, incoming=incoming)
