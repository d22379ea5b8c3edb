"""Alerts: the advisory database (OSV documents and the GitHub-shaped advisories built from them).

Revision ID: alerts_0001
Revises: 0001
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from waybill.core.models import BigId, Json, UTCDateTime

revision: str = "alerts_0001"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = ("alerts",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "advisory_documents",
        sa.Column("osv_id", sa.String(length=128), nullable=False),
        sa.Column("ghsa_id", sa.String(length=128), nullable=False),
        sa.Column("modified_at", UTCDateTime(), nullable=False),
        sa.Column("withdrawn_at", UTCDateTime(), nullable=True),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("document", Json, nullable=False),
        sa.Column("imported_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("osv_id", name=op.f("pk_advisory_documents")),
    )
    op.create_index("ix_advisory_documents_ghsa_id", "advisory_documents", ["ghsa_id"])
    op.create_table(
        "advisories",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("ghsa_id", sa.String(length=128), nullable=False),
        sa.Column("cve_id", sa.String(length=64), nullable=True),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("source_code_location", sa.Text(), nullable=True),
        sa.Column("identifiers", Json, nullable=False),
        sa.Column("reference_urls", Json, nullable=False),
        sa.Column("cwes", Json, nullable=False),
        sa.Column("cvss_v3_vector", sa.String(length=255), nullable=True),
        sa.Column("cvss_v3_score", sa.Float(), nullable=True),
        sa.Column("cvss_v4_vector", sa.String(length=255), nullable=True),
        sa.Column("cvss_v4_score", sa.Float(), nullable=True),
        sa.Column("epss_percentage", sa.Float(), nullable=True),
        sa.Column("epss_percentile", sa.Float(), nullable=True),
        sa.Column("published_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("github_reviewed_at", UTCDateTime(), nullable=True),
        sa.Column("nvd_published_at", UTCDateTime(), nullable=True),
        sa.Column("withdrawn_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_advisories")),
        sa.UniqueConstraint("ghsa_id", name=op.f("uq_advisories_ghsa_id")),
    )
    op.create_index("ix_advisories_cve_id", "advisories", ["cve_id"])
    op.create_index("ix_advisories_published_at_id", "advisories", ["published_at", "id"])
    op.create_index("ix_advisories_updated_at_id", "advisories", ["updated_at", "id"])
    op.create_index("ix_advisories_type_severity", "advisories", ["type", "severity"])
    op.create_table(
        "advisory_vulnerabilities",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("advisory_id", BigId, nullable=False),
        sa.Column("osv_id", sa.String(length=128), nullable=False),
        sa.Column("ecosystem", sa.String(length=16), nullable=False),
        sa.Column("package_name", sa.String(length=512), nullable=False),
        sa.Column("package_key", sa.String(length=512), nullable=False),
        sa.Column("ranges", Json, nullable=False),
        sa.Column("versions", Json, nullable=False),
        sa.Column("vulnerable_functions", Json, nullable=False),
        sa.ForeignKeyConstraint(
            ["advisory_id"],
            ["advisories.id"],
            name=op.f("fk_advisory_vulnerabilities_advisory_id_advisories"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_advisory_vulnerabilities")),
    )
    op.create_index("ix_advisory_vulnerabilities_advisory_id", "advisory_vulnerabilities", ["advisory_id"])
    op.create_index(
        "ix_advisory_vulnerabilities_ecosystem_package_key",
        "advisory_vulnerabilities",
        ["ecosystem", "package_key"],
    )
    op.create_table(
        "advisory_cwes",
        sa.Column("advisory_id", BigId, nullable=False),
        sa.Column("cwe_id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["advisory_id"],
            ["advisories.id"],
            name=op.f("fk_advisory_cwes_advisory_id_advisories"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("advisory_id", "cwe_id", name=op.f("pk_advisory_cwes")),
    )
    op.create_index("ix_advisory_cwes_cwe_id", "advisory_cwes", ["cwe_id"])


def downgrade() -> None:
    op.drop_index("ix_advisory_cwes_cwe_id", table_name="advisory_cwes")
    op.drop_table("advisory_cwes")
    op.drop_index("ix_advisory_vulnerabilities_ecosystem_package_key", table_name="advisory_vulnerabilities")
    op.drop_index("ix_advisory_vulnerabilities_advisory_id", table_name="advisory_vulnerabilities")
    op.drop_table("advisory_vulnerabilities")
    op.drop_index("ix_advisory_documents_ghsa_id", table_name="advisory_documents")
    op.drop_table("advisory_documents")
    op.drop_index("ix_advisories_type_severity", table_name="advisories")
    op.drop_index("ix_advisories_updated_at_id", table_name="advisories")
    op.drop_index("ix_advisories_published_at_id", table_name="advisories")
    op.drop_index("ix_advisories_cve_id", table_name="advisories")
    op.drop_table("advisories")
