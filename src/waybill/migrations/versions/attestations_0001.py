"""Attestations: Sigstore bundles (compressed, in their own table), their subject digests.

Revision ID: attestations_0001
Revises: 0001
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from waybill.core.models import BigId, UTCDateTime

revision: str = "attestations_0001"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = ("attestations",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "attestations",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("repository_id", BigId, nullable=False),
        sa.Column("predicate_type", sa.String(length=1024), nullable=False),
        sa.Column("media_type", sa.String(length=64), nullable=False),
        sa.Column("bundle_hash", sa.String(length=64), nullable=False),
        sa.Column("initiator", sa.String(length=32), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["repository_id"],
            ["repositories.id"],
            name=op.f("fk_attestations_repository_id_repositories"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attestations")),
        sa.UniqueConstraint(
            "repository_id", "bundle_hash", name=op.f("uq_attestations_repository_id_bundle_hash")
        ),
    )
    op.create_table(
        "attestation_bundles",
        sa.Column("attestation_id", BigId, nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["attestation_id"],
            ["attestations.id"],
            name=op.f("fk_attestation_bundles_attestation_id_attestations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("attestation_id", name=op.f("pk_attestation_bundles")),
    )
    op.create_table(
        "attestation_subjects",
        sa.Column("digest", sa.String(length=600), nullable=False),
        sa.Column("attestation_id", BigId, nullable=False),
        sa.ForeignKeyConstraint(
            ["attestation_id"],
            ["attestations.id"],
            name=op.f("fk_attestation_subjects_attestation_id_attestations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("digest", "attestation_id", name=op.f("pk_attestation_subjects")),
    )
    op.create_index("ix_attestation_subjects_attestation_id", "attestation_subjects", ["attestation_id"])


def downgrade() -> None:
    op.drop_index("ix_attestation_subjects_attestation_id", table_name="attestation_subjects")
    op.drop_table("attestation_subjects")
    op.drop_table("attestation_bundles")
    op.drop_table("attestations")
