"""Alerts: Dependabot alerts, their per-repository numbers and assignees.

Revision ID: alerts_0002
Revises: alerts_0001
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from waybill.core.models import BigId, UTCDateTime

revision: str = "alerts_0002"
down_revision: str | Sequence[str] | None = "alerts_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "dependabot_alerts",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("repository_id", BigId, nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("advisory_id", BigId, nullable=False),
        sa.Column("identity", sa.String(length=64), nullable=False),
        sa.Column("ecosystem", sa.String(length=16), nullable=False),
        sa.Column("package_name", sa.Text(), nullable=False),
        sa.Column("package_key", sa.String(length=512), nullable=False),
        sa.Column("package_url", sa.Text(), nullable=False),
        sa.Column("manifest_path", sa.Text(), nullable=False),
        sa.Column("version", sa.Text(), nullable=True),
        sa.Column("scope", sa.String(length=16), nullable=True),
        sa.Column("relationship", sa.String(length=16), nullable=False),
        sa.Column("vulnerable_version_range", sa.Text(), nullable=False),
        sa.Column("first_patched_version", sa.Text(), nullable=True),
        sa.Column("present", sa.Boolean(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("dismissed_at", UTCDateTime(), nullable=True),
        sa.Column("dismissed_by_id", BigId, nullable=True),
        sa.Column("dismissed_reason", sa.String(length=16), nullable=True),
        sa.Column("dismissed_comment", sa.String(length=280), nullable=True),
        sa.Column("fixed_at", UTCDateTime(), nullable=True),
        sa.Column("auto_dismissed_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["repository_id"],
            ["repositories.id"],
            name=op.f("fk_dependabot_alerts_repository_id_repositories"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["advisory_id"],
            ["advisories.id"],
            name=op.f("fk_dependabot_alerts_advisory_id_advisories"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["dismissed_by_id"],
            ["accounts.id"],
            name=op.f("fk_dependabot_alerts_dismissed_by_id_accounts"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dependabot_alerts")),
        sa.UniqueConstraint("repository_id", "number", name="uq_dependabot_alerts_repository_id_number"),
        sa.UniqueConstraint("repository_id", "identity", name="uq_dependabot_alerts_repository_id_identity"),
    )
    op.create_index("ix_dependabot_alerts_advisory_id", "dependabot_alerts", ["advisory_id"])
    op.create_index("ix_dependabot_alerts_created_at_id", "dependabot_alerts", ["created_at", "id"])
    op.create_index("ix_dependabot_alerts_updated_at_id", "dependabot_alerts", ["updated_at", "id"])
    op.create_table(
        "dependabot_alert_numbers",
        sa.Column("repository_id", BigId, nullable=False),
        sa.Column("last_number", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["repository_id"],
            ["repositories.id"],
            name=op.f("fk_dependabot_alert_numbers_repository_id_repositories"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("repository_id", name=op.f("pk_dependabot_alert_numbers")),
    )
    op.create_table(
        "dependabot_alert_assignees",
        sa.Column("alert_id", BigId, nullable=False),
        sa.Column("user_id", BigId, nullable=False),
        sa.ForeignKeyConstraint(
            ["alert_id"],
            ["dependabot_alerts.id"],
            name=op.f("fk_dependabot_alert_assignees_alert_id_dependabot_alerts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["accounts.id"],
            name=op.f("fk_dependabot_alert_assignees_user_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("alert_id", "user_id", name=op.f("pk_dependabot_alert_assignees")),
    )
    op.create_index("ix_dependabot_alert_assignees_user_id", "dependabot_alert_assignees", ["user_id"])


def downgrade() -> None:
    op.drop_index("ix_dependabot_alert_assignees_user_id", table_name="dependabot_alert_assignees")
    op.drop_table("dependabot_alert_assignees")
    op.drop_table("dependabot_alert_numbers")
    op.drop_index("ix_dependabot_alerts_updated_at_id", table_name="dependabot_alerts")
    op.drop_index("ix_dependabot_alerts_created_at_id", table_name="dependabot_alerts")
    op.drop_index("ix_dependabot_alerts_advisory_id", table_name="dependabot_alerts")
    op.drop_table("dependabot_alerts")
