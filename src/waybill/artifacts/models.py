"""Tables of this domain.

An artifact is identified by (repository, digest); storage and deployment records hang off that pair.
Deployment records are never deleted (decommissioning is a status), and every change to one is
appended to ``artifact_deployment_history`` and mirrored in ``artifact_deployment_risks`` (by trigger)
in the same statement or transaction.
"""

from sqlalchemy import Column, ForeignKey, Index, String, Table, UniqueConstraint

from waybill.core.models import BigId, Json, UTCDateTime, metadata

artifacts = Table(
    "artifacts",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("repository_id", BigId, ForeignKey("repositories.id", ondelete="CASCADE"), nullable=False),
    Column("digest", String(71), nullable=False),
    # The first writer names the artifact; later writers never rename it.
    Column("name", String(256), nullable=False),
    Column("version", String(100), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("repository_id", "digest", name="uq_artifacts_repository_id_digest"),
    # artifacts_0002: the linked artifacts page.
    Index("ix_artifacts_repository_id_id", "repository_id", "id"),
    Index("ix_artifacts_digest", "digest"),
)

storage_records = Table(
    "artifact_storage_records",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("org_id", BigId, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("repository_id", BigId, ForeignKey("repositories.id", ondelete="CASCADE"), nullable=False),
    Column("digest", String(71), nullable=False),
    Column("registry_url", String(256), nullable=False),
    # Empty when absent, so that the unique key below treats "no registry repository" as one value.
    Column("registry_repository", String(128), nullable=False),
    Column("artifact_url", String(152), nullable=True),
    Column("path", String(512), nullable=True),
    Column("version", String(100), nullable=True),
    Column("status", String(16), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    UniqueConstraint(
        "repository_id",
        "digest",
        "registry_url",
        "registry_repository",
        name="uq_artifact_storage_records_identity",
    ),
    Index("ix_artifact_storage_records_org_id_digest", "org_id", "digest"),
    # artifacts_0003: the registry filters. The organization's distinct registries are read by
    # skipping from one URL to the next; then whether a repository has records in a registry is one
    # probe, where the records' unique key (repository, digest, ...) would scan all of its records.
    Index("ix_artifact_storage_records_registries", "org_id", "registry_url", "repository_id"),
)

deployment_records = Table(
    "artifact_deployment_records",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("org_id", BigId, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("repository_id", BigId, ForeignKey("repositories.id", ondelete="CASCADE"), nullable=False),
    Column("digest", String(71), nullable=False),
    Column("logical_environment", String(128), nullable=False),
    # Empty when absent: NULLs are distinct in a unique key, and the key must hold without them.
    Column("physical_environment", String(128), nullable=False),
    Column("cluster", String(128), nullable=False),
    Column("deployment_name", String(256), nullable=False),
    Column("status", String(16), nullable=False),
    Column("tags", Json, nullable=False),
    Column("runtime_risks", Json, nullable=False),
    Column("attestation_id", BigId, nullable=True),
    # What the latest upsert changed (a ``Change``), or NULL when it changed nothing: computed by the
    # upsert itself from the row it locked, so concurrent writers each see their own predecessor.
    Column("last_change", String(16), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    UniqueConstraint(
        "org_id",
        "logical_environment",
        "physical_environment",
        "cluster",
        "deployment_name",
        name="uq_artifact_deployment_records_identity",
    ),
    Index("ix_artifact_deployment_records_org_id_digest", "org_id", "digest"),
    Index("ix_artifact_deployment_records_org_id_cluster", "org_id", "cluster"),
    Index("ix_artifact_deployment_records_org_id_physical_environment", "org_id", "physical_environment"),
    # Covers the environments page's count of what is deployed where, and the logical environment
    # filter of the linked artifacts page. Status after the places: an index led by (org_id, status)
    # would tempt SQLite into reading nearly every record through it.
    Index(
        "ix_artifact_deployment_records_places",
        "org_id",
        "logical_environment",
        "physical_environment",
        "cluster",
        "status",
        "repository_id",
        "digest",
    ),
    # artifacts_0003: whether a repository has anything deployed is one probe (the alert filter
    # has=deployment); it also serves the cascade when a repository is deleted.
    Index("ix_artifact_deployment_records_repository_id_status", "repository_id", "status"),
)

# The runtime risks of the records deployed now, one row per record and risk, with the record's
# artifact copied beside it: the runtime-risk filters then read an index range, where the records'
# JSON arrays would have to be read and searched one by one. Rewritten for a record by a trigger
# whenever an upsert changes it (migration ``artifacts_0004``); a decommissioned record has no rows.
deployment_risks = Table(
    "artifact_deployment_risks",
    metadata,
    Column(
        "record_id",
        BigId,
        ForeignKey("artifact_deployment_records.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("risk", String(32), primary_key=True),
    Column("org_id", BigId, nullable=False),
    Column("repository_id", BigId, nullable=False),
    Column("digest", String(71), nullable=False),
    # The linked artifacts page (risk -> artifacts) and the alert filter (is a risk deployed in
    # this repository) read it alone.
    Index("ix_artifact_deployment_risks_places", "org_id", "risk", "repository_id", "digest"),
)

deployment_history = Table(
    "artifact_deployment_history",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column(
        "record_id",
        BigId,
        ForeignKey("artifact_deployment_records.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("org_id", BigId, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("repository_id", BigId, ForeignKey("repositories.id", ondelete="CASCADE"), nullable=False),
    Column("change", String(16), nullable=False),
    Column("digest", String(71), nullable=False),
    Column("status", String(16), nullable=False),
    Column("tags", Json, nullable=False),
    Column("runtime_risks", Json, nullable=False),
    Column("attestation_id", BigId, nullable=True),
    Column("recorded_at", UTCDateTime, nullable=False),
    Index("ix_artifact_deployment_history_record_id_id", "record_id", "id"),
    Index("ix_artifact_deployment_history_org_id_digest", "org_id", "digest"),
    Index("ix_artifact_deployment_history_org_id_recorded_at", "org_id", "recorded_at"),
)
