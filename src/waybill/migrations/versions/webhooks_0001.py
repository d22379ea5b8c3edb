"""Webhooks: organization and repository hooks, their deliveries, and core's event subscriptions
(which active hook hears which events of an account: what a write probes before it queues an event).

Revision ID: webhooks_0001
Revises: 0001
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from waybill.core.models import BigId, Json, UTCDateTime

revision: str = "webhooks_0001"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = ("webhooks",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "event_subscriptions",
        sa.Column("account_id", BigId, nullable=False),
        sa.Column("event", sa.String(length=64), nullable=False),
        sa.Column("hook_id", BigId, nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_event_subscriptions_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("account_id", "event", "hook_id", name=op.f("pk_event_subscriptions")),
    )
    op.create_table(
        "webhooks",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("owner_id", BigId, nullable=False),
        sa.Column("repository_id", BigId, nullable=True),
        sa.Column("name", sa.String(length=16), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("events", Json, nullable=False),
        sa.Column("url", sa.String(length=2048), nullable=False),
        sa.Column("content_type", sa.String(length=8), nullable=False),
        sa.Column("secret", sa.String(length=256), nullable=True),
        sa.Column("insecure_ssl", sa.String(length=1), nullable=False),
        sa.Column("last_response", Json, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["accounts.id"], name=op.f("fk_webhooks_owner_id_accounts"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["repository_id"],
            ["repositories.id"],
            name=op.f("fk_webhooks_repository_id_repositories"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhooks")),
    )
    op.create_index("ix_webhooks_owner_id_repository_id", "webhooks", ["owner_id", "repository_id"])
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("hook_id", BigId, nullable=False),
        sa.Column("guid", sa.String(length=36), nullable=False),
        sa.Column("sequence", BigId, nullable=True),
        sa.Column("event", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=True),
        sa.Column("repository_id", BigId, nullable=True),
        sa.Column("redelivery", sa.Boolean(), nullable=False),
        sa.Column("payload", Json, nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("due_at", UTCDateTime(), nullable=False),
        sa.Column("lease_until", UTCDateTime(), nullable=True),
        sa.Column("first_due_at", UTCDateTime(), nullable=False),
        sa.Column("url", sa.String(length=2048), nullable=False),
        sa.Column("status", sa.String(length=255), nullable=True),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column("duration", sa.Float(), nullable=False),
        sa.Column("delivered_at", UTCDateTime(), nullable=True),
        sa.Column("request_headers", Json, nullable=True),
        sa.Column("response_headers", Json, nullable=True),
        sa.Column("response_body", sa.Text(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["hook_id"],
            ["webhooks.id"],
            name=op.f("fk_webhook_deliveries_hook_id_webhooks"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_deliveries")),
    )
    op.create_index("ix_webhook_deliveries_hook_id_id", "webhook_deliveries", ["hook_id", "id"])
    op.create_index(
        "ix_webhook_deliveries_hook_id_state_sequence", "webhook_deliveries", ["hook_id", "state", "sequence"]
    )


def downgrade() -> None:
    op.drop_table("webhook_deliveries")
    op.drop_table("webhooks")
    op.drop_table("event_subscriptions")
