"""Artifact metadata: artifacts, storage records, deployment records and their history.

Revision ID: artifacts_0001
Revises: 0001
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from waybill.core.models import BigId, Json, UTCDateTime

revision: str = "artifacts_0001"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = ("artifacts",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "artifacts",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("repository_id", BigId, nullable=False),
        sa.Column("digest", sa.String(length=71), nullable=False),
        sa.Column("name", sa.String(length=256), nullable=False),
        sa.Column("version", sa.String(length=100), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["repository_id"],
            ["repositories.id"],
            name=op.f("fk_artifacts_repository_id_repositories"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_artifacts")),
        sa.UniqueConstraint("repository_id", "digest", name="uq_artifacts_repository_id_digest"),
    )
    op.create_table(
        "artifact_storage_records",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("org_id", BigId, nullable=False),
        sa.Column("repository_id", BigId, nullable=False),
        sa.Column("digest", sa.String(length=71), nullable=False),
        sa.Column("registry_url", sa.String(length=256), nullable=False),
        sa.Column("registry_repository", sa.String(length=128), nullable=False),
        sa.Column("artifact_url", sa.String(length=152), nullable=True),
        sa.Column("path", sa.String(length=512), nullable=True),
        sa.Column("version", sa.String(length=100), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["accounts.id"],
            name=op.f("fk_artifact_storage_records_org_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["repository_id"],
            ["repositories.id"],
            name=op.f("fk_artifact_storage_records_repository_id_repositories"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_artifact_storage_records")),
        sa.UniqueConstraint(
            "repository_id",
            "digest",
            "registry_url",
            "registry_repository",
            name="uq_artifact_storage_records_identity",
        ),
    )
    op.create_index(
        "ix_artifact_storage_records_org_id_digest", "artifact_storage_records", ["org_id", "digest"]
    )
    op.create_table(
        "artifact_deployment_records",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("org_id", BigId, nullable=False),
        sa.Column("repository_id", BigId, nullable=False),
        sa.Column("digest", sa.String(length=71), nullable=False),
        sa.Column("logical_environment", sa.String(length=128), nullable=False),
        sa.Column("physical_environment", sa.String(length=128), nullable=False),
        sa.Column("cluster", sa.String(length=128), nullable=False),
        sa.Column("deployment_name", sa.String(length=256), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("tags", Json, nullable=False),
        sa.Column("runtime_risks", Json, nullable=False),
        sa.Column("attestation_id", BigId, nullable=True),
        sa.Column("last_change", sa.String(length=16), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["accounts.id"],
            name=op.f("fk_artifact_deployment_records_org_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["repository_id"],
            ["repositories.id"],
            name=op.f("fk_artifact_deployment_records_repository_id_repositories"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_artifact_deployment_records")),
        sa.UniqueConstraint(
            "org_id",
            "logical_environment",
            "physical_environment",
            "cluster",
            "deployment_name",
            name="uq_artifact_deployment_records_identity",
        ),
    )
    op.create_index(
        "ix_artifact_deployment_records_org_id_digest", "artifact_deployment_records", ["org_id", "digest"]
    )
    op.create_table(
        "artifact_deployment_history",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("record_id", BigId, nullable=False),
        sa.Column("org_id", BigId, nullable=False),
        sa.Column("repository_id", BigId, nullable=False),
        sa.Column("change", sa.String(length=16), nullable=False),
        sa.Column("digest", sa.String(length=71), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("tags", Json, nullable=False),
        sa.Column("runtime_risks", Json, nullable=False),
        sa.Column("attestation_id", BigId, nullable=True),
        sa.Column("recorded_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["artifact_deployment_records.id"],
            name=op.f("fk_artifact_deployment_history_record_id_artifact_deployment_records"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["accounts.id"],
            name=op.f("fk_artifact_deployment_history_org_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["repository_id"],
            ["repositories.id"],
            name=op.f("fk_artifact_deployment_history_repository_id_repositories"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_artifact_deployment_history")),
    )
    op.create_index(
        "ix_artifact_deployment_history_record_id_id", "artifact_deployment_history", ["record_id", "id"]
    )
    op.create_index(
        "ix_artifact_deployment_history_org_id_digest", "artifact_deployment_history", ["org_id", "digest"]
    )
    op.create_index(
        "ix_artifact_deployment_history_org_id_recorded_at",
        "artifact_deployment_history",
        ["org_id", "recorded_at"],
    )


def downgrade() -> None:
    history = "artifact_deployment_history"
    op.drop_index("ix_artifact_deployment_history_org_id_recorded_at", table_name=history)
    op.drop_index("ix_artifact_deployment_history_org_id_digest", table_name=history)
    op.drop_index("ix_artifact_deployment_history_record_id_id", table_name=history)
    op.drop_table("artifact_deployment_history")
    op.drop_index("ix_artifact_deployment_records_org_id_digest", table_name="artifact_deployment_records")
    op.drop_table("artifact_deployment_records")
    op.drop_index("ix_artifact_storage_records_org_id_digest", table_name="artifact_storage_records")
    op.drop_table("artifact_storage_records")
    op.drop_table("artifacts")
