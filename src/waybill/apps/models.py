"""GitHub Apps, their installations on accounts, and which tokens each installation issued."""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Index, String, Table, Text, UniqueConstraint

from waybill.core.models import BigId, Json, UTCDateTime, metadata

apps = Table(
    "apps",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("slug", String(34), nullable=False),
    Column("slug_key", String(34), nullable=False, unique=True),
    Column("name", String(255), nullable=False),
    Column("owner_id", BigId, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    # The bot account (``SLUG[bot]``) the app's installation tokens act as.
    Column("bot_id", BigId, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("client_id", String(32), nullable=False, unique=True),
    # PEM of the RSA public key its JWTs are verified with; the private key is never stored.
    Column("public_key", Text, nullable=False),
    Column("permissions", Json, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Index("ix_apps_owner_id", "owner_id"),
)

app_installations = Table(
    "app_installations",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("app_id", BigId, ForeignKey("apps.id", ondelete="CASCADE"), nullable=False),
    Column("account_id", BigId, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    # None: all of the account's repositories; a list: those repository ids only.
    Column("repository_ids", Json, nullable=True),
    Column("permissions", Json, nullable=False),
    Column("suspended_at", UTCDateTime, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    UniqueConstraint("app_id", "account_id"),
    Index("ix_app_installations_account_id", "account_id"),
)

# Which installation issued which token, so that suspending or uninstalling revokes them all.
installation_tokens = Table(
    "installation_tokens",
    metadata,
    Column("token_id", BigId, ForeignKey("tokens.id", ondelete="CASCADE"), primary_key=True),
    Column("installation_id", BigId, ForeignKey("app_installations.id", ondelete="CASCADE"), nullable=False),
    Index("ix_installation_tokens_installation_id", "installation_id"),
)
