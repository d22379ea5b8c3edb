"""Signed, expiring URLs (bundle and SBOM downloads), as GitHub serves pre-signed blob URLs that a
client fetches without its token. The key is made once and kept in the database, so every worker
and host shares it."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

from sqlalchemy import Column, String, Table, select
from sqlalchemy.ext.asyncio import AsyncConnection

from waybill.core.db import upsert
from waybill.core.models import metadata

server_secrets = Table(
    "server_secrets",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("value", String(128), nullable=False),
)


async def load_key(conn: AsyncConnection) -> bytes:
    """The URL-signing key, created by whichever process asks first."""
    await conn.execute(
        upsert(conn, server_secrets)
        .values(name="url-signing", value=secrets.token_hex(32))
        .on_conflict_do_nothing(index_elements=["name"])
    )
    value = (
        await conn.execute(select(server_secrets.c.value).where(server_secrets.c.name == "url-signing"))
    ).scalar_one()
    return bytes.fromhex(value)


class Signer:
    def __init__(self, key: bytes) -> None:
        self._key = key

    def _mac(self, purpose: str, subject: str, expires: int) -> str:
        message = f"{purpose}\n{subject}\n{expires}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    def derive(self, purpose: str) -> bytes:
        """A 32-byte key of its own for ``purpose`` (sealing web sessions, CSRF tokens), so the URL
        key itself is never used for anything else."""
        return hmac.new(self._key, f"derive\n{purpose}".encode(), hashlib.sha256).digest()

    def sign(self, purpose: str, subject: str, ttl_seconds: int) -> dict[str, str]:
        """Query parameters (``expires``, ``signature``) that let ``subject`` be fetched for a while."""
        expires = int(time.time()) + ttl_seconds
        return {"expires": str(expires), "signature": self._mac(purpose, subject, expires)}

    def check(self, purpose: str, subject: str, expires: str | None, signature: str | None) -> bool:
        if (
            not expires
            or not signature
            or not (expires.isascii() and expires.isdigit())
            or int(expires) < time.time()
        ):
            return False
        return hmac.compare_digest(self._mac(purpose, subject, int(expires)), signature)
