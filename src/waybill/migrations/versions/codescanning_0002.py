"""Code scanning: alert assignees.

Revision ID: codescanning_0002
Revises: codescanning_0001
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from waybill.core.models import BigId

revision: str = "codescanning_0002"
down_revision: str | Sequence[str] | None = "codescanning_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "code_scanning_alert_assignees",
        sa.Column("alert_id", BigId, nullable=False),
        sa.Column("user_id", BigId, nullable=False),
        sa.ForeignKeyConstraint(
            ["alert_id"],
            ["code_scanning_alerts.id"],
            name=op.f("fk_code_scanning_alert_assignees_alert_id_code_scanning_alerts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["accounts.id"],
            name=op.f("fk_code_scanning_alert_assignees_user_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("alert_id", "user_id", name=op.f("pk_code_scanning_alert_assignees")),
    )
    op.create_index("ix_code_scanning_alert_assignees_user_id", "code_scanning_alert_assignees", ["user_id"])


def downgrade() -> None:
    op.drop_index("ix_code_scanning_alert_assignees_user_id", table_name="code_scanning_alert_assignees")
    op.drop_table("code_scanning_alert_assignees")
