"""Request and response shapes of artifact metadata, in GitHub's form (and the history extension)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Annotated, Any
from urllib.parse import urlsplit

import msgspec

from waybill.artifacts.types import (
    DeploymentRecord,
    DeploymentStatus,
    DigestDeployment,
    HistoryEntry,
    RecordFilter,
    Rejected,
    RuntimeRisk,
    StorageRecord,
    StorageStatus,
)
from waybill.core.clock import iso
from waybill.core.errors import FieldError, ValidationFailed
from waybill.core.types import Digest
from waybill.http.query import comma_values

DIGEST_PATTERN = "^sha256:[a-f0-9]{64}$"
DigestText = Annotated[str, msgspec.Meta(min_length=71, max_length=71, pattern=DIGEST_PATTERN)]
ArtifactName = Annotated[str, msgspec.Meta(min_length=1, max_length=256)]
LogicalEnvironment = Annotated[str, msgspec.Meta(min_length=1, max_length=128)]
PhysicalEnvironment = Annotated[str, msgspec.Meta(max_length=128)]
RepositoryName = Annotated[str, msgspec.Meta(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9.\-_]+$")]
RuntimeRisks = Annotated[list[RuntimeRisk], msgspec.Meta(max_length=4)]
CLUSTER_PATTERN = "^[a-zA-Z0-9._-]+$"
_CLUSTER = re.compile(r"[a-zA-Z0-9._-]+")

DEPLOYMENT_RESOURCE = "ArtifactDeploymentRecord"
CLUSTER_RESOURCE = "ClusterDeploymentRecords"
STORAGE_RESOURCE = "ArtifactStorageRecord"

# Optional fields also accept JSON null, which clients commonly send for "not given".


class DeploymentRecordBody(msgspec.Struct):
    """``orgs/create-artifact-deployment-record``."""

    name: ArtifactName
    digest: DigestText
    status: DeploymentStatus
    logical_environment: LogicalEnvironment
    # The schema sets no minLength here (the cluster variant does).
    deployment_name: Annotated[str, msgspec.Meta(max_length=256)]
    version: Annotated[str, msgspec.Meta(min_length=1, max_length=100)] | None = None
    physical_environment: PhysicalEnvironment | None = None
    cluster: Annotated[str, msgspec.Meta(max_length=128)] | None = None
    tags: Annotated[dict[str, str], msgspec.Meta(max_length=5)] | None = None
    runtime_risks: RuntimeRisks | None = None
    github_repository: RepositoryName | None = None
    return_records: bool = True


class ClusterDeployment(msgspec.Struct):
    """One entry of a cluster set or cluster job (no tag limit stated there)."""

    name: ArtifactName
    digest: DigestText
    deployment_name: Annotated[str, msgspec.Meta(min_length=1, max_length=256)]
    version: Annotated[str, msgspec.Meta(max_length=100)] | None = None
    status: DeploymentStatus = DeploymentStatus.DEPLOYED
    # The pattern's ``+`` makes the length at least 1 even though this schema states no minLength.
    github_repository: RepositoryName | None = None
    tags: dict[str, str] | None = None
    runtime_risks: RuntimeRisks | None = None


class ClusterSetBody(msgspec.Struct):
    """``orgs/set-cluster-deployment-records``."""

    logical_environment: LogicalEnvironment
    deployments: Annotated[list[ClusterDeployment], msgspec.Meta(max_length=1000)]
    physical_environment: PhysicalEnvironment | None = None
    partial_success: bool = False
    return_records: bool = True


class ClusterJobBody(msgspec.Struct):
    """``orgs/create-cluster-deployment-records-job``."""

    logical_environment: LogicalEnvironment
    deployments: Annotated[list[ClusterDeployment], msgspec.Meta(max_length=5000)]
    physical_environment: PhysicalEnvironment | None = None


class StorageRecordBody(msgspec.Struct):
    """``orgs/create-artifact-storage-record``."""

    name: ArtifactName
    digest: DigestText
    registry_url: Annotated[str, msgspec.Meta(min_length=1, max_length=256, pattern="^https://")]
    version: Annotated[str, msgspec.Meta(min_length=1, max_length=100)] | None = None
    artifact_url: Annotated[str, msgspec.Meta(max_length=152, pattern="^https://")] | None = None
    # ``format: uri`` in the schema, yet its own example is a relative path: only the length is kept.
    path: Annotated[str, msgspec.Meta(max_length=512)] | None = None
    repository: Annotated[str, msgspec.Meta(max_length=128)] | None = None
    status: StorageStatus = StorageStatus.ACTIVE
    github_repository: RepositoryName | None = None
    return_records: bool = True


# Checks JSON Schema states that msgspec does not (uniqueItems, format: uri, unique deployment names).


def _risks_errors(risks: Sequence[RuntimeRisk] | None, field: str, resource: str) -> list[FieldError]:
    if risks is None or len(set(risks)) == len(risks):
        return []
    return [FieldError(resource, field, "invalid", f"{field} must not contain duplicate items")]


def check_deployment(body: DeploymentRecordBody) -> None:
    errors = _risks_errors(body.runtime_risks, "runtime_risks", DEPLOYMENT_RESOURCE)
    if errors:
        raise ValidationFailed(errors)


def check_deployments(deployments: Sequence[ClusterDeployment]) -> None:
    """Every entry first, so that one 422 names every problem; nothing is written before this passes."""
    errors: list[FieldError] = []
    seen: set[str] = set()
    for index, entry in enumerate(deployments):
        prefix = f"deployments[{index}]"
        errors += _risks_errors(entry.runtime_risks, f"{prefix}.runtime_risks", CLUSTER_RESOURCE)
        if entry.deployment_name in seen:
            errors.append(
                FieldError(
                    CLUSTER_RESOURCE,
                    f"{prefix}.deployment_name",
                    "already_exists",
                    "deployment_name must be unique within deployments",
                    entry.deployment_name,
                    index,
                )
            )
        seen.add(entry.deployment_name)
    if errors:
        raise ValidationFailed(errors)


def _is_https_uri(value: str) -> bool:
    parts = urlsplit(value)
    return parts.scheme == "https" and bool(parts.hostname) and not any(c.isspace() for c in value)


def check_storage(body: StorageRecordBody) -> None:
    errors = [
        FieldError(STORAGE_RESOURCE, field, "invalid", f"{field} must be an https:// URI", value)
        for field, value in (("registry_url", body.registry_url), ("artifact_url", body.artifact_url))
        if value is not None and not _is_https_uri(value)
    ]
    if errors:
        raise ValidationFailed(errors)


def check_cluster(cluster: str) -> None:
    if not 1 <= len(cluster) <= 128 or not _CLUSTER.fullmatch(cluster):
        raise ValidationFailed.one(
            CLUSTER_RESOURCE,
            "cluster",
            "invalid",
            f"cluster must be 1 to 128 characters matching {CLUSTER_PATTERN}",
            cluster,
        )


def parse_digest(raw: str, field: str = "subject_digest") -> Digest:
    digest = Digest.sha256(raw)
    if digest is None:
        raise ValidationFailed.one(
            "Artifact",
            field,
            "invalid",
            f"{field} must be sha256: followed by 64 lowercase hex digits",
            raw,
        )
    return digest


# Responses.


def deployment_record(record: DeploymentRecord) -> dict[str, Any]:
    """``artifact-deployment-record``. A missing physical environment or cluster is stored and shown
    as the empty string: the schema types both as plain (non-nullable) strings."""
    return {
        "id": record.id,
        "digest": record.digest,
        "logical_environment": record.logical_environment,
        "physical_environment": record.physical_environment,
        "cluster": record.cluster,
        "deployment_name": record.deployment_name,
        "tags": record.tags,
        "runtime_risks": record.runtime_risks,
        "created_at": iso(record.created_at),
        "updated_at": iso(record.updated_at),
        "attestation_id": record.attestation_id,
    }


def deployment_list(records: Sequence[DeploymentRecord], return_records: bool = True) -> dict[str, Any]:
    body: dict[str, Any] = {"total_count": len(records)}
    if return_records:
        body["deployment_records"] = [deployment_record(r) for r in records]
    return body


def rejected(entry: Rejected) -> dict[str, Any]:
    """An entry of the 207 ``errors`` (and of the job's rejected deployments): the payload as given."""
    d = entry.deployment
    return {
        "cause": str(entry.cause),
        "deployment": {
            "name": d.name,
            "digest": d.digest,
            "deployment_name": d.deployment_name,
            "version": d.version,
            "status": str(d.status),
            "github_repository": d.github_repository,
            "tags": d.tags or {},
            "runtime_risks": [str(r) for r in d.runtime_risks or []],
        },
    }


def storage_record(record: StorageRecord, *, nullable: bool) -> dict[str, Any]:
    """A storage record. The create response marks ``artifact_url`` and ``repository`` nullable; the
    list response does not, so there an absent value is left out instead of sent as null."""
    body: dict[str, Any] = {
        "id": record.id,
        "name": record.name,
        "digest": record.digest,
        "artifact_url": record.artifact_url,
        "registry_url": record.registry_url,
        "repository": record.repository,
        "status": str(record.status),
        "created_at": iso(record.created_at),
        "updated_at": iso(record.updated_at),
    }
    if not nullable:
        body = {k: v for k, v in body.items() if v is not None}
    return body


def history_entry(entry: HistoryEntry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "deployment_record_id": entry.record_id,
        "change": str(entry.change),
        "recorded_at": iso(entry.recorded_at),
        "digest": entry.digest,
        "status": str(entry.status),
        "logical_environment": entry.logical_environment,
        "physical_environment": entry.physical_environment,
        "cluster": entry.cluster,
        "deployment_name": entry.deployment_name,
        "repository": entry.repository,
        "artifact": {"name": entry.artifact_name, "version": entry.artifact_version},
        "tags": entry.tags,
        "runtime_risks": entry.runtime_risks,
        "attestation_id": entry.attestation_id,
    }


def digest_deployment(entry: DigestDeployment) -> dict[str, Any]:
    record = entry.record
    return {
        "deployment_record_id": record.id,
        "logical_environment": record.logical_environment,
        "physical_environment": record.physical_environment,
        "cluster": record.cluster,
        "deployment_name": record.deployment_name,
        "first_deployed_at": iso(entry.first_deployed_at),
        "last_deployed_at": iso(entry.last_deployed_at),
        "currently_deployed": entry.currently_deployed,
        "current_digest": record.digest,
        "current_status": str(record.status),
    }


# The registries GitHub's organization alert lists filter by (``artifact_registry``).
REGISTRIES = ("jfrog-artifactory",)


def record_filter(params: Any, *, deployed: bool) -> RecordFilter:
    """The production-context filters of an organization's alert lists: ``artifact_registry_url``,
    ``artifact_registry``, ``runtime_risk``, and ``has=deployment`` (``deployed``)."""
    return RecordFilter(
        registry_urls=comma_values(params, "artifact_registry_url"),
        registries=comma_values(params, "artifact_registry", REGISTRIES),
        deployed=deployed,
        runtime_risks=tuple(RuntimeRisk(r) for r in comma_values(params, "runtime_risk", tuple(RuntimeRisk))),
    )
