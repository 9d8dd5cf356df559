"""What a file may be called and what it may be: pure rules, no I/O.

A file's type is decided by its name *and* its bytes: the extension picks a kind from the
allowlist, and the bytes must be that kind (magic numbers for binary formats; valid UTF-8 without
NUL for text). A `.png` that is HTML, a `.pdf` that is an ELF binary or a `.txt` that is a PNG is
refused. The client's declared content type is never trusted.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field

MESSAGE_MAX_FILES = 5
PROPOSAL_MAX_FILES = 5
SUBMISSION_MAX_FILES = 10

# Enough for every magic number below; kept in memory while the rest goes to disk.
HEAD_BYTES = 64
MAX_FILENAME_BYTES = 255
# An extension longer than this is not one we know; truncating long names keeps it whole.
MAX_EXTENSION_CHARS = 16

# Windows refuses these as file names whatever the extension; a downloader may save it there.
_WINDOWS_DEVICES = frozenset(
    {"CON", "PRN", "AUX", "NUL"}
    | {f"COM{digit}" for digit in range(1, 10)}
    | {f"LPT{digit}" for digit in range(1, 10)}
)
# Control, format (bidi overrides that disguise `exe.pdf` as `fdp.exe`), surrogates, separators.
_DROPPED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
_RESERVED = re.compile(r'[<>:"|?*]')
_SPACES = re.compile(r"\s+")


def sanitize_filename(raw: str) -> str:
    """A display name that is safe anywhere: the last path component only, no control or
    format characters, no characters Windows reserves, at most 255 bytes of UTF-8 with the
    extension kept. Never empty. Stored files are named by their id, never by this."""
    name = unicodedata.normalize("NFC", raw)
    name = re.split(r"[/\\]", name)[-1]
    # Tabs and line breaks read as spaces; other invisible characters go.
    name = _SPACES.sub(" ", name)
    name = "".join(ch for ch in name if unicodedata.category(ch) not in _DROPPED_CATEGORIES)
    name = _SPACES.sub(" ", _RESERVED.sub("_", name)).strip()
    stem, dot, extension = name.rpartition(".")
    if not dot or not extension.strip() or len(extension) > MAX_EXTENSION_CHARS:
        stem, extension = name, ""
    # Leading dots hide files on Unix; trailing dots and spaces vanish on Windows.
    stem = stem.strip(". ") or "file"
    extension = extension.strip(". ")
    if stem.upper().split(".")[0] in _WINDOWS_DEVICES:
        stem = f"_{stem}"
    suffix = f".{extension}" if extension else ""
    while len((stem + suffix).encode()) > MAX_FILENAME_BYTES:
        stem = stem[:-1]
    return (stem.rstrip(". ") or "file") + suffix


def extension_of(filename: str) -> str:
    _, dot, extension = filename.rpartition(".")
    return extension.lower() if dot else ""


@dataclass
class Sniffer:
    """What the bytes of a file look like, learned as they stream past: the first bytes, and
    whether the whole is UTF-8 text without NUL. Fed chunk by chunk, never holding the file."""

    head: bytes = b""
    text: bool = True
    _decoder: codecs.IncrementalDecoder = field(
        default_factory=lambda: codecs.getincrementaldecoder("utf-8")()
    )
    _finished: bool = False

    def feed(self, chunk: bytes) -> None:
        if len(self.head) < HEAD_BYTES:
            self.head += chunk[: HEAD_BYTES - len(self.head)]
        if self.text:
            if b"\x00" in chunk:
                self.text = False
                return
            try:
                self._decoder.decode(chunk)
            except UnicodeDecodeError:
                self.text = False

    def finish(self) -> None:
        """The end of the file: a multi-byte sequence cut short there is not text."""
        if self.text and not self._finished:
            try:
                self._decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                self.text = False
        self._finished = True


def _zip(head: bytes) -> bool:
    # A local file header, or the end record of an empty archive.
    return head.startswith((b"PK\x03\x04", b"PK\x05\x06"))


def _text(sniffer: Sniffer) -> bool:
    return sniffer.text


def _starts(*magic: bytes) -> Callable[[Sniffer], bool]:
    return lambda sniffer: sniffer.head.startswith(magic)


@dataclass(frozen=True)
class FileKind:
    content_type: str
    extensions: tuple[str, ...]
    matches: Callable[[Sniffer], bool]


_OPENXML = "application/vnd.openxmlformats-officedocument"
ALLOWED_KINDS: tuple[FileKind, ...] = (
    FileKind("application/pdf", ("pdf",), _starts(b"%PDF-")),
    FileKind("image/png", ("png",), _starts(b"\x89PNG\r\n\x1a\n")),
    FileKind("image/jpeg", ("jpg", "jpeg"), _starts(b"\xff\xd8\xff")),
    FileKind("image/gif", ("gif",), _starts(b"GIF87a", b"GIF89a")),
    FileKind(
        "image/webp",
        ("webp",),
        lambda sniffer: sniffer.head[:4] == b"RIFF" and sniffer.head[8:12] == b"WEBP",
    ),
    FileKind("application/zip", ("zip",), lambda sniffer: _zip(sniffer.head)),
    # Office documents are ZIP containers.
    FileKind(
        f"{_OPENXML}.wordprocessingml.document", ("docx",), lambda sniffer: _zip(sniffer.head)
    ),
    FileKind(f"{_OPENXML}.spreadsheetml.sheet", ("xlsx",), lambda sniffer: _zip(sniffer.head)),
    FileKind(
        f"{_OPENXML}.presentationml.presentation", ("pptx",), lambda sniffer: _zip(sniffer.head)
    ),
    FileKind("text/plain", ("txt",), _text),
    FileKind("text/markdown", ("md", "markdown"), _text),
    FileKind("text/csv", ("csv",), _text),
)
_BY_EXTENSION = {extension: kind for kind in ALLOWED_KINDS for extension in kind.extensions}
ALLOWED_EXTENSIONS = tuple(sorted(_BY_EXTENSION))


def decide_content_type(filename: str, sniffer: Sniffer) -> str | None:
    """The content type the file is stored and served with, or None when its name is not on
    the allowlist or its bytes are not what its name says."""
    kind = _BY_EXTENSION.get(extension_of(filename))
    if kind is None or not kind.matches(sniffer):
        return None
    return kind.content_type


def served_content_type(content_type: str) -> str:
    """Text was checked to be UTF-8 on the way in, so it is served as such."""
    return f"{content_type}; charset=utf-8" if content_type.startswith("text/") else content_type
