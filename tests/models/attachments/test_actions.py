"""The commit protocol of attachments (file placed before its row commits, removed if the
transaction fails), the sweeper, who may read a file, and incoming files' limits."""

from __future__ import annotations

import os
import time
from pathlib import Path
from uuid import uuid4

import pytest
from tortoise.transactions import in_transaction

from models.actors import actor_for
from models.attachments import actions
from models.attachments.orm import Attachment
from models.attachments.storage import IncomingFile, LocalStorage, get_storage
from models.errors import DomainError, ErrorCode
from models.interviews import actions as interviews
from tests.attachments_support import PDF, PNG
from tests.conftest import Database
from tests.factories import make_client, make_freelancer, make_user
from tests.resolvers.marketplace_support import make_job, make_proposal


def received(
    storage: LocalStorage, name: str, data: bytes, max_bytes: int = 1 << 20
) -> IncomingFile:
    incoming = storage.receive(name, max_bytes)
    for start in range(0, len(data), 1000):
        incoming.write(data[start : start + 1000])
    incoming.finish()
    return incoming


def placed_keys(storage: LocalStorage) -> set[str]:
    return {str(key) for key, _ in storage.placed()}


def age(storage: LocalStorage, seconds: float) -> None:
    """Make every stored and incoming file look `seconds` old."""
    then = time.time() - seconds
    for path in storage.root.rglob("*"):
        if path.is_file():
            os.utime(path, (then, then))


@pytest.fixture
def storage(tmp_path: Path) -> LocalStorage:
    store = LocalStorage(tmp_path / "uploads")
    store.prepare()
    return store


async def chat_message_author() -> tuple[object, object, object]:
    client, _ = await make_client()
    freelancer, _ = await make_freelancer()
    job = await make_job(client)
    proposal = await make_proposal(freelancer, job)
    actor = await actor_for(client.user)
    interview, _ = await interviews.start_interview(actor, proposal.id, None)
    return actor, interview, freelancer


# --- the commit protocol -----------------------------------------------------------------------


async def test_files_are_placed_under_their_ids_and_rows_commit_with_them(
    db: Database, storage: LocalStorage
) -> None:
    # given
    uploader = await make_user()
    files = [received(storage, "a.pdf", PDF), received(storage, "b.png", PNG)]
    accepted = actions.accept(files, limit=5, field=["input", "attachments"])
    # when
    async with actions.Placing(accepted, storage) as placing, in_transaction():
        rows = await placing.store(uploader_id=uploader.user.id)
    # then
    assert placed_keys(storage) == {str(row.id) for row in rows}
    for row, data in zip(rows, (PDF, PNG), strict=True):
        path = storage.path(row.id)
        assert path is not None and path.read_bytes() == data
        assert path.stat().st_mode & 0o777 == 0o600
    assert list(storage.incoming_dir.iterdir()) == []
    assert await Attachment.filter(id__in=[row.id for row in rows]).count() == 2


async def test_a_failed_transaction_takes_its_files_away(
    db: Database, storage: LocalStorage
) -> None:
    # given
    uploader = await make_user()
    accepted = actions.accept([received(storage, "a.pdf", PDF)], limit=5, field=["f"])

    # when the transaction fails after the files were placed
    class Later(Exception):
        pass

    with pytest.raises(Later):
        async with actions.Placing(accepted, storage) as placing, in_transaction():
            rows = await placing.store(uploader_id=uploader.user.id)
            assert placed_keys(storage) == {str(rows[0].id)}
            raise Later
    # then
    assert placed_keys(storage) == set()
    assert await Attachment.all().count() == 0


async def test_a_failed_insert_takes_its_files_away(db: Database, storage: LocalStorage) -> None:
    # given an uploader that does not exist: the insert breaks a foreign key
    accepted = actions.accept([received(storage, "a.pdf", PDF)], limit=5, field=["f"])
    # when
    with pytest.raises(Exception):  # noqa: B017 - whichever integrity error the backend raises
        async with actions.Placing(accepted, storage) as placing, in_transaction():
            await placing.store(uploader_id=uuid4())
    # then
    assert placed_keys(storage) == set()


async def test_without_files_placing_costs_nothing(db: Database, storage: LocalStorage) -> None:
    async with actions.Placing([], storage) as placing, in_transaction():
        assert await placing.store(uploader_id=uuid4()) == []


def test_a_file_is_placed_once(storage: LocalStorage) -> None:
    incoming = received(storage, "a.pdf", PDF)
    storage.place(incoming, uuid4())
    with pytest.raises(ValueError):
        storage.place(incoming, uuid4())
    with pytest.raises(DomainError) as refused:
        actions.accept([incoming], limit=5, field=["f"])
    assert refused.value.code == ErrorCode.VALIDATION


# --- incoming files ----------------------------------------------------------------------------


def test_an_over_size_file_stops_being_written_at_the_limit(storage: LocalStorage) -> None:
    # when 100 kB arrive for a 10 kB limit
    incoming = received(storage, "big.pdf", PDF * 40, max_bytes=10_000)
    # then everything was counted, and at most the limit was kept
    assert incoming.size == len(PDF * 40)
    assert incoming.too_large
    assert incoming.path.stat().st_size <= 10_000
    with pytest.raises(DomainError) as refused:
        actions.accept([incoming], limit=5, field=["input", "attachments"])
    assert (refused.value.code, refused.value.field) == (
        ErrorCode.FILE_TOO_LARGE,
        ["input", "attachments", "0"],
    )
    incoming.discard()
    assert list(storage.incoming_dir.iterdir()) == []


def test_the_hash_is_of_the_whole_file(storage: LocalStorage) -> None:
    import hashlib

    incoming = received(storage, "a.png", PNG)
    assert incoming.sha256 == hashlib.sha256(PNG).hexdigest()
    assert incoming.size == len(PNG)


# --- the sweeper -------------------------------------------------------------------------------


async def test_the_sweeper_takes_only_old_files_without_rows(
    db: Database, storage: LocalStorage
) -> None:
    # given a committed attachment, an orphan (placed, its row never committed) and an
    # abandoned incoming file, all old; and a fresh orphan
    uploader = await make_user()
    accepted = actions.accept([received(storage, "kept.pdf", PDF)], limit=5, field=["f"])
    async with actions.Placing(accepted, storage) as placing, in_transaction():
        [kept] = await placing.store(uploader_id=uploader.user.id)
    orphan = uuid4()
    storage.place(received(storage, "orphan.pdf", PDF), orphan)
    abandoned = storage.receive("partial.pdf", 1 << 20)
    abandoned.write(PDF[:100])
    age(storage, 7200)
    fresh_orphan = uuid4()
    storage.place(received(storage, "fresh.pdf", PDF), fresh_orphan)
    # when
    swept = await actions.sweep(storage, grace_seconds=3600)
    # then
    assert (swept.orphans, swept.incoming) == (1, 1)
    assert placed_keys(storage) == {str(kept.id), str(fresh_orphan)}
    assert list(storage.incoming_dir.iterdir()) == []
    # and once the fresh orphan is old too
    assert (await actions.sweep(storage, grace_seconds=0)).orphans == 1
    assert placed_keys(storage) == {str(kept.id)}


# --- who may read ------------------------------------------------------------------------------


async def test_a_message_file_is_for_the_interviews_parties(db: Database) -> None:
    # given
    client_actor, interview, freelancer = await chat_message_author()
    stranger = await make_user()
    staff = await make_user(is_staff=True)
    message, _ = await interviews.send_message(
        client_actor, interview.id, "see", [received(get_storage(), "a.pdf", PDF)]
    )
    [row] = await Attachment.filter(message_id=message.seq)
    # then
    assert await actions.readable(row.id, client_actor.user_id, False) is not None
    assert await actions.readable(row.id, freelancer.user.id, False) is not None
    assert await actions.readable(row.id, stranger.user.id, False) is None
    # staff see contracts (to resolve disputes), not private chats
    assert await actions.readable(row.id, staff.user.id, True) is None
    assert await actions.readable(row.id, None, False) is None
    assert await actions.readable(uuid4(), client_actor.user_id, False) is None
