"""Admission: policies per organization and logical environment, and the decision log.

Revision ID: admission_0001
Revises: 0001
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from waybill.core.models import BigId, Json, UTCDateTime

revision: str = "admission_0001"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = ("admission",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "admission_policies",
        sa.Column("org_id", BigId, nullable=False),
        sa.Column("environment", sa.String(length=128), nullable=False),
        sa.Column("policy", Json, nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["accounts.id"],
            name=op.f("fk_admission_policies_org_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("org_id", "environment", name=op.f("pk_admission_policies")),
    )
    op.create_table(
        "admission_decisions",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("org_id", BigId, nullable=False),
        sa.Column("environment", sa.String(length=128), nullable=False),
        sa.Column("entry", sa.String(length=16), nullable=False),
        sa.Column("namespace", sa.String(length=253), nullable=True),
        sa.Column("workload", sa.String(length=512), nullable=True),
        sa.Column("operation", sa.String(length=16), nullable=True),
        sa.Column("mode", sa.String(length=16), nullable=True),
        sa.Column("verdict", sa.String(length=16), nullable=False),
        sa.Column("allowed", sa.Boolean(), nullable=False),
        sa.Column("images", Json, nullable=False),
        sa.Column("reasons", Json, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["accounts.id"],
            name=op.f("fk_admission_decisions_org_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_admission_decisions")),
    )
    op.create_index("ix_admission_decisions_org_id_id", "admission_decisions", ["org_id", "id"])
    op.create_index(
        "ix_admission_decisions_org_id_environment_id", "admission_decisions", ["org_id", "environment", "id"]
    )


def downgrade() -> None:
    op.drop_table("admission_decisions")
    op.drop_table("admission_policies")
