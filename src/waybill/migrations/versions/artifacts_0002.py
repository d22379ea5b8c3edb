"""Artifact metadata: indexes for the linked artifacts and environments pages.

Revision ID: artifacts_0002
Revises: artifacts_0001
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "artifacts_0002"
down_revision: str | Sequence[str] | None = "artifacts_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_INDEXES = [
    # An organization's artifacts newest first within one repository (the repository filter).
    ("ix_artifacts_repository_id_id", "artifacts", ["repository_id", "id"]),
    # Search by digest prefix.
    ("ix_artifacts_digest", "artifacts", ["digest"]),
    # Filters by cluster, physical environment and registry (the logical environment leads the
    # records' unique key already).
    ("ix_artifact_deployment_records_org_id_cluster", "artifact_deployment_records", ["org_id", "cluster"]),
    (
        "ix_artifact_deployment_records_org_id_physical_environment",
        "artifact_deployment_records",
        ["org_id", "physical_environment"],
    ),
    # Covers the environments page's count of what is deployed where, and the logical environment
    # filter. Status after the places: an index led by (org_id, status) would tempt SQLite into reading
    # nearly every record through it for the runtime-risk filter.
    (
        "ix_artifact_deployment_records_places",
        "artifact_deployment_records",
        [
            "org_id",
            "logical_environment",
            "physical_environment",
            "cluster",
            "status",
            "repository_id",
            "digest",
        ],
    ),
    (
        "ix_artifact_storage_records_org_id_registry_url",
        "artifact_storage_records",
        ["org_id", "registry_url"],
    ),
]


def upgrade() -> None:
    for name, table, columns in _INDEXES:
        op.create_index(name, table, columns)


def downgrade() -> None:
    for name, table, _ in reversed(_INDEXES):
        op.drop_index(name, table_name=table)
