"""Tables of this domain: an organization's policy per logical environment, and every decision."""

from sqlalchemy import Boolean, Column, ForeignKey, Index, String, Table

from waybill.core.models import BigId, Json, UTCDateTime, metadata

admission_policies = Table(
    "admission_policies",
    metadata,
    Column("org_id", BigId, ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True),
    Column("environment", String(128), primary_key=True),
    # An ``EnvironmentPolicy`` as JSON: read whole, never queried by its fields.
    Column("policy", Json, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

admission_decisions = Table(
    "admission_decisions",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("org_id", BigId, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("environment", String(128), nullable=False),
    Column("entry", String(16), nullable=False),
    Column("namespace", String(253), nullable=True),
    Column("workload", String(512), nullable=True),
    Column("operation", String(16), nullable=True),
    Column("mode", String(16), nullable=True),
    Column("verdict", String(16), nullable=False),
    Column("allowed", Boolean, nullable=False),
    # Per image: reference, container, digest, passed, reasons.
    Column("images", Json, nullable=False),
    Column("reasons", Json, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    # The list reads newest first within an organization, optionally within one environment.
    Index("ix_admission_decisions_org_id_id", "org_id", "id"),
    Index("ix_admission_decisions_org_id_environment_id", "org_id", "environment", "id"),
)
