"""Tables of this domain.

Packages are shared rows keyed by their canonical package URL, so the many repositories that depend
on one package point at one row. A snapshot is kept whole (its manifests and their resolved
packages) so the graph at any submitted commit can be rebuilt; ``dependency_heads`` says which
snapshot is the latest for each (correlator, detector) pair on a repository's default branch: the
union of those is the repository's current graph.
"""

from __future__ import annotations

from sqlalchemy import (
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
)

from waybill.core.models import BigId, Json, UTCDateTime, metadata

dependency_packages = Table(
    "dependency_packages",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("purl", Text, nullable=False, unique=True),
    Column("type", String(64), nullable=False),
    Column("namespace", Text, nullable=True),
    Column("name", Text, nullable=False),
    Column("version", Text, nullable=True),
    # The package URL without version, qualifiers or subpath: "which repositories use this package".
    Column("base", Text, nullable=False),
    Index("ix_dependency_packages_base_version", "base", "version"),
)

dependency_snapshots = Table(
    "dependency_snapshots",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("repository_id", BigId, ForeignKey("repositories.id", ondelete="CASCADE"), nullable=False),
    Column("sha", String(64), nullable=False),
    Column("ref", Text, nullable=False),
    Column("version", Integer, nullable=False),
    Column("job_id", Text, nullable=False),
    Column("correlator", Text, nullable=False),
    Column("job_html_url", Text, nullable=True),
    Column("detector_name", Text, nullable=False),
    Column("detector_version", Text, nullable=False),
    Column("detector_url", Text, nullable=False),
    Column("metadata", Json, nullable=True),
    Column("scanned", UTCDateTime, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_dependency_snapshots_repository_id_sha", "repository_id", "sha"),
    Index("ix_dependency_snapshots_repository_id_ref", "repository_id", "ref"),
)

dependency_manifests = Table(
    "dependency_manifests",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("snapshot_id", BigId, ForeignKey("dependency_snapshots.id", ondelete="CASCADE"), nullable=False),
    Column("key", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("source_location", Text, nullable=True),
    Column("metadata", Json, nullable=True),
    Index("ix_dependency_manifests_snapshot_id", "snapshot_id"),
)

# One row per package of a manifest: how the manifest uses it, and the packages it depends on
# (``depends_on``: ids of dependency_packages), kept per manifest because the same package can be
# direct in one manifest and indirect in another. On PostgreSQL its two references are checked by
# triggers once per statement rather than by foreign keys row by row (``dependencies_0002``).
dependency_resolved = Table(
    "dependency_resolved",
    metadata,
    Column("manifest_id", BigId, ForeignKey("dependency_manifests.id", ondelete="CASCADE"), primary_key=True),
    Column("package_id", BigId, ForeignKey("dependency_packages.id"), primary_key=True),
    Column("key", Text, nullable=False),
    Column("relationship", String(16), nullable=True),
    Column("scope", String(16), nullable=True),
    Column("metadata", Json, nullable=True),
    Column("depends_on", Json, nullable=True),
    Index("ix_dependency_resolved_package_id", "package_id"),
    info={"postgresql_references_by_trigger": True},
)

dependency_heads = Table(
    "dependency_heads",
    metadata,
    Column("repository_id", BigId, ForeignKey("repositories.id", ondelete="CASCADE"), primary_key=True),
    Column("correlator", Text, primary_key=True),
    Column("detector_name", Text, primary_key=True),
    Column("snapshot_id", BigId, ForeignKey("dependency_snapshots.id", ondelete="CASCADE"), nullable=False),
    Column("scanned", UTCDateTime, nullable=False),
    Index("ix_dependency_heads_snapshot_id", "snapshot_id"),
)

dependency_sbom_reports = Table(
    "dependency_sbom_reports",
    metadata,
    Column("uuid", String(36), primary_key=True),
    Column("repository_id", BigId, ForeignKey("repositories.id", ondelete="CASCADE"), nullable=False),
    # The SPDX JSON, zstd-compressed; null until the worker has built it.
    Column("document", LargeBinary, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("completed_at", UTCDateTime, nullable=True),
    Index("ix_dependency_sbom_reports_created_at", "created_at"),
)
