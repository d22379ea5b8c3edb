"""Artifact metadata: the runtime risks of deployed records as rows, and indexes for the production
context filters (the linked artifacts page, and the organization's Dependabot alerts).

Revision ID: artifacts_0003
Revises: artifacts_0002
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from waybill.core.models import BigId

revision: str = "artifacts_0003"
down_revision: str | Sequence[str] | None = "artifacts_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The existing records' risks, as the upserts would have written them; each backend has its own way
# of turning a JSON array into rows.
_BACKFILL = {
    "sqlite": (
        "INSERT INTO artifact_deployment_risks (record_id, risk, org_id, repository_id, digest)"
        " SELECT DISTINCT d.id, e.value, d.org_id, d.repository_id, d.digest"
        " FROM artifact_deployment_records AS d, json_each(d.runtime_risks) AS e"
        " WHERE d.status = 'deployed'"
    ),
    "postgresql": (
        "INSERT INTO artifact_deployment_risks (record_id, risk, org_id, repository_id, digest)"
        " SELECT DISTINCT d.id, e.value, d.org_id, d.repository_id, d.digest"
        " FROM artifact_deployment_records AS d, jsonb_array_elements_text(d.runtime_risks) AS e(value)"
        " WHERE d.status = 'deployed'"
    ),
}


def upgrade() -> None:
    op.create_table(
        "artifact_deployment_risks",
        sa.Column("record_id", BigId, nullable=False),
        sa.Column("risk", sa.String(length=32), nullable=False),
        sa.Column("org_id", BigId, nullable=False),
        sa.Column("repository_id", BigId, nullable=False),
        sa.Column("digest", sa.String(length=71), nullable=False),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["artifact_deployment_records.id"],
            name=op.f("fk_artifact_deployment_risks_record_id_artifact_deployment_records"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("record_id", "risk", name=op.f("pk_artifact_deployment_risks")),
    )
    op.execute(_BACKFILL[op.get_bind().dialect.name])
    op.create_index(
        "ix_artifact_deployment_risks_places",
        "artifact_deployment_risks",
        ["org_id", "risk", "repository_id", "digest"],
    )
    op.create_index(
        "ix_artifact_deployment_records_repository_id_status",
        "artifact_deployment_records",
        ["repository_id", "status"],
    )
    # Replaces (org_id, registry_url): the same prefix, and the repository after it.
    op.drop_index("ix_artifact_storage_records_org_id_registry_url", table_name="artifact_storage_records")
    op.create_index(
        "ix_artifact_storage_records_registries",
        "artifact_storage_records",
        ["org_id", "registry_url", "repository_id"],
    )


def downgrade() -> None:
    op.drop_index("ix_artifact_storage_records_registries", table_name="artifact_storage_records")
    op.create_index(
        "ix_artifact_storage_records_org_id_registry_url",
        "artifact_storage_records",
        ["org_id", "registry_url"],
    )
    op.drop_index(
        "ix_artifact_deployment_records_repository_id_status", table_name="artifact_deployment_records"
    )
    op.drop_index("ix_artifact_deployment_risks_places", table_name="artifact_deployment_risks")
    op.drop_table("artifact_deployment_risks")
