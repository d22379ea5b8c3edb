"""Blast radius (a Waybill extension, under ``/waybill/``): from an advisory or a package URL to
the repositories whose current graph holds the vulnerable package (or from a code scanning rule,
``TOOL/RULE_ID``, to the repositories with open alerts of it), the artifact digests those
repositories built (attestation subjects and storage records), and the deployment records running
those digests now, ranked by exposure.

Exposure of a deployment: 1, plus 16 when internet-exposed, 8 for a critical resource, 4 for
sensitive data, 2 for lateral movement. A repository ranks by its most exposed deployment, then by
the sum over its deployments, then by the number of digests it built; repositories with nothing
deployed come last.

Visibility: only repositories whose alerts (Dependabot's, or code scanning's for a rule) the caller
may read are listed (the rule of the alert endpoints), and only the storage and deployment records
the caller may read are shown.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from waybill.accounts import service as accounts
from waybill.accounts.types import Repository
from waybill.advisories import service as advisories
from waybill.advisories.ecosystems import Ecosystem, purl_of
from waybill.advisories.matching import MatchIndex
from waybill.alerts import access, lifecycle
from waybill.artifacts import service as artifacts
from waybill.artifacts.types import BuiltBy, DeploymentRecord, Footprint, RuntimeRisk, StorageRecord
from waybill.attestations import service as attestations
from waybill.auth.types import Principal
from waybill.codescanning import access as code_scanning_access
from waybill.codescanning import service as code_scanning
from waybill.core.clock import iso
from waybill.core.errors import FieldError, ValidationFailed
from waybill.dependencies import service as dependencies
from waybill.dependencies.types import Dependency, Dependent

# Each weight is a bit of its own: the SQL of ``overview`` reads a deployment's risks back from the
# sum of their weights.
RISK_WEIGHTS = {
    RuntimeRisk.INTERNET_EXPOSED: 16,
    RuntimeRisk.CRITICAL_RESOURCE: 8,
    RuntimeRisk.SENSITIVE_DATA: 4,
    RuntimeRisk.LATERAL_MOVEMENT: 2,
}


@dataclass(frozen=True)
class Target:
    advisory: str | None = None
    package_url: str | None = None
    # (tool name, rule id): ``TOOL/RULE_ID``, split at the first ``/`` (rule ids hold slashes).
    code_scanning_rule: tuple[str, str] | None = None


def target(params: Any) -> Target:
    advisory = (params.get("advisory") or "").strip() or None
    package_url = (params.get("package_url") or "").strip() or None
    rule = (params.get("code_scanning_rule") or "").strip() or None
    if sum(value is not None for value in (advisory, package_url, rule)) != 1:
        message = "give exactly one of advisory, package_url or code_scanning_rule"
        raise ValidationFailed([FieldError("BlastRadius", "advisory", "missing", message)])
    if rule is None:
        return Target(advisory, package_url)
    tool, _, rule_id = rule.partition("/")
    if not tool or not rule_id:
        raise ValidationFailed(
            [FieldError("BlastRadius", "code_scanning_rule", "invalid", "code_scanning_rule is TOOL/RULE_ID")]
        )
    return Target(code_scanning_rule=(tool, rule_id))


# By the values records store: the SQL of ``overview`` weighs the same.
WEIGHTS = {risk.value: weight for risk, weight in RISK_WEIGHTS.items()}


def exposure(record: DeploymentRecord) -> int:
    return 1 + sum(WEIGHTS.get(risk, 0) for risk in record.runtime_risks)


@dataclass
class Artifact:
    digest: str
    attested: bool = False
    storage: list[StorageRecord] = field(default_factory=list)
    deployments: list[DeploymentRecord] = field(default_factory=list)


@dataclass
class Exposed:
    repository: Repository
    dependencies: list[tuple[Dependency, list[str]]] = field(default_factory=list)
    artifacts: dict[str, Artifact] = field(default_factory=dict)
    # Open code scanning alerts of the rule asked for.
    code_scanning_alerts: int = 0

    @property
    def deployments(self) -> list[DeploymentRecord]:
        return [d for a in self.artifacts.values() for d in a.deployments]

    def rank_key(self) -> tuple[int, int, int, str]:
        scores = [exposure(d) for d in self.deployments]
        return (
            -max(scores, default=0),
            -sum(scores),
            -len(self.artifacts),
            self.repository.full_name.lower(),
        )


@dataclass(frozen=True)
class Report:
    target: Target
    advisories: list[str]
    repositories: list[Exposed]


async def _dependents_of_advisory(
    conn: AsyncConnection, ghsa_id: str
) -> tuple[str, list[tuple[Dependent, list[str]]]]:
    row, vulns = await advisories.get_advisory(conn, ghsa_id)
    index = MatchIndex()
    packages: dict[str, tuple[Ecosystem, str]] = {}
    for v in vulns:
        eco = v.ecosystem
        index.add(row.ghsa_id, eco, v.package_name, v.ranges, v.versions)
        packages[purl_of(eco, v.package_name)] = (eco, v.package_name)
    found: list[tuple[Dependent, list[str]]] = []
    for base in sorted(packages):
        for dependent in await dependencies.dependents(conn, base):
            dep = dependent.dependency
            if dep.version and index.affected(dep.ecosystem, dep.name, dep.version):
                found.append((dependent, [row.ghsa_id]))
    return row.ghsa_id, found


async def _dependents_of_package(
    conn: AsyncConnection, package_url: str
) -> list[tuple[Dependent, list[str]]]:
    found = await dependencies.dependents(conn, package_url)
    deps = lifecycle.located(d.dependency for d in found)
    index = await advisories.index_for(conn, {(d.ecosystem, d.dependency.name) for d in deps})
    ghsa = {advisory_id: g for g, advisory_id in index.advisory_ids.items()}
    out: list[tuple[Dependent, list[str]]] = []
    for dependent in found:
        dep = dependent.dependency
        hits: list[str] = []
        located = lifecycle.located([dep])
        if located:
            hits = [ghsa[a] for a in index.affected(located[0].ecosystem, dep.name, located[0].version)]
        out.append((dependent, hits))
    return out


async def _with_rule(conn: AsyncConnection, caller: Principal, rule: tuple[str, str]) -> dict[int, Exposed]:
    counts = await code_scanning.repositories_with_rule(conn, *rule)
    repos = await accounts.repositories_by_ids(conn, counts)
    visible = await code_scanning_access.readable(conn, caller, list(repos.values()))
    return {
        repository_id: Exposed(repos[repository_id], code_scanning_alerts=count)
        for repository_id, count in counts.items()
        if repository_id in visible
    }


async def _with_dependencies(
    conn: AsyncConnection, caller: Principal, found: list[tuple[Dependent, list[str]]]
) -> dict[int, Exposed]:
    repos = await accounts.repositories_by_ids(conn, {d.repository_id for d, _ in found})
    visible = await access.readable(conn, caller, list(repos.values()))
    exposed: dict[int, Exposed] = {}
    for dependent, hits in found:
        if dependent.repository_id in visible:
            entry = exposed.setdefault(dependent.repository_id, Exposed(repos[dependent.repository_id]))
            entry.dependencies.append((dependent.dependency, hits))
    return exposed


async def _exposed(
    conn: AsyncConnection, caller: Principal, where: Target
) -> tuple[list[str], dict[int, Exposed]]:
    """The advisories named and the repositories exposed to them that the caller may read."""
    if where.code_scanning_rule is not None:
        return [], await _with_rule(conn, caller, where.code_scanning_rule)
    if where.advisory is not None:
        ghsa, found = await _dependents_of_advisory(conn, where.advisory)
        return [ghsa], await _with_dependencies(conn, caller, found)
    assert where.package_url is not None
    found = await _dependents_of_package(conn, where.package_url)
    named = sorted({g for _, hits in found for g in hits})
    return named, await _with_dependencies(conn, caller, found)


async def blast_radius(conn: AsyncConnection, caller: Principal, where: Target) -> Report:
    named, exposed = await _exposed(conn, caller, where)
    ids = sorted(exposed)
    attested = await attestations.subject_digests(conn, ids)
    stored = await artifacts.storage_of_repositories(conn, caller, ids)
    for repository_id, entry in exposed.items():
        for digest in sorted(attested.get(repository_id, ())):
            entry.artifacts.setdefault(digest, Artifact(digest)).attested = True
        for record in stored.get(repository_id, []):
            entry.artifacts.setdefault(record.digest, Artifact(record.digest)).storage.append(record)
    by_digest: dict[str, list[Artifact]] = defaultdict(list)
    for entry in exposed.values():
        for artifact in entry.artifacts.values():
            by_digest[artifact.digest].append(artifact)
    for deployed in await artifacts.current_deployments(conn, caller, sorted(by_digest)):
        for artifact in by_digest[deployed.digest]:
            artifact.deployments.append(deployed)
    ranked = sorted(exposed.values(), key=Exposed.rank_key)
    return Report(where, named, ranked)


@dataclass(frozen=True)
class Overview:
    """The blast radius within one organization, for a picture: its exposed repositories, most
    exposed first, each with what it built and where that runs; digests beyond the most exposed
    few are only counted (``artifacts.service.footprint``)."""

    target: Target
    advisories: list[str]
    repositories: list[tuple[Exposed, BuiltBy]]
    footprint: Footprint


NOTHING_BUILT = BuiltBy(digests=0, deployments=0, highest=0, score=0, risks=(), folded_highest=-1)


async def overview(
    conn: AsyncConnection, caller: Principal, where: Target, owner_id: int, shown: int
) -> Overview:
    """As ``blast_radius``, within the organization ``owner_id``: its repositories, and its own
    deployment records."""
    named, exposed = await _exposed(conn, caller, where)
    mine = {i: entry for i, entry in exposed.items() if entry.repository.owner.id == owner_id}
    found = await artifacts.footprint(conn, caller, owner_id, sorted(mine), WEIGHTS, shown)
    ranked = sorted(
        ((entry, found.repositories.get(i, NOTHING_BUILT)) for i, entry in mine.items()),
        key=lambda pair: (
            -pair[1].highest,
            -pair[1].score,
            -pair[1].digests,
            pair[0].repository.full_name.lower(),
        ),
    )
    return Overview(where, named, ranked, found)


def render(report: Report, api: str, web: str) -> dict[str, Any]:
    repositories = []
    for rank, entry in enumerate(report.repositories, start=1):
        repo = entry.repository
        deployments = entry.deployments
        risks = sorted({r for d in deployments for r in d.runtime_risks})
        repositories.append(
            {
                "rank": rank,
                "repository": {
                    "id": repo.id,
                    "full_name": repo.full_name,
                    "private": repo.private,
                    "url": f"{api}/repos/{repo.full_name}",
                    "html_url": f"{web}/{repo.full_name}",
                },
                "exposure": {
                    "score": sum(exposure(d) for d in deployments),
                    "highest": max((exposure(d) for d in deployments), default=0),
                    "deployments": len(deployments),
                    "runtime_risks": risks,
                },
                "dependencies": [
                    {
                        "package_url": dep.package_url,
                        "ecosystem": dep.ecosystem,
                        "name": dep.name,
                        "version": dep.version,
                        "manifest_path": dep.manifest,
                        "scope": dep.scope,
                        "relationship": dep.relationship,
                        "advisories": hits,
                    }
                    for dep, hits in entry.dependencies
                ],
                "code_scanning_alerts": entry.code_scanning_alerts,
                "artifacts": [
                    {
                        "digest": artifact.digest,
                        "attested": artifact.attested,
                        "storage_records": [
                            {
                                "name": s.name,
                                "registry_url": s.registry_url,
                                "repository": s.repository,
                                "artifact_url": s.artifact_url,
                                "status": s.status.value,
                            }
                            for s in artifact.storage
                        ],
                        "deployments": [
                            {
                                "logical_environment": d.logical_environment,
                                "physical_environment": d.physical_environment or None,
                                "cluster": d.cluster or None,
                                "deployment_name": d.deployment_name,
                                "runtime_risks": sorted(d.runtime_risks),
                                "exposure": exposure(d),
                                "updated_at": iso(d.updated_at),
                            }
                            for d in sorted(artifact.deployments, key=lambda d: (-exposure(d), d.id))
                        ],
                    }
                    for artifact in sorted(
                        entry.artifacts.values(),
                        key=lambda a: (-max((exposure(d) for d in a.deployments), default=0), a.digest),
                    )
                ],
            }
        )
    rule = report.target.code_scanning_rule
    return {
        "advisory": report.target.advisory,
        "package_url": report.target.package_url,
        "code_scanning_rule": None if rule is None else "/".join(rule),
        "advisories": report.advisories,
        "repositories": repositories,
    }
