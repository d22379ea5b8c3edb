"""Verification of attestations: the verdict and signer identity of each, and the operator's policies.

Revision ID: verification_0001
Revises: attestations_0001
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from waybill.core.models import BigId, Json, UTCDateTime

revision: str = "verification_0001"
down_revision: str | Sequence[str] | None = "attestations_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "attestation_verifications",
        sa.Column("attestation_id", BigId, nullable=False),
        sa.Column("verified", sa.Boolean(), nullable=False),
        sa.Column("failed_step", sa.String(length=64), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("trust_root", sa.String(length=255), nullable=True),
        sa.Column("time_source", sa.String(length=64), nullable=True),
        sa.Column("signed_at", UTCDateTime(), nullable=True),
        sa.Column("san", sa.String(length=1024), nullable=True),
        sa.Column("issuer", sa.String(length=1024), nullable=True),
        sa.Column("source_repository_uri", sa.String(length=1024), nullable=True),
        sa.Column("build_signer_uri", sa.String(length=1024), nullable=True),
        sa.Column("identity", Json, nullable=False),
        sa.Column("details", Json, nullable=False),
        sa.Column("checked_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["attestation_id"],
            ["attestations.id"],
            name=op.f("fk_attestation_verifications_attestation_id_attestations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("attestation_id", name=op.f("pk_attestation_verifications")),
    )
    op.create_table(
        "attestation_owner_policies",
        sa.Column("account_id", BigId, nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("allowed_workflows", Json, nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_attestation_owner_policies_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_attestation_owner_policies")),
    )
    op.create_table(
        "attestation_repository_policies",
        sa.Column("repository_id", BigId, nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("allowed_workflows", Json, nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["repository_id"],
            ["repositories.id"],
            name=op.f("fk_attestation_repository_policies_repository_id_repositories"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("repository_id", name=op.f("pk_attestation_repository_policies")),
    )


def downgrade() -> None:
    op.drop_table("attestation_repository_policies")
    op.drop_table("attestation_owner_policies")
    op.drop_table("attestation_verifications")
