"""Short-lived download links: `/attachments/<id>?expires=<unix time>&signature=<HMAC>`.

The signature is HMAC-SHA256 over the attachment id and the expiry, so a link opens one file
until it expires and cannot be altered to open another or to last longer. The key is
URL_SIGNING_KEY when set (required when several hosts serve one installation); otherwise a random
key made once and kept in UPLOAD_DIR, so links survive restarts and every worker on the host
signs alike.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from uuid import UUID

KEY_FILE = ".url-signing-key"
# Links made within the same minute are identical, so a browser may reuse what it fetched.
EXPIRY_GRANULARITY_SECONDS = 60


def _mac(key: bytes, attachment_id: UUID, expires: int) -> bytes:
    return hmac.new(key, f"attachment:{attachment_id}:{expires}".encode(), hashlib.sha256).digest()


def sign(key: bytes, attachment_id: UUID, expires: int) -> str:
    return base64.urlsafe_b64encode(_mac(key, attachment_id, expires)).decode().rstrip("=")


def expiry(now: float, ttl_seconds: int) -> int:
    step = EXPIRY_GRANULARITY_SECONDS
    return math.ceil((now + ttl_seconds) / step) * step


def signed_path(key: bytes, attachment_id: UUID, *, now: float, ttl_seconds: int) -> str:
    expires = expiry(now, ttl_seconds)
    signature = sign(key, attachment_id, expires)
    return f"/attachments/{attachment_id}?expires={expires}&signature={signature}"


def verify(key: bytes, attachment_id: UUID, expires: str, signature: str, *, now: float) -> bool:
    """A link is good until its expiry, and only for the file it was made for."""
    if not (expires.isascii() and expires.isdigit()) or len(expires) > 12 or int(expires) < now:
        return False
    expected = sign(key, attachment_id, int(expires))
    return hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace"))


@dataclass(frozen=True)
class Links:
    """Makes and checks the download links of one installation."""

    key: bytes
    ttl_seconds: int

    def url(self, attachment_id: UUID, now: float | None = None) -> str:
        return signed_path(
            self.key,
            attachment_id,
            now=time.time() if now is None else now,
            ttl_seconds=self.ttl_seconds,
        )

    def verify(self, attachment_id: UUID, expires: str, signature: str) -> bool:
        return verify(self.key, attachment_id, expires, signature, now=time.time())


def links_for(configured_key: str | None, upload_dir: str, ttl_seconds: int) -> Links:
    key = configured_key.encode() if configured_key else installation_key(Path(upload_dir))
    return Links(key=key, ttl_seconds=ttl_seconds)


def installation_key(directory: Path) -> bytes:
    """The key kept in `directory`, made on first use. Concurrent first uses (several workers
    starting at once) agree: the key is written aside and linked into place, which fails for
    all but the first; everyone then reads the winner's."""
    path = directory / KEY_FILE
    if not path.exists():
        directory.mkdir(parents=True, exist_ok=True)
        draft = directory / f"{KEY_FILE}.{os.getpid()}.{secrets.token_hex(4)}"
        descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(descriptor, secrets.token_hex(32).encode())
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
        try:
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return bytes.fromhex(path.read_text().strip())
