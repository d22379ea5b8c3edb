"""Personal access tokens. Only a SHA-256 of each token is stored: tokens are 190+ random bits,
so a fast hash is enough and lets every request find its token by one indexed lookup."""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Index, String, Table

from waybill.core.models import BigId, Json, UTCDateTime, metadata

tokens = Table(
    "tokens",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("user_id", BigId, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    # The last four characters, to tell tokens apart in listings without storing them.
    Column("hint", String(4), nullable=False),
    Column("scopes", Json, nullable=False),
    Column("resource_owner_id", BigId, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=True),
    # None: every repository of the resource owner; a list: those repository ids only.
    Column("repository_ids", Json, nullable=True),
    Column("permissions", Json, nullable=False),
    Column("expires_at", UTCDateTime, nullable=True),
    Column("revoked_at", UTCDateTime, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_tokens_user_id", "user_id"),
)
