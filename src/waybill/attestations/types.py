"""Values of the attestations domain: its verification rules, shared with the CLI and other domains,
and the attestations its lists and pages show."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from waybill.attestations.verification import Step, TimeSource


class Mode(StrEnum):
    """What happens to a bundle posted to a repository."""

    # Stored unchecked: no verdict.
    OFF = "off"
    # Verified and the verdict stored; stored whatever the verdict.
    RECORD = "record"
    # Verified; refused (422) unless it verifies and its signer is the repository (and an allowed
    # workflow, when the policy lists some).
    ENFORCE = "enforce"


DEFAULT_MODE = Mode.RECORD


class PolicySource(StrEnum):
    REPOSITORY = "repository"
    OWNER = "owner"
    DEFAULT = "default"


@dataclass(frozen=True)
class Policy:
    mode: Mode
    # Workflow URIs (``https://github.com/OWNER/REPO/.github/workflows/F.yml``, optionally ``@REF``);
    # empty: any workflow of the repository may sign.
    allowed_workflows: tuple[str, ...] = ()
    source: PolicySource = PolicySource.DEFAULT


DEFAULT_POLICY = Policy(DEFAULT_MODE)


@dataclass(frozen=True)
class StoredAttestation:
    """An attestation as a list shows it."""

    id: int
    repository_id: int
    initiator: str
    # As stored (snappy-compressed); None unless the list carries bundles.
    compressed_bundle: bytes | None


@dataclass(frozen=True)
class VerificationState:
    """Where an attestation's verification stands: the verdict of its newest check (``checked_id`` and
    the verdict None when it has none), and when a check was queued, if one is."""

    checked_id: int | None
    verified: bool | None
    failed_step: Step | None
    reason: str | None
    trust_root: str | None
    time_source: TimeSource | None
    signed_at: datetime | None
    san: str | None
    issuer: str | None
    source_repository_uri: str | None
    build_signer_uri: str | None
    checked_at: datetime | None
    verification_queued_at: datetime | None


@dataclass(frozen=True)
class AttestationVerification:
    """An attestation as the verified list shows it, with its verification."""

    id: int
    repository_id: int
    initiator: str
    predicate_type: str
    created_at: datetime
    verification: VerificationState


@dataclass(frozen=True)
class VerificationDetail:
    """An attestation with its verification, as its ``/verification`` and its page show it: once
    checked, also every identity field the certificate carried and the verified times and log
    entries (empty when never checked)."""

    attestation: AttestationVerification
    identity: dict[str, Any]
    details: dict[str, Any]


@dataclass(frozen=True)
class StoredVerdict:
    """The newest check of an attestation, as stored: the verdict and the signer's identity."""

    verified: bool
    failed_step: str | None
    reason: str | None
    signed_at: datetime | None
    checked_at: datetime
    # Every identity field the certificate carried (``SignerIdentity``'s names).
    identity: dict[str, Any]


@dataclass(frozen=True)
class DigestAttestation:
    """One of the newest attestations naming a digest, with its bundle as stored (snappy-compressed)
    and its verdict (None when it was not checked, yet when ``verification_queued_at`` is set)."""

    id: int
    repository_id: int
    predicate_type: str
    created_at: datetime
    compressed_bundle: bytes
    verdict: StoredVerdict | None
    verification_queued_at: datetime | None


@dataclass(frozen=True)
class OwnedAttestation:
    """One of an owner's attestations, with the repository it is stored in."""

    id: int
    repository_id: int


@dataclass(frozen=True)
class SubjectAttestation(OwnedAttestation):
    """An attestation found by one of its subject digests."""

    digest: str


@dataclass(frozen=True)
class SubjectVerdict:
    """An attestation found by one of its subject digests, with its verdict: ``verified`` None when
    it was not checked (yet, when ``verification_queued_at`` is set)."""

    digest: str
    id: int
    verified: bool | None
    verification_queued_at: datetime | None


@dataclass(frozen=True)
class BundleToVerify:
    """An attestation to verify: its bundle as stored (snappy-compressed), what its policy is looked
    up by, and the repository (``owner_login/repository_name``) its signer must be."""

    id: int
    repository_id: int
    owner_id: int
    owner_login: str
    repository_name: str
    data: bytes
