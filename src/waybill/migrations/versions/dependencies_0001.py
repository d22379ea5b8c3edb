"""Dependencies: packages, snapshots, manifests, resolved packages, graph heads, SBOM reports.

Revision ID: dependencies_0001
Revises: 0001
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from waybill.core.models import BigId, Json, UTCDateTime

revision: str = "dependencies_0001"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = ("dependencies",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "dependency_packages",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("purl", sa.Text(), nullable=False),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("namespace", sa.Text(), nullable=True),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("version", sa.Text(), nullable=True),
        sa.Column("base", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dependency_packages")),
        sa.UniqueConstraint("purl", name=op.f("uq_dependency_packages_purl")),
    )
    op.create_index("ix_dependency_packages_base_version", "dependency_packages", ["base", "version"])
    op.create_table(
        "dependency_snapshots",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("repository_id", BigId, nullable=False),
        sa.Column("sha", sa.String(length=64), nullable=False),
        sa.Column("ref", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.Text(), nullable=False),
        sa.Column("correlator", sa.Text(), nullable=False),
        sa.Column("job_html_url", sa.Text(), nullable=True),
        sa.Column("detector_name", sa.Text(), nullable=False),
        sa.Column("detector_version", sa.Text(), nullable=False),
        sa.Column("detector_url", sa.Text(), nullable=False),
        sa.Column("metadata", Json, nullable=True),
        sa.Column("scanned", UTCDateTime(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["repository_id"],
            ["repositories.id"],
            name=op.f("fk_dependency_snapshots_repository_id_repositories"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dependency_snapshots")),
    )
    op.create_index(
        "ix_dependency_snapshots_repository_id_sha", "dependency_snapshots", ["repository_id", "sha"]
    )
    op.create_index(
        "ix_dependency_snapshots_repository_id_ref", "dependency_snapshots", ["repository_id", "ref"]
    )
    op.create_table(
        "dependency_manifests",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("snapshot_id", BigId, nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("source_location", sa.Text(), nullable=True),
        sa.Column("metadata", Json, nullable=True),
        sa.ForeignKeyConstraint(
            ["snapshot_id"],
            ["dependency_snapshots.id"],
            name=op.f("fk_dependency_manifests_snapshot_id_dependency_snapshots"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dependency_manifests")),
    )
    op.create_index("ix_dependency_manifests_snapshot_id", "dependency_manifests", ["snapshot_id"])
    op.create_table(
        "dependency_resolved",
        sa.Column("manifest_id", BigId, nullable=False),
        sa.Column("package_id", BigId, nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("relationship", sa.String(length=16), nullable=True),
        sa.Column("scope", sa.String(length=16), nullable=True),
        sa.Column("metadata", Json, nullable=True),
        sa.Column("depends_on", Json, nullable=True),
        sa.ForeignKeyConstraint(
            ["manifest_id"],
            ["dependency_manifests.id"],
            name=op.f("fk_dependency_resolved_manifest_id_dependency_manifests"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["package_id"],
            ["dependency_packages.id"],
            name=op.f("fk_dependency_resolved_package_id_dependency_packages"),
        ),
        sa.PrimaryKeyConstraint("manifest_id", "package_id", name=op.f("pk_dependency_resolved")),
    )
    op.create_index("ix_dependency_resolved_package_id", "dependency_resolved", ["package_id"])
    op.create_table(
        "dependency_heads",
        sa.Column("repository_id", BigId, nullable=False),
        sa.Column("correlator", sa.Text(), nullable=False),
        sa.Column("detector_name", sa.Text(), nullable=False),
        sa.Column("snapshot_id", BigId, nullable=False),
        sa.Column("scanned", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["repository_id"],
            ["repositories.id"],
            name=op.f("fk_dependency_heads_repository_id_repositories"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["snapshot_id"],
            ["dependency_snapshots.id"],
            name=op.f("fk_dependency_heads_snapshot_id_dependency_snapshots"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "repository_id", "correlator", "detector_name", name=op.f("pk_dependency_heads")
        ),
    )
    op.create_index("ix_dependency_heads_snapshot_id", "dependency_heads", ["snapshot_id"])
    op.create_table(
        "dependency_sbom_reports",
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.Column("repository_id", BigId, nullable=False),
        sa.Column("document", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("completed_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["repository_id"],
            ["repositories.id"],
            name=op.f("fk_dependency_sbom_reports_repository_id_repositories"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("uuid", name=op.f("pk_dependency_sbom_reports")),
    )
    op.create_index("ix_dependency_sbom_reports_created_at", "dependency_sbom_reports", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_dependency_sbom_reports_created_at", table_name="dependency_sbom_reports")
    op.drop_table("dependency_sbom_reports")
    op.drop_index("ix_dependency_heads_snapshot_id", table_name="dependency_heads")
    op.drop_table("dependency_heads")
    op.drop_index("ix_dependency_resolved_package_id", table_name="dependency_resolved")
    op.drop_table("dependency_resolved")
    op.drop_index("ix_dependency_manifests_snapshot_id", table_name="dependency_manifests")
    op.drop_table("dependency_manifests")
    op.drop_index("ix_dependency_snapshots_repository_id_ref", table_name="dependency_snapshots")
    op.drop_index("ix_dependency_snapshots_repository_id_sha", table_name="dependency_snapshots")
    op.drop_table("dependency_snapshots")
    op.drop_index("ix_dependency_packages_base_version", table_name="dependency_packages")
    op.drop_table("dependency_packages")
