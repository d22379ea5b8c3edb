"""Code scanning: file classifications from SARIF tags, and who uploaded a file.

Revision ID: codescanning_0003
Revises: codescanning_0002
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from waybill.core.models import BigId, Json

revision: str = "codescanning_0003"
down_revision: str | Sequence[str] | None = "codescanning_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("code_scanning_sarifs", sa.Column("uploaded_by_id", BigId, nullable=True))
    op.add_column("code_scanning_alert_instances", sa.Column("classifications", Json, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("code_scanning_alert_instances") as batch:
        batch.drop_column("classifications")
    with op.batch_alter_table("code_scanning_sarifs") as batch:
        batch.drop_column("uploaded_by_id")
