"""Sample files and GraphQL multipart requests (the spec's `operations`, `map` and file parts),
shared by the resolver and end-to-end tests."""

from __future__ import annotations

import hashlib
import json
from typing import Any

# Real-looking files of each kind: the magic number, then some bytes.
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 8
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj << /Type /Catalog >> endobj\n" + b"0" * 3000
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 4
ZIP = b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + bytes(range(256)) * 2
TEXT = "Notes: déjà vu, naïve café ☕\nline two\n".encode()
HTML = b"<!doctype html><html><script>alert(1)</script></html>"
ELF = b"\x7fELF\x02\x01\x01\x00" + bytes(64)

# Browsers send multipart forms cross-site without asking; this header makes them ask.
PREFLIGHT = {"apollo-require-preflight": "true"}

FileSpec = tuple[str, bytes, str]


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def multipart_body(
    query: str, variables: dict[str, Any], files: dict[str, FileSpec]
) -> tuple[dict[str, str], list[tuple[str, FileSpec]]]:
    """`files` maps a variable path (`input.attachments.0`) to (filename, bytes, content type);
    the result is httpx's `data=` and `files=` for the request."""
    operations = {"query": query, "variables": variables}
    mapping = {str(index): [f"variables.{path}"] for index, path in enumerate(files)}
    parts = [(str(index), spec) for index, spec in enumerate(files.values())]
    return {"operations": json.dumps(operations), "map": json.dumps(mapping)}, parts


def attachment_paths(count: int, at: str = "input.attachments") -> list[str]:
    return [f"{at}.{index}" for index in range(count)]


def with_nulls(input: dict[str, Any], count: int) -> dict[str, Any]:
    """The input with a null placeholder per file, as the spec has clients send it."""
    return {**input, "attachments": [None] * count}
