"""Filenames made safe and file types decided from name and bytes: pure rules."""

from __future__ import annotations

from uuid import uuid4

import pytest
from hypothesis import given
from hypothesis import strategies as st

from models.attachments import signing
from models.attachments.rules import (
    MAX_FILENAME_BYTES,
    Sniffer,
    decide_content_type,
    sanitize_filename,
)
from tests.attachments_support import ELF, HTML, JPEG, PDF, PNG, TEXT, ZIP


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("report.pdf", "report.pdf"),
        ("../../etc/passwd", "passwd"),
        ("../../etc/passwd.txt", "passwd.txt"),
        ("/absolute/path/x.png", "x.png"),
        ("C:\\x\\y.pdf", "y.pdf"),
        ("..\\..\\windows\\win.ini", "win.ini"),
        ("evil\r\nSet-Cookie: a=b.png", "evil Set-Cookie_ a=b.png"),
        ("tab\there.txt", "tab here.txt"),
        ("nul\x00byte.txt", "nulbyte.txt"),
        ("bell\x07\x1b[31m.txt", "bell[31m.txt"),
        # a right-to-left override would show "photo\u202egnp.exe" as "photoexe.png"
        ("photo\u202egnp.exe", "photognp.exe"),
        ("", "file"),
        ("   ", "file"),
        ("..", "file"),
        (".", "file"),
        ("/", "file"),
        ("..pdf", "file.pdf"),
        (".bashrc", "file.bashrc"),
        ("trailing. . .", "trailing"),
        ('a<b>c:d|e?f*g"h.txt', "a_b_c_d_e_f_g_h.txt"),
        ("CON.txt", "_CON.txt"),
        ("lpt1", "_lpt1"),
        ("many   spaces\u00a0here.md", "many spaces here.md"),
        ("Café déjà vu.pdf", "Café déjà vu.pdf"),
        # decomposed é (e + combining accent) is composed
        ("Cafe\u0301.pdf", "Café.pdf"),
        ("設計書.pdf", "設計書.pdf"),
        ("emoji 🎉.png", "emoji 🎉.png"),
    ],
)
def test_sanitize_filename(raw: str, clean: str) -> None:
    assert sanitize_filename(raw) == clean


def test_a_long_name_is_cut_to_255_bytes_keeping_its_extension() -> None:
    assert sanitize_filename("a" * 1000 + ".pdf") == "a" * 251 + ".pdf"
    # multi-byte characters are never split
    long_unicode = sanitize_filename("設" * 200 + ".docx")
    assert long_unicode.endswith(".docx")
    assert len(long_unicode.encode()) <= MAX_FILENAME_BYTES
    assert long_unicode == "設" * 83 + ".docx"


@given(st.text(max_size=400))
def test_any_name_comes_out_safe(raw: str) -> None:
    clean = sanitize_filename(raw)
    assert clean and clean not in (".", "..")
    assert "/" not in clean and "\\" not in clean
    assert not any(ord(ch) < 32 or ord(ch) == 127 for ch in clean)
    assert len(clean.encode()) <= MAX_FILENAME_BYTES
    assert not clean.startswith(".")
    assert sanitize_filename(clean) == clean


def sniffed(data: bytes, chunk: int = 7) -> Sniffer:
    sniffer = Sniffer()
    for start in range(0, len(data), chunk):
        sniffer.feed(data[start : start + chunk])
    sniffer.finish()
    return sniffer


@pytest.mark.parametrize(
    ("filename", "data", "content_type"),
    [
        ("a.pdf", PDF, "application/pdf"),
        ("a.PNG", PNG, "image/png"),
        ("a.jpeg", JPEG, "image/jpeg"),
        ("a.jpg", JPEG, "image/jpeg"),
        ("a.gif", b"GIF89a" + bytes(20), "image/gif"),
        ("a.webp", b"RIFF\x24\x00\x00\x00WEBPVP8 " + bytes(20), "image/webp"),
        ("a.zip", ZIP, "application/zip"),
        ("empty.zip", b"PK\x05\x06" + bytes(18), "application/zip"),
        (
            "a.xlsx",
            ZIP,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
        (
            "a.pptx",
            ZIP,
            "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        ),
        ("a.txt", TEXT, "text/plain"),
        ("a.md", TEXT, "text/markdown"),
        ("a.csv", "name,city\nZoë,Kraków\n".encode(), "text/csv"),
        # a byte-order mark is still UTF-8
        ("bom.txt", b"\xef\xbb\xbfhello", "text/plain"),
        # HTML in a .txt is served as text/plain with nosniff: shown, never run
        ("page.txt", HTML, "text/plain"),
    ],
)
def test_allowed_when_the_bytes_agree(filename: str, data: bytes, content_type: str) -> None:
    assert decide_content_type(filename, sniffed(data)) == content_type


@pytest.mark.parametrize(
    ("filename", "data"),
    [
        ("logo.png", HTML),
        ("logo.png", PDF),
        ("report.pdf", ELF),
        ("report.pdf", b"  %PDF-1.7 junk before the header"),
        ("photo.jpg", PNG),
        ("a.webp", b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(20)),
        ("a.docx", PDF),
        ("notes.txt", PNG),
        ("notes.txt", ELF),
        ("notes.txt", b"text with a \x00 NUL"),
        ("notes.txt", "latin-1 caf\xe9".encode("latin-1")),
        # UTF-8 cut short at the very end
        ("notes.txt", "ok ☕".encode()[:-1]),
        ("page.html", HTML),
        ("drawing.svg", b"<svg/>"),
        ("run.sh", b"#!/bin/sh\n"),
        ("program.exe", b"MZ" + bytes(64)),
        ("noextension", PDF),
        ("pdf", PDF),
    ],
)
def test_refused_when_the_name_or_the_bytes_disagree(filename: str, data: bytes) -> None:
    assert decide_content_type(filename, sniffed(data)) is None


def test_utf8_split_across_chunks_is_still_text() -> None:
    # "☕" is three bytes: chunks of one byte split it
    assert sniffed("☕☕☕ coffee".encode(), chunk=1).text


# --- signed links -----------------------------------------------------------------------------

KEY = b"k" * 32


def test_a_signed_link_opens_its_file_until_it_expires() -> None:
    attachment = uuid4()
    expires = signing.expiry(1_000_000.0, 900)
    signature = signing.sign(KEY, attachment, expires)
    assert signing.verify(KEY, attachment, str(expires), signature, now=expires - 1)
    assert signing.verify(KEY, attachment, str(expires), signature, now=expires)
    assert not signing.verify(KEY, attachment, str(expires), signature, now=expires + 1)


def test_a_signed_link_cannot_be_bent() -> None:
    attachment = uuid4()
    expires = signing.expiry(1_000_000.0, 900)
    signature = signing.sign(KEY, attachment, expires)
    now = 1_000_000.0
    assert not signing.verify(KEY, uuid4(), str(expires), signature, now=now)
    assert not signing.verify(KEY, attachment, str(expires + 60), signature, now=now)
    assert not signing.verify(b"x" * 32, attachment, str(expires), signature, now=now)
    assert not signing.verify(KEY, attachment, str(expires), signature[:-1], now=now)
    assert not signing.verify(KEY, attachment, "-1", signature, now=now)
    assert not signing.verify(KEY, attachment, "1e9", signature, now=now)
    assert not signing.verify(KEY, attachment, "²", signature, now=now)
    assert not signing.verify(KEY, attachment, str(expires), "é", now=now)


def test_links_made_within_a_minute_are_the_same() -> None:
    attachment = uuid4()
    first = signing.signed_path(KEY, attachment, now=1_000_030.0, ttl_seconds=900)
    second = signing.signed_path(KEY, attachment, now=1_000_070.0, ttl_seconds=900)
    later = signing.signed_path(KEY, attachment, now=1_000_090.0, ttl_seconds=900)
    assert first == second != later


def test_the_installation_key_is_made_once_and_kept(tmp_path: object) -> None:
    from pathlib import Path

    directory = Path(str(tmp_path))
    first = signing.installation_key(directory)
    assert len(first) == 32
    assert signing.installation_key(directory) == first
    assert (directory / signing.KEY_FILE).stat().st_mode & 0o777 == 0o600
    assert [path.name for path in directory.iterdir()] == [signing.KEY_FILE]


def test_concurrent_first_uses_agree_on_one_key(tmp_path: object) -> None:
    import multiprocessing
    from pathlib import Path

    directory = Path(str(tmp_path))
    context = multiprocessing.get_context("spawn")
    with context.Pool(6) as pool:
        keys = pool.map(signing.installation_key, [directory] * 12)
    assert len(set(keys)) == 1
    assert [path.name for path in directory.iterdir()] == [signing.KEY_FILE]
