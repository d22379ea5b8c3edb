"""Trusted OIDC issuers, the publishers bound to repositories, and the token ids already exchanged."""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Index, String, Table, Text

from waybill.core.models import BigId, Json, UTCDateTime, metadata

oidc_issuers = Table(
    "oidc_issuers",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    # Exactly as tokens carry it in ``iss`` (no trailing slash is added or removed).
    Column("url", String(512), nullable=False, unique=True),
    Column("jwks", Json, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
)

trusted_publishers = Table(
    "trusted_publishers",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("repository_id", BigId, ForeignKey("repositories.id", ondelete="CASCADE"), nullable=False),
    Column("issuer_id", BigId, ForeignKey("oidc_issuers.id", ondelete="CASCADE"), nullable=False),
    Column("claims", Json, nullable=False),
    Column("workflow", Text, nullable=True),
    Column("environment", String(255), nullable=True),
    Column("permissions", Json, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_trusted_publishers_issuer_id", "issuer_id"),
    Index("ix_trusted_publishers_repository_id", "repository_id"),
)

# A token's ``jti`` is kept until the token expires, so that it is exchanged at most once.
oidc_used_tokens = Table(
    "oidc_used_tokens",
    metadata,
    Column("issuer_id", BigId, ForeignKey("oidc_issuers.id", ondelete="CASCADE"), primary_key=True),
    Column("jti", String(255), primary_key=True),
    Column("expires_at", UTCDateTime, nullable=False),
    Index("ix_oidc_used_tokens_expires_at", "expires_at"),
)
