"""Users and organizations share one namespace (``accounts``), as on GitHub."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, ForeignKey, Index, String, Table, Text, UniqueConstraint

from waybill.core.models import BigId, UTCDateTime, metadata

accounts = Table(
    "accounts",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("login", String(39), nullable=False),
    # Lower-cased login: names are case-insensitive but keep their display case.
    Column("login_key", String(39), nullable=False, unique=True),
    Column("type", String(16), nullable=False),
    Column("name", String(255), nullable=True),
    Column("email", String(255), nullable=True),
    Column("site_admin", Boolean, nullable=False, default=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

memberships = Table(
    "memberships",
    metadata,
    Column("org_id", BigId, ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", BigId, ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True),
    Column("role", String(16), nullable=False),
    Index("ix_memberships_user_id", "user_id"),
)

repositories = Table(
    "repositories",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("owner_id", BigId, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(100), nullable=False),
    Column("name_key", String(100), nullable=False),
    Column("private", Boolean, nullable=False),
    Column("description", Text, nullable=True),
    Column("default_branch", String(255), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    UniqueConstraint("owner_id", "name_key"),
)

collaborators = Table(
    "collaborators",
    metadata,
    Column("repository_id", BigId, ForeignKey("repositories.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", BigId, ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True),
    Column("permission", String(16), nullable=False),
    Index("ix_collaborators_user_id", "user_id"),
)
