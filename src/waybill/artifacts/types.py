"""Values of the artifact metadata domain."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from waybill.core.types import Digest

if TYPE_CHECKING:
    from waybill.artifacts.schemas import ClusterDeployment


class DeploymentStatus(StrEnum):
    DEPLOYED = "deployed"
    DECOMMISSIONED = "decommissioned"


class StorageStatus(StrEnum):
    ACTIVE = "active"
    EOL = "eol"
    DELETED = "deleted"


class RuntimeRisk(StrEnum):
    CRITICAL_RESOURCE = "critical-resource"
    INTERNET_EXPOSED = "internet-exposed"
    LATERAL_MOVEMENT = "lateral-movement"
    SENSITIVE_DATA = "sensitive-data"


class Change(StrEnum):
    """What one write did to a deployment record, as kept in its history."""

    CREATED = "created"
    DECOMMISSIONED = "decommissioned"
    DIGEST_CHANGED = "digest_changed"
    STATUS_CHANGED = "status_changed"
    # Tags, runtime risks, repository or attestation changed; digest and status did not.
    UPDATED = "updated"


class Cause(StrEnum):
    """Why a cluster entry was not written (the 207 and job ``errors``)."""

    UNAUTHORIZED = "unauthorized"
    NOT_FOUND = "not_found"


@dataclass(frozen=True)
class Rejected:
    cause: Cause
    deployment: ClusterDeployment
    # What the caller may be told about the repository: the name they gave, or the full name of one
    # they can see.
    repository: str


@dataclass(frozen=True)
class DeploymentRecord:
    id: int
    org_id: int
    repository_id: int
    digest: str
    logical_environment: str
    physical_environment: str
    cluster: str
    deployment_name: str
    status: DeploymentStatus
    tags: dict[str, str]
    runtime_risks: list[str]
    attestation_id: int | None
    last_change: Change | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class StorageRecord:
    id: int
    name: str
    digest: str
    artifact_url: str | None
    registry_url: str
    repository: str | None
    status: StorageStatus
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class HistoryEntry:
    id: int
    record_id: int
    change: Change
    recorded_at: datetime
    digest: str
    status: DeploymentStatus
    logical_environment: str
    physical_environment: str
    cluster: str
    deployment_name: str
    repository: str
    artifact_name: str | None
    artifact_version: str | None
    tags: dict[str, str]
    runtime_risks: list[str]
    attestation_id: int | None


@dataclass(frozen=True)
class DigestDeployment:
    """One deployment record where a digest was deployed at some time."""

    record: DeploymentRecord
    first_deployed_at: datetime
    last_deployed_at: datetime
    currently_deployed: bool


@dataclass(frozen=True)
class EnvironmentDeployment:
    """A digest's deployment in one logical environment, as one history entry recorded it."""

    digest: str
    record_id: int
    deployment_name: str
    cluster: str
    recorded_at: datetime


@dataclass(frozen=True)
class HistoryFilter:
    logical_environment: str | None = None
    physical_environment: str | None = None
    cluster: str | None = None
    deployment_name: str | None = None
    digest: Digest | None = None
    status: DeploymentStatus | None = None
    # The state of each record at this time, instead of every change.
    at: datetime | None = None
    # Changes recorded after ``since`` and at or before ``until``.
    since: datetime | None = None
    until: datetime | None = None
    # Only these deployment records (None: every record).
    record_ids: tuple[int, ...] | None = None


@dataclass(frozen=True)
class ArtifactFilter:
    """The linked artifacts page's filters; every one given must hold."""

    repository_id: int | None = None
    # Matches a current deployment's logical or physical environment.
    environment: str | None = None
    cluster: str | None = None
    registry_url: str | None = None
    runtime_risk: RuntimeRisk | None = None
    # A digest (``sha256:`` and at least a few hex digits) matches by prefix; anything else is a
    # case-insensitive part of the name.
    search: str | None = None


@dataclass(frozen=True)
class LinkedArtifact:
    """One artifact of an organization with where it is stored and deployed now."""

    id: int
    repository_id: int
    digest: str
    name: str
    # The newest storage record's version, else the version the artifact was first written with.
    version: str | None
    created_at: datetime
    storage: list[StorageRecord]
    deployments: list[DeploymentRecord]

    @property
    def runtime_risks(self) -> list[str]:
        return sorted({risk for d in self.deployments for risk in d.runtime_risks})


@dataclass(frozen=True)
class EnvironmentSummary:
    """What is deployed now in one logical environment, physical environment and cluster."""

    logical_environment: str
    physical_environment: str
    cluster: str
    deployments: int


@dataclass(frozen=True)
class BuiltBy:
    """What one repository built (attestation subjects and storage records) and where it runs now."""

    digests: int
    deployments: int
    # Exposure (1 plus the weights of a deployment's runtime risks) of its most exposed deployment,
    # and summed over its deployments; 0 when nothing runs.
    highest: int
    score: int
    risks: tuple[str, ...]
    # The highest exposure among its digests not shown one by one; -1 when all of them are shown.
    folded_highest: int


@dataclass(frozen=True)
class Running:
    logical_environment: str
    cluster: str
    exposure: int


@dataclass(frozen=True)
class ShownArtifact:
    digest: str
    attested: bool
    names: tuple[str, ...]
    repository_ids: tuple[int, ...]
    running: tuple[Running, ...]
    highest: int


@dataclass(frozen=True)
class Place:
    logical_environment: str
    cluster: str
    deployments: int
    highest: int
    # As ``BuiltBy.folded_highest``, over the deployments here of the digests not shown.
    folded_highest: int


@dataclass(frozen=True)
class Footprint:
    """Where the artifacts of some repositories run now, counted in SQL: the most exposed digests one
    by one, every other digest only in the counts."""

    repositories: dict[int, BuiltBy]
    artifacts: list[ShownArtifact]
    artifact_count: int
    places: list[Place]


@dataclass(frozen=True)
class RecordFilter:
    """Which repositories of an organization count: each given condition must hold (GitHub's org
    alert filters ``artifact_registry_url``, ``artifact_registry``, ``has=deployment`` and
    ``runtime_risk``). Storage records marked deleted and decommissioned deployments do not count."""

    registry_urls: tuple[str, ...] = ()
    registries: tuple[str, ...] = ()
    deployed: bool = False
    runtime_risks: tuple[RuntimeRisk, ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.registry_urls or self.registries or self.deployed or self.runtime_risks)
