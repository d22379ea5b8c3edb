"""Values of the attestations domain: its verification rules, shared with the CLI and other domains,
and the attestations its lists show."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

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
