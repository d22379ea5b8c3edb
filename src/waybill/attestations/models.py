"""Tables of this domain.

An attestation row is small and is what lists read; the bundle (3-40 KB, snappy-compressed) lives in
its own table so that a list that does not show bundles never reads them. Every subject digest of
the in-toto statement is indexed in ``attestation_subjects`` as ``alg:hex``.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from waybill.core.models import BigId, Json, UTCDateTime, metadata

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
    # When a verification of the bundle was queued (policy ``record``; migration ``verification_0002``):
    # with no verdict stored yet, the attestation is pending rather than unchecked. Cleared as the
    # queued verdict is stored.
    Column("verification_queued_at", UTCDateTime, nullable=True),
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

# Verification (extends the domain; migration ``verification_0001``).

# The verdict of the newest check of an attestation's bundle, and the identity in its certificate. No
# row: not checked yet (``attestations.verification_queued_at`` set) or never (the policy was ``off``
# when it was stored). ``verified`` is the cryptographic
# verdict held to the repository's identity rules (source repository, allowed workflows).
attestation_verifications = Table(
    "attestation_verifications",
    metadata,
    Column("attestation_id", BigId, ForeignKey("attestations.id", ondelete="CASCADE"), primary_key=True),
    Column("verified", Boolean, nullable=False),
    Column("failed_step", String(64), nullable=True),
    Column("reason", Text, nullable=True),
    Column("trust_root", String(255), nullable=True),
    Column("time_source", String(64), nullable=True),
    # The trusted signing time (transparency log or RFC 3161 timestamp).
    Column("signed_at", UTCDateTime, nullable=True),
    Column("san", String(1024), nullable=True),
    Column("issuer", String(1024), nullable=True),
    Column("source_repository_uri", String(1024), nullable=True),
    Column("build_signer_uri", String(1024), nullable=True),
    # Every identity field the certificate carries (Fulcio's extensions), and the verified times and
    # log entries: shown, never queried.
    Column("identity", Json, nullable=False),
    Column("details", Json, nullable=False),
    Column("checked_at", UTCDateTime, nullable=False),
)

# Verification policies set by the operator. A repository's policy replaces its owner's whole; with
# neither, the mode is ``record``.
attestation_owner_policies = Table(
    "attestation_owner_policies",
    metadata,
    Column("account_id", BigId, ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True),
    Column("mode", String(16), nullable=False),
    Column("allowed_workflows", Json, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

attestation_repository_policies = Table(
    "attestation_repository_policies",
    metadata,
    Column("repository_id", BigId, ForeignKey("repositories.id", ondelete="CASCADE"), primary_key=True),
    Column("mode", String(16), nullable=False),
    Column("allowed_workflows", Json, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)
