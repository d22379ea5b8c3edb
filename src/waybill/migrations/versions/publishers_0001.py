"""Trusted publishing: OIDC issuers, publishers bound to repositories, and exchanged token ids.

Revision ID: publishers_0001
Revises: 0001
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from waybill.core.models import BigId, Json, UTCDateTime

revision: str = "publishers_0001"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = ("publishers",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "oidc_issuers",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("url", sa.String(length=512), nullable=False),
        sa.Column("jwks", Json, nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oidc_issuers")),
        sa.UniqueConstraint("url", name=op.f("uq_oidc_issuers_url")),
    )
    op.create_table(
        "trusted_publishers",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("repository_id", BigId, nullable=False),
        sa.Column("issuer_id", BigId, nullable=False),
        sa.Column("claims", Json, nullable=False),
        sa.Column("workflow", sa.Text(), nullable=True),
        sa.Column("environment", sa.String(length=255), nullable=True),
        sa.Column("permissions", Json, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["repository_id"],
            ["repositories.id"],
            name=op.f("fk_trusted_publishers_repository_id_repositories"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["issuer_id"],
            ["oidc_issuers.id"],
            name=op.f("fk_trusted_publishers_issuer_id_oidc_issuers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trusted_publishers")),
    )
    op.create_index("ix_trusted_publishers_issuer_id", "trusted_publishers", ["issuer_id"])
    op.create_index("ix_trusted_publishers_repository_id", "trusted_publishers", ["repository_id"])
    op.create_table(
        "oidc_used_tokens",
        sa.Column("issuer_id", BigId, nullable=False),
        sa.Column("jti", sa.String(length=255), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["issuer_id"],
            ["oidc_issuers.id"],
            name=op.f("fk_oidc_used_tokens_issuer_id_oidc_issuers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("issuer_id", "jti", name=op.f("pk_oidc_used_tokens")),
    )
    op.create_index("ix_oidc_used_tokens_expires_at", "oidc_used_tokens", ["expires_at"])


def downgrade() -> None:
    op.drop_table("oidc_used_tokens")
    op.drop_table("trusted_publishers")
    op.drop_table("oidc_issuers")
