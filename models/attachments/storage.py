"""Where attachment bytes live: a small interface, and the local filesystem behind it.

Layout of UPLOAD_DIR (one filesystem, so a move is an atomic rename):

    incoming/<random>.part   bytes being received; never served
    files/<ab>/<id>          a placed file, named by its attachment id (never the user's name)
    .url-signing-key         see models.attachments.signing

A file is written to `incoming/` as it arrives (hashed and sniffed on the way), fsynced, and
placed under its final name by one rename. So there is never a half-written file under a final
name. See models.attachments.actions for when placing happens relative to the commit.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import IO, Protocol
from uuid import UUID

from models.attachments.rules import Sniffer
from settings import get_settings


@dataclass
class IncomingFile:
    """One uploaded file as it arrives: written to a private temporary file, hashed and sniffed
    chunk by chunk. Past `max_bytes` nothing more is written, only counted: an over-size file
    costs no more disk or memory than an allowed one."""

    client_filename: str
    path: Path
    max_bytes: int
    size: int = 0
    placed: bool = False
    sniffer: Sniffer = field(default_factory=Sniffer)
    _hash: hashlib._Hash = field(default_factory=hashlib.sha256)
    _handle: IO[bytes] | None = None

    @property
    def too_large(self) -> bool:
        return self.size > self.max_bytes

    @property
    def sha256(self) -> str:
        return self._hash.hexdigest()

    def write(self, chunk: bytes) -> None:
        """Blocking: call from a worker thread."""
        self.size += len(chunk)
        if self.too_large:
            self._close()
            return
        if self._handle is None:
            descriptor = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            self._handle = os.fdopen(descriptor, "wb")
        self._handle.write(chunk)
        self._hash.update(chunk)
        self.sniffer.feed(chunk)

    def finish(self) -> None:
        """All bytes are in: flush them to stable storage (blocking)."""
        self.sniffer.finish()
        if self._handle is not None and not self.too_large:
            self._handle.flush()
            os.fsync(self._handle.fileno())
        self._close()

    def discard(self) -> None:
        """Forget the bytes unless they were placed (blocking; safe to repeat)."""
        self._close()
        if not self.placed:
            self.path.unlink(missing_ok=True)

    def _close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None


class Storage(Protocol):
    """What attachments need from a store. Keys are attachment ids."""

    def receive(self, client_filename: str, max_bytes: int) -> IncomingFile:
        """A new incoming file to write an upload into."""
        ...

    def place(self, incoming: IncomingFile, key: UUID) -> None:
        """Make the incoming file durable under `key`, atomically (blocking)."""
        ...

    def remove(self, key: UUID) -> None:
        """Delete a placed file, if it is there (blocking)."""
        ...

    def path(self, key: UUID) -> Path | None:
        """The placed file to serve, or None."""
        ...

    def placed(self) -> Iterator[tuple[UUID, float]]:
        """Every placed file: its key and modification time (blocking)."""
        ...

    def remove_incoming(self, older_than: float) -> int:
        """Delete incoming files last written before `older_than` (a Unix time): uploads that
        a crashed process left behind. Returns how many (blocking)."""
        ...


class LocalStorage:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.incoming_dir = root / "incoming"
        self.files_dir = root / "files"

    def prepare(self) -> None:
        self.incoming_dir.mkdir(parents=True, exist_ok=True)
        self.files_dir.mkdir(parents=True, exist_ok=True)

    def receive(self, client_filename: str, max_bytes: int) -> IncomingFile:
        self.incoming_dir.mkdir(parents=True, exist_ok=True)
        path = self.incoming_dir / f"{secrets.token_hex(16)}.part"
        return IncomingFile(client_filename=client_filename, path=path, max_bytes=max_bytes)

    def _final(self, key: UUID) -> Path:
        return self.files_dir / key.hex[:2] / str(key)

    def place(self, incoming: IncomingFile, key: UUID) -> None:
        if incoming.placed:
            raise ValueError("an incoming file is placed once")
        final = self._final(key)
        final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(incoming.path, final)
        incoming.placed = True
        # Its age decides when the sweeper may take it if its row never commits: from now.
        now = time.time()
        os.utime(final, (now, now))
        _fsync_directory(final.parent)

    def remove(self, key: UUID) -> None:
        self._final(key).unlink(missing_ok=True)

    def path(self, key: UUID) -> Path | None:
        final = self._final(key)
        return final if final.is_file() else None

    def placed(self) -> Iterator[tuple[UUID, float]]:
        if not self.files_dir.is_dir():
            return
        for shard in self.files_dir.iterdir():
            if not shard.is_dir():
                continue
            for entry in shard.iterdir():
                try:
                    key = UUID(entry.name)
                    modified = entry.stat().st_mtime
                except (ValueError, FileNotFoundError):
                    continue
                yield key, modified

    def remove_incoming(self, older_than: float) -> int:
        removed = 0
        if not self.incoming_dir.is_dir():
            return removed
        for entry in self.incoming_dir.iterdir():
            try:
                if entry.stat().st_mtime < older_than:
                    entry.unlink()
                    removed += 1
            except FileNotFoundError:
                continue
        return removed


def _fsync_directory(directory: Path) -> None:
    """A rename is durable once its directory is synced."""
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


@lru_cache
def local_storage(upload_dir: str) -> LocalStorage:
    return LocalStorage(Path(upload_dir).resolve())


def get_storage() -> LocalStorage:
    return local_storage(get_settings().upload_dir)
