"""Jobs: the server process holding a job's lease, and the token that queued it.

Revision ID: foundation_0002
Revises: 0001
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from waybill.core.models import BigId

revision: str = "foundation_0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("jobs", sa.Column("holder", sa.String(length=255), nullable=True))
    op.add_column("jobs", sa.Column("token_id", BigId, nullable=True))
    op.create_index("ix_jobs_token_id_status", "jobs", ["token_id", "status"])


def downgrade() -> None:
    op.drop_index("ix_jobs_token_id_status", table_name="jobs")
    op.drop_column("jobs", "token_id")
    op.drop_column("jobs", "holder")
