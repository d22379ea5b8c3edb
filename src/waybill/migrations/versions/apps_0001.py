"""GitHub Apps: apps, their installations, and the installation tokens each one issued.

Revision ID: apps_0001
Revises: 0001
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from waybill.core.models import BigId, Json, UTCDateTime

revision: str = "apps_0001"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = ("apps",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "apps",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("slug", sa.String(length=34), nullable=False),
        sa.Column("slug_key", sa.String(length=34), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("owner_id", BigId, nullable=False),
        sa.Column("bot_id", BigId, nullable=False),
        sa.Column("client_id", sa.String(length=32), nullable=False),
        sa.Column("public_key", sa.Text(), nullable=False),
        sa.Column("permissions", Json, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["accounts.id"], name=op.f("fk_apps_owner_id_accounts"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["bot_id"], ["accounts.id"], name=op.f("fk_apps_bot_id_accounts"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_apps")),
        sa.UniqueConstraint("slug_key", name=op.f("uq_apps_slug_key")),
        sa.UniqueConstraint("client_id", name=op.f("uq_apps_client_id")),
    )
    op.create_index("ix_apps_owner_id", "apps", ["owner_id"])
    op.create_table(
        "app_installations",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("app_id", BigId, nullable=False),
        sa.Column("account_id", BigId, nullable=False),
        sa.Column("repository_ids", Json, nullable=True),
        sa.Column("permissions", Json, nullable=False),
        sa.Column("suspended_at", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["app_id"], ["apps.id"], name=op.f("fk_app_installations_app_id_apps"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_app_installations_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_app_installations")),
        sa.UniqueConstraint("app_id", "account_id", name=op.f("uq_app_installations_app_id_account_id")),
    )
    op.create_index("ix_app_installations_account_id", "app_installations", ["account_id"])
    op.create_table(
        "installation_tokens",
        sa.Column("token_id", BigId, nullable=False),
        sa.Column("installation_id", BigId, nullable=False),
        sa.ForeignKeyConstraint(
            ["token_id"],
            ["tokens.id"],
            name=op.f("fk_installation_tokens_token_id_tokens"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["installation_id"],
            ["app_installations.id"],
            name=op.f("fk_installation_tokens_installation_id_app_installations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("token_id", name=op.f("pk_installation_tokens")),
    )
    op.create_index("ix_installation_tokens_installation_id", "installation_tokens", ["installation_id"])


def downgrade() -> None:
    op.drop_table("installation_tokens")
    op.drop_table("app_installations")
    op.drop_table("apps")
