"""Values of the admission gate: policies, the images asked about, and what was decided."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class Mode(StrEnum):
    # Answer allowed whatever the verdict; what would be refused comes back as warnings.
    AUDIT = "audit"
    # Refuse what the policy forbids.
    ENFORCE = "enforce"


class Verdict(StrEnum):
    ALLOWED = "allowed"
    DENIED = "denied"
    # Audit mode: would have been denied, answered allowed.
    WARNED = "warned"


class Entry(StrEnum):
    KUBERNETES = "kubernetes"
    GATEKEEPER = "gatekeeper"
    CHECK = "check"


# Lowest first: a limit allows its own level and those below it.
SEVERITIES = ("low", "medium", "high", "critical")


def severities_above(limit: str) -> tuple[str, ...]:
    return SEVERITIES[SEVERITIES.index(limit) + 1 :]


@dataclass(frozen=True)
class EnvironmentPolicy:
    mode: Mode = Mode.AUDIT
    require_provenance: bool = False
    repositories: tuple[str, ...] = ()
    workflows: tuple[str, ...] = ()
    refs: tuple[str, ...] = ()
    max_open_alert_severity: str | None = None
    only_alerts_with_patch: bool = False
    registries: tuple[str, ...] = ()
    exempt_images: tuple[str, ...] = ()
    exempt_namespaces: tuple[str, ...] = ()

    def as_json(self) -> dict[str, Any]:
        return {
            "mode": str(self.mode),
            "require_provenance": self.require_provenance,
            "repositories": list(self.repositories),
            "workflows": list(self.workflows),
            "refs": list(self.refs),
            "max_open_alert_severity": self.max_open_alert_severity,
            "only_alerts_with_patch": self.only_alerts_with_patch,
            "registries": list(self.registries),
            "exempt_images": list(self.exempt_images),
            "exempt_namespaces": list(self.exempt_namespaces),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> EnvironmentPolicy:
        return cls(
            mode=Mode(data["mode"]),
            require_provenance=bool(data["require_provenance"]),
            repositories=tuple(data["repositories"]),
            workflows=tuple(data["workflows"]),
            refs=tuple(data["refs"]),
            max_open_alert_severity=data["max_open_alert_severity"],
            only_alerts_with_patch=bool(data["only_alerts_with_patch"]),
            registries=tuple(data["registries"]),
            exempt_images=tuple(data["exempt_images"]),
            exempt_namespaces=tuple(data["exempt_namespaces"]),
        )


_DIGEST = re.compile(r"@(sha256:[0-9a-f]{64})$")


@dataclass(frozen=True)
class Image:
    """An image reference as a workload names it, and the container naming it (None outside
    Kubernetes)."""

    reference: str
    container: str | None = None

    @property
    def digest(self) -> str | None:
        """The pinned ``sha256:`` digest; None for a reference by tag only."""
        match = _DIGEST.search(self.reference.strip().lower())
        return match.group(1) if match else None


@dataclass(frozen=True)
class Request:
    """What is asked: images of one workload (or a bare list) in an environment."""

    environment: str
    images: tuple[Image, ...]
    entry: Entry
    namespace: str | None = None
    workload: str | None = None
    operation: str | None = None
    dry_run: bool = False


@dataclass(frozen=True)
class ImageDecision:
    image: Image
    digest: str | None
    # Whether the policy lets it run (in audit mode the answer may allow it all the same).
    passed: bool
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class Decision:
    allowed: bool
    verdict: Verdict
    mode: Mode | None
    images: tuple[ImageDecision, ...]
    warnings: tuple[str, ...] = ()
    # Reasons about the whole request, not one image (an exempt namespace, no policy).
    notes: tuple[str, ...] = ()

    @property
    def reasons(self) -> list[str]:
        out = list(self.notes)
        for item in self.images:
            where = (
                f"container {item.image.container} ({item.image.reference})"
                if item.image.container
                else item.image.reference
            )
            out.extend(f"{where}: {reason}" for reason in item.reasons if not item.passed)
        return out


@dataclass(frozen=True)
class SignedProvenance:
    """A provenance attestation of a digest, with its stored verdict (None: never checked) and the
    identity its certificate names."""

    attestation_id: int
    repository_id: int
    verified: bool | None
    build_signer_uri: str | None
    source_repository_ref: str | None


@dataclass(frozen=True)
class OpenAlert:
    number: int
    ghsa_id: str
    severity: str
    package_name: str


@dataclass(frozen=True)
class RepositoryName:
    name: str
    full_name: str


@dataclass(frozen=True)
class StoredDecision:
    id: int
    created_at: datetime
    environment: str
    entry: str
    namespace: str | None
    workload: str | None
    operation: str | None
    mode: str | None
    verdict: str
    allowed: bool
    images: list[dict[str, Any]]
    reasons: list[str]
    deployment: dict[str, Any] | None = None


@dataclass(frozen=True)
class DecisionFilter:
    environment: str | None = None
    verdict: Verdict | None = None
    namespace: str | None = None
    since: datetime | None = None
    digests: tuple[str, ...] = field(default=())
