"""Tables of this domain.

An attestation row is small and is what lists read; the bundle (3-40 KB, snappy-compressed) lives in
its own table so that a list that does not show bundles never reads them. Every subject digest of
the in-toto statement is indexed in ``attestation_subjects`` as ``alg:hex``.
"""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Index, LargeBinary, String, Table, UniqueConstraint

from waybill.core.models import BigId, UTCDateTime, metadata

attestations = Table(
    "attestations",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("repository_id", BigId, ForeignKey("repositories.id", ondelete="CASCADE"), nullable=False),
    Column("predicate_type", String(1024), nullable=False),
    Column("media_type", String(64), nullable=False),
    # SHA-256 of the bundle's canonical JSON: the same bundle posted twice is one attestation.
    Column("bundle_hash", String(64), nullable=False),
    Column("initiator", String(32), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("repository_id", "bundle_hash"),
)

attestation_bundles = Table(
    "attestation_bundles",
    metadata,
    Column("attestation_id", BigId, ForeignKey("attestations.id", ondelete="CASCADE"), primary_key=True),
    # The bundle as received, snappy block format: what GitHub's bundle_url serves.
    Column("data", LargeBinary, nullable=False),
)

attestation_subjects = Table(
    "attestation_subjects",
    metadata,
    Column("digest", String(600), primary_key=True),
    Column("attestation_id", BigId, ForeignKey("attestations.id", ondelete="CASCADE"), primary_key=True),
    Index("ix_attestation_subjects_attestation_id", "attestation_id"),
)
