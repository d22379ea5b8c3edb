"""Tables of the advisory database.

Two levels: ``advisory_documents`` keeps every imported OSV record as it came (one per OSV id), and
``advisories`` is GitHub's view of them, one per GHSA id: several OSV records naming the same GHSA
alias (PyPA lists one GHSA under tensorflow, tensorflow-cpu and tensorflow-gpu) are one advisory
whose vulnerabilities are the union of theirs.
"""

from __future__ import annotations

from sqlalchemy import (
    Column,
    Float,
    ForeignKey,
    Index,
    String,
    Table,
    Text,
)

from waybill.core.models import BigId, Json, UTCDateTime, metadata

advisory_documents = Table(
    "advisory_documents",
    metadata,
    Column("osv_id", String(128), primary_key=True),
    Column("ghsa_id", String(128), nullable=False),
    Column("modified_at", UTCDateTime, nullable=False),
    Column("withdrawn_at", UTCDateTime, nullable=True),
    Column("content_hash", String(64), nullable=False),
    Column("document", Json, nullable=False),
    Column("imported_at", UTCDateTime, nullable=False),
    Index("ix_advisory_documents_ghsa_id", "ghsa_id"),
)

advisories = Table(
    "advisories",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("ghsa_id", String(128), nullable=False, unique=True),
    Column("cve_id", String(64), nullable=True),
    Column("type", String(16), nullable=False),
    Column("severity", String(16), nullable=False),
    Column("summary", Text, nullable=False),
    Column("description", Text, nullable=True),
    Column("source_code_location", Text, nullable=True),
    Column("identifiers", Json, nullable=False),
    Column("reference_urls", Json, nullable=False),
    Column("cwes", Json, nullable=False),
    Column("cvss_v3_vector", String(255), nullable=True),
    Column("cvss_v3_score", Float, nullable=True),
    Column("cvss_v4_vector", String(255), nullable=True),
    Column("cvss_v4_score", Float, nullable=True),
    Column("epss_percentage", Float, nullable=True),
    Column("epss_percentile", Float, nullable=True),
    Column("published_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("github_reviewed_at", UTCDateTime, nullable=True),
    Column("nvd_published_at", UTCDateTime, nullable=True),
    Column("withdrawn_at", UTCDateTime, nullable=True),
    Index("ix_advisories_cve_id", "cve_id"),
    Index("ix_advisories_published_at_id", "published_at", "id"),
    Index("ix_advisories_updated_at_id", "updated_at", "id"),
    Index("ix_advisories_type_severity", "type", "severity"),
)

advisory_vulnerabilities = Table(
    "advisory_vulnerabilities",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column(
        "advisory_id",
        BigId,
        ForeignKey("advisories.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("osv_id", String(128), nullable=False),
    Column("ecosystem", String(16), nullable=False),
    Column("package_name", String(512), nullable=False),
    # The name as each registry compares names (PEP 503 for PyPI...): what matching looks up.
    Column("package_key", String(512), nullable=False),
    # OSV ranges with version events only (ECOSYSTEM, SEMVER), and the explicit ``versions`` list.
    Column("ranges", Json, nullable=False),
    Column("versions", Json, nullable=False),
    Column("vulnerable_functions", Json, nullable=False),
    Index("ix_advisory_vulnerabilities_advisory_id", "advisory_id"),
    Index("ix_advisory_vulnerabilities_ecosystem_package_key", "ecosystem", "package_key"),
)

advisory_cwes = Table(
    "advisory_cwes",
    metadata,
    Column("advisory_id", BigId, ForeignKey("advisories.id", ondelete="CASCADE"), primary_key=True),
    Column("cwe_id", String(32), primary_key=True),
    Index("ix_advisory_cwes_cwe_id", "cwe_id"),
)
