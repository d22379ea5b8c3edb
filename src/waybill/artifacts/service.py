"""The rules of artifact metadata: which repository an artifact belongs to, who may write it, and
how deployment records are set, one at a time, per cluster, or in the background."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, TypeVar

import msgspec
from sqlalchemy.ext.asyncio import AsyncConnection

from waybill.accounts import service as accounts
from waybill.accounts.types import Account, Repository, Role, own_role
from waybill.artifacts import repository as sql
from waybill.artifacts.schemas import (
    ClusterDeployment,
    ClusterJobBody,
    ClusterSetBody,
    DeploymentRecordBody,
    StorageRecordBody,
)
from waybill.artifacts.types import (
    ArtifactFilter,
    Cause,
    Change,
    DeploymentRecord,
    DeploymentStatus,
    DigestDeployment,
    EnvironmentDeployment,
    EnvironmentSummary,
    Footprint,
    HistoryEntry,
    HistoryFilter,
    LinkedArtifact,
    RecordFilter,
    Rejected,
    StorageRecord,
)
from waybill.attestations import service as attestations
from waybill.auth import permissions
from waybill.auth.repository import RepositoryIds
from waybill.auth.types import Need, Principal
from waybill.core import clock
from waybill.core import jobs as job_queue
from waybill.core.db import Database
from waybill.core.errors import Conflict, Forbidden, NotFound, TooManyRequests
from waybill.core.keyset import Cursor, Page
from waybill.core.types import Digest

WRITE = Need(Role.WRITE, ("contents", "artifact_metadata"))
READ = Need(Role.READ, ("contents", "artifact_metadata"))
CLUSTER_JOB = "artifacts.cluster"


@dataclass(frozen=True)
class _Target:
    """Where an entry's artifact lives: the repository (None when unresolved) and the provenance
    attestation that named it, if any."""

    repository: Repository | None
    attestation_id: int | None


async def _resolve(
    conn: AsyncConnection, org: Account, wanted: Sequence[tuple[str, str | None]]
) -> list[_Target]:
    """For each (digest, github_repository): a provenance attestation's repository wins; else the
    named repository of the org; else nothing. Three queries whatever the number of entries."""
    provenance = await attestations.provenance_for(conn, org.id, sorted({d for d, _ in wanted}))
    by_id = await accounts.repositories_by_ids(conn, {p.repository_id for p in provenance.values()})
    names = {name for digest, name in wanted if name and digest not in provenance}
    by_name = await accounts.repositories_of(conn, org, names)
    targets = []
    for digest, name in wanted:
        found = provenance.get(digest)
        if found is not None and found.repository_id in by_id:
            targets.append(_Target(by_id[found.repository_id], found.attestation_id))
        else:
            targets.append(_Target(by_name.get(name.lower()) if name else None, None))
    return targets


def _normalised(entry: ClusterDeployment, target: _Target) -> sql.DeploymentRow:
    assert target.repository is not None
    # Sorted, so that equal tags and risks compare equal in SQL on every backend (the history
    # records a change only when something changed).
    return sql.DeploymentRow(
        repository_id=target.repository.id,
        digest=entry.digest,
        deployment_name=entry.deployment_name,
        status=entry.status,
        tags=dict(sorted((entry.tags or {}).items())),
        runtime_risks=sorted(str(r) for r in entry.runtime_risks or []),
        attestation_id=target.attestation_id,
    )


def _first_writers(entries: Sequence[ClusterDeployment], targets: Sequence[_Target]) -> list[sql.ArtifactRow]:
    """One artifact per (repository, digest): the first entry in request order names it."""
    first: dict[tuple[int, str], sql.ArtifactRow] = {}
    for entry, target in zip(entries, targets, strict=True):
        assert target.repository is not None
        key = (target.repository.id, entry.digest)
        if key not in first:
            first[key] = sql.ArtifactRow(target.repository.id, entry.digest, entry.name, entry.version)
    return list(first.values())


async def _write(
    db: Database,
    org_id: int,
    *,
    logical_environment: str,
    physical_environment: str | None,
    cluster: str | None,
    entries: Sequence[ClusterDeployment],
    targets: Sequence[_Target],
    sender_id: int | None,
) -> list[DeploymentRecord]:
    """Write the entries in one all-or-nothing statement (PostgreSQL) or unit (SQLite's writer)."""
    records = await sql.upsert_deployments(
        db,
        org_id=org_id,
        logical_environment=logical_environment,
        physical_environment=physical_environment or "",
        cluster=cluster or "",
        artifacts=_first_writers(entries, targets),
        rows=[_normalised(e, t) for e, t in zip(entries, targets, strict=True)],
        now=clock.now(),
        sender_id=sender_id,
    )
    order = {e.deployment_name: i for i, e in enumerate(entries)}
    return sorted(records, key=lambda r: order[r.deployment_name])


async def _writable_target(
    db: Database, caller: Principal, org_login: str, digest: str, github_repository: str | None
) -> tuple[Account, _Target]:
    """The organization and the repository a single write lands in, once the caller may write it:
    one statement (``sql.write_target``)."""
    user = permissions.require_authenticated(caller)
    found = await sql.write_target(db, org_login, digest, github_repository, user.id)
    if found is None or not found.org.is_org:
        raise NotFound()
    repo = found.repository
    if repo is None:
        raise NotFound(_unresolved_message(github_repository))
    own = own_role(user, found.org, found.org_role, found.collaborator)
    permissions.require_role(caller, repo, permissions.effective_role(repo, own), WRITE)
    return found.org, _Target(repo, found.attestation_id)


async def create_deployment_record(
    db: Database, caller: Principal, org_login: str, body: DeploymentRecordBody
) -> DeploymentRecord:
    """Two round trips: what the caller may do where, and the write."""
    entry = ClusterDeployment(
        name=body.name,
        digest=body.digest,
        deployment_name=body.deployment_name,
        version=body.version,
        status=body.status,
        github_repository=body.github_repository,
        tags=body.tags,
        runtime_risks=body.runtime_risks,
    )
    org, target = await _writable_target(db, caller, org_login, body.digest, body.github_repository)
    [record] = await _write(
        db,
        org.id,
        logical_environment=body.logical_environment,
        physical_environment=body.physical_environment,
        cluster=body.cluster,
        entries=[entry],
        targets=[target],
        sender_id=None if caller.user is None else caller.user.id,
    )
    return record


def _unresolved_message(name: str | None) -> str:
    if name is None:
        return "No provenance attestation for this digest and no github_repository given"
    return f"Repository not found: {name}"


@dataclass(frozen=True)
class _Checked:
    accepted: list[tuple[ClusterDeployment, _Target]]
    rejected: list[Rejected]


async def _check(
    conn: AsyncConnection, caller: Principal, org: Account, entries: Sequence[ClusterDeployment]
) -> _Checked:
    """Resolve and authorize every entry, in a fixed number of queries."""
    targets = await _resolve(conn, org, [(e.digest, e.github_repository) for e in entries])
    repos = {t.repository.id: t.repository for t in targets if t.repository is not None}
    refusals = await permissions.allowed(conn, caller, list(repos.values()), WRITE)
    checked = _Checked([], [])
    for entry, target in zip(entries, targets, strict=True):
        repo = target.repository
        refusal = None if repo is None else refusals[repo.id]
        if repo is None or isinstance(refusal, NotFound):
            # A repository the caller may not see is reported like one that does not exist.
            named = entry.github_repository or entry.digest
            checked.rejected.append(Rejected(Cause.NOT_FOUND, entry, named))
        elif refusal is not None:
            checked.rejected.append(Rejected(Cause.UNAUTHORIZED, entry, repo.full_name))
        else:
            checked.accepted.append((entry, target))
    return checked


def _refusal(rejected: Sequence[Rejected]) -> Exception:
    """Why an all-or-nothing cluster request is refused. The spec's examples put an object in
    ``message``; ``basic-error`` says string, so the repositories are named inside the string."""
    missing = sorted({r.repository for r in rejected if r.cause is Cause.NOT_FOUND})
    if missing:
        return NotFound(f"One or more repositories do not exist: {', '.join(missing)}")
    denied = sorted({r.repository for r in rejected})
    return Forbidden(
        "Artifact metadata write permission required on one or more repositories: " + ", ".join(denied)
    )


@dataclass(frozen=True)
class ClusterResult:
    records: list[DeploymentRecord]
    rejected: list[Rejected]


async def set_cluster_records(
    db: Database, caller: Principal, org_login: str, cluster: str, body: ClusterSetBody
) -> ClusterResult:
    """Validated already (schemas.check_deployments); every entry is checked before anything is
    written, then all accepted entries are written at once (``_write``)."""
    user = permissions.require_authenticated(caller)
    async with db.query() as conn:
        org = await accounts.get_org(conn, org_login)
        checked = await _check(conn, caller, org, body.deployments)
    if checked.rejected and not body.partial_success:
        raise _refusal(checked.rejected)
    records = await _write(
        db,
        org.id,
        logical_environment=body.logical_environment,
        physical_environment=body.physical_environment,
        cluster=cluster,
        entries=[e for e, _ in checked.accepted],
        targets=[t for _, t in checked.accepted],
        sender_id=user.id,
    )
    return ClusterResult(records, checked.rejected)


# Cluster jobs: the request checks; the worker writes what was accepted.


class _JobEntry(msgspec.Struct):
    deployment: ClusterDeployment
    repository_id: int
    attestation_id: int | None


class _JobPayload(msgspec.Struct):
    org_id: int
    requested_by: int
    cluster: str
    logical_environment: str
    physical_environment: str | None
    entries: list[_JobEntry]


def _job_key(org: Account, cluster: str) -> str:
    return f"{org.id}:{cluster}"


@dataclass(frozen=True)
class CreatedJob:
    job_id: int
    rejected: list[Rejected]


async def create_cluster_job(
    conn: AsyncConnection,
    caller: Principal,
    org_login: str,
    cluster: str,
    body: ClusterJobBody,
    *,
    max_pending: int,
) -> CreatedJob:
    """Refused like the synchronous set when no entry may be written (a caller outside the
    organization gets 404), and beyond ``max_pending`` unfinished jobs of the caller's token."""
    user = permissions.require_authenticated(caller)
    org = await accounts.get_org(conn, org_login)
    checked = await _check(conn, caller, org, body.deployments)
    if not checked.accepted:
        raise _refusal(checked.rejected)
    token_id = None if caller.token is None else caller.token.id
    if token_id is not None and await job_queue.count_pending(conn, token_id) >= max_pending:
        raise TooManyRequests(
            f"This token has {max_pending} pending jobs, the limit (WAYBILL_MAX_PENDING_JOBS_PER_TOKEN); "
            "wait for one to finish."
        )
    key = _job_key(org, cluster)
    await sql.lock_cluster(conn, key)
    if await job_queue.find_active(conn, CLUSTER_JOB, key) is not None:
        raise Conflict("A job is already in progress for this cluster.")
    payload = _JobPayload(
        org_id=org.id,
        requested_by=user.id,
        cluster=cluster,
        logical_environment=body.logical_environment,
        physical_environment=body.physical_environment,
        entries=[
            _JobEntry(entry, target.repository.id, target.attestation_id)
            for entry, target in checked.accepted
            if target.repository is not None
        ],
    )
    job_id = await job_queue.enqueue(
        conn, CLUSTER_JOB, msgspec.to_builtins(payload), key=key, token_id=token_id
    )
    return CreatedJob(job_id, checked.rejected)


async def run_cluster_job(db: Database, job: job_queue.Job) -> dict[str, Any]:
    """Idempotent: a rerun after a crash upserts the same rows again, and an upsert that changes
    nothing appends no history."""
    payload = msgspec.convert(job.payload, _JobPayload)
    entries = [e.deployment for e in payload.entries]
    async with db.query() as conn:
        repos = await accounts.repositories_by_ids(conn, {e.repository_id for e in payload.entries})
    targets = [_Target(repos.get(e.repository_id), e.attestation_id) for e in payload.entries]
    kept = [(e, t) for e, t in zip(entries, targets, strict=True) if t.repository is not None]
    records = await _write(
        db,
        payload.org_id,
        logical_environment=payload.logical_environment,
        physical_environment=payload.physical_environment,
        cluster=payload.cluster,
        entries=[e for e, _ in kept],
        targets=[t for _, t in kept],
        sender_id=payload.requested_by,
    )
    errors = [
        {"cause": str(Cause.NOT_FOUND), "deployment_name": e.deployment_name}
        for e, t in zip(entries, targets, strict=True)
        if t.repository is None
    ]
    return {"total_count": len(records), "errors": errors}


async def get_cluster_job(
    conn: AsyncConnection, caller: Principal, org_login: str, cluster: str, job_id: int
) -> job_queue.Job:
    """A job is shown to the user who created it (and site admins); to anyone else it does not exist."""
    user = permissions.require_authenticated(caller)
    org = await accounts.get_org(conn, org_login)
    job = await job_queue.get(conn, job_id)
    if job is None or job.kind != CLUSTER_JOB or job.key != _job_key(org, cluster):
        raise NotFound()
    if not user.site_admin and job.payload.get("requested_by") != user.id:
        raise NotFound()
    return job


# Storage records.


async def create_storage_record(
    db: Database, caller: Principal, org_login: str, body: StorageRecordBody
) -> StorageRecord:
    """Two round trips, as a deployment record."""
    org, target = await _writable_target(db, caller, org_login, body.digest, body.github_repository)
    assert target.repository is not None
    return await sql.upsert_storage_record(
        db,
        org_id=org.id,
        repository_id=target.repository.id,
        artifact=sql.ArtifactRow(target.repository.id, body.digest, body.name, body.version),
        registry_url=body.registry_url,
        registry_repository=body.repository,
        artifact_url=body.artifact_url,
        path=body.path,
        status=body.status,
        now=clock.now(),
        sender_id=None if caller.user is None else caller.user.id,
    )


# Reads: records of repositories the caller cannot read are left out, inside SQL.


R = TypeVar("R", DeploymentRecord, StorageRecord)


async def _records_by_digest(
    db: Database,
    caller: Principal,
    org_login: str,
    digest: Digest,
    read: Callable[[Database, str, str, RepositoryIds], Awaitable[list[R]]],
) -> list[R]:
    """One statement when the digest has records; the organization is looked up only without."""
    records = await read(db, org_login, str(digest), permissions.readable_repository_ids(caller, READ))
    if not records:
        async with db.query() as conn:
            await accounts.get_org(conn, org_login)
    return records


async def deployment_records(
    db: Database, caller: Principal, org_login: str, digest: Digest
) -> list[DeploymentRecord]:
    return await _records_by_digest(db, caller, org_login, digest, sql.deployments_by_digest)


async def storage_records(
    db: Database, caller: Principal, org_login: str, digest: Digest
) -> list[StorageRecord]:
    return await _records_by_digest(db, caller, org_login, digest, sql.storage_by_digest)


async def history(
    conn: AsyncConnection, caller: Principal, org_login: str, where: HistoryFilter, cursor: Cursor
) -> Page[HistoryEntry]:
    org = await accounts.get_org(conn, org_login)
    entries = await sql.history(
        conn, org.id, permissions.readable_repository_ids(caller, READ), where, cursor
    )
    # Every repository behind an org's records is owned by that org.
    return entries.map(lambda e: replace(e, repository=f"{org.login}/{e.repository}"))


async def digest_deployments(
    conn: AsyncConnection, caller: Principal, org_login: str, digest: Digest, cursor: Cursor
) -> Page[DigestDeployment]:
    org = await accounts.get_org(conn, org_login)
    wanted = str(digest)
    spans = await sql.digest_spans(
        conn, org.id, wanted, permissions.readable_repository_ids(caller, READ), cursor
    )
    records = await sql.deployments_by_ids(conn, [s.record_id for s in spans.items])
    return spans.map(
        lambda s: DigestDeployment(
            record=records[s.record_id],
            first_deployed_at=s.first_deployed_at,
            last_deployed_at=s.last_deployed_at,
            currently_deployed=records[s.record_id].digest == wanted
            and records[s.record_id].status is DeploymentStatus.DEPLOYED,
        )
    )


# The web pages' reads: an organization's artifacts and environments, readable ones only.


async def linked_artifacts(
    conn: AsyncConnection, caller: Principal, org_login: str, where: ArtifactFilter, cursor: Cursor
) -> Page[LinkedArtifact]:
    org = await accounts.get_org(conn, org_login)
    return await sql.linked_artifacts(
        conn, org.id, permissions.readable_repository_ids(caller, READ), where, cursor
    )


async def environments(conn: AsyncConnection, caller: Principal, org_login: str) -> list[EnvironmentSummary]:
    org = await accounts.get_org(conn, org_login)
    return await sql.environment_summaries(conn, org.id, permissions.readable_repository_ids(caller, READ))


# Production context, for the alerts domain.


def registry_kind(registry_url: str) -> str | None:
    """The product behind a registry URL, named as GitHub's ``artifact_registry`` filter names it.
    Storage records carry only the URL, so the product is recognised from it: JFrog's cloud hosts
    (``*.jfrog.io``) and self-hosted Artifactory (served under ``/artifactory``)."""
    lowered = registry_url.lower()
    host = lowered.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0]
    if host.endswith(".jfrog.io") or host == "jfrog.io" or "artifactory" in lowered:
        return "jfrog-artifactory"
    return None


def _same_registry(a: str, b: str) -> bool:
    return a.strip().rstrip("/").lower() == b.strip().rstrip("/").lower()


async def repositories_with_records(conn: AsyncConnection, org_id: int, where: RecordFilter) -> set[int]:
    """Ids of the organization's repositories whose storage and deployment records match."""
    registries: list[list[str]] = []
    if where.registry_urls or where.registries:
        # Registries are matched here, not in SQL (URLs compare loosely, products by their URL);
        # an organization stores its artifacts in few registries.
        known = await sql.registry_urls(conn, org_id)
        if where.registry_urls:
            wanted = where.registry_urls
            registries.append([url for url in known if any(_same_registry(url, w) for w in wanted)])
        if where.registries:
            registries.append([url for url in known if registry_kind(url) in where.registries])
        if not all(registries):
            return set()
    return await sql.repositories_with_records(
        conn,
        org_id,
        registries=registries,
        deployed=where.deployed,
        runtime_risks=[str(risk) for risk in where.runtime_risks],
    )


async def storage_of_repositories(
    conn: AsyncConnection, caller: Principal, repository_ids: Sequence[int]
) -> dict[int, list[StorageRecord]]:
    """Storage records of these repositories (those the caller may read), by repository."""
    found: dict[int, list[StorageRecord]] = {}
    readable = permissions.readable_repository_ids(caller, READ)
    for repository_id, record in await sql.storage_of_repositories(conn, repository_ids, readable):
        found.setdefault(repository_id, []).append(record)
    return found


async def current_deployments(
    conn: AsyncConnection, caller: Principal, digests: Sequence[str]
) -> list[DeploymentRecord]:
    """Deployment records (of repositories the caller may read) deploying any of the digests now."""
    return await sql.deployed_digests(conn, digests, permissions.readable_repository_ids(caller, READ))


async def footprint(
    conn: AsyncConnection,
    caller: Principal,
    org_id: int,
    repository_ids: Sequence[int],
    weights: dict[str, int],
    shown: int,
) -> Footprint:
    """Where the organization runs what these repositories built (see ``repository.footprint``);
    storage and deployment records count only where the caller may read them."""
    if not repository_ids:
        return Footprint({}, [], 0, [])
    readable = permissions.readable_repository_ids(caller, READ)
    attested = attestations.subjects_of(repository_ids)
    return await sql.footprint(conn, org_id, repository_ids, attested, readable, weights, shown)


# For the admission gate.


def same_registry(a: str, b: str) -> bool:
    return _same_registry(a, b)


async def first_deployments_since(
    conn: AsyncConnection, org_id: int, logical_environment: str, digests: Sequence[str], since: datetime
) -> dict[str, EnvironmentDeployment]:
    """For each digest, the first deployment record history entry in the environment since ``since``."""
    found: dict[str, EnvironmentDeployment] = {}
    if digests:
        wanted = sorted(set(digests))
        rows = await sql.first_deployments_since(conn, org_id, logical_environment, wanted, since)
        for row in rows:
            found.setdefault(row.digest, row)
    return found


# Deployment timelines: which digest ran in each deployment record of an environment, over a window.


@dataclass(frozen=True)
class Span:
    """One digest running in one deployment record; ``start``/``end`` None: before/after the window."""

    digest: str
    artifact_name: str | None
    start: datetime | None
    end: datetime | None
    started_by: Change | None
    ended_by: Change | None


@dataclass(frozen=True)
class Lane:
    record_id: int
    deployment_name: str
    logical_environment: str
    physical_environment: str
    cluster: str
    repository: str
    spans: list[Span]


@dataclass(frozen=True)
class Timeline:
    lanes: list[Lane]
    # The window's changes, newest first.
    changes: list[HistoryEntry]
    more_lanes: bool
    more_changes: bool


def _lanes(before: list[HistoryEntry], changes: list[HistoryEntry]) -> list[Lane]:
    """Spans from each record's state when the window opens and its changes inside it, oldest first."""
    first = {e.record_id: e for e in before}
    order = list(dict.fromkeys([e.record_id for e in before] + [e.record_id for e in reversed(changes)]))
    by_record: dict[int, list[HistoryEntry]] = {}
    for entry in reversed(changes):
        by_record.setdefault(entry.record_id, []).append(entry)
    lanes = []
    for record_id in order:
        spans: list[Span] = []
        start = first.get(record_id)
        running: HistoryEntry | None = start if start and start.status == DeploymentStatus.DEPLOYED else None
        opened_at: datetime | None = None
        opened_by: Change | None = None
        last = start
        for entry in by_record.get(record_id, []):
            last = entry
            deployed = entry.status == DeploymentStatus.DEPLOYED
            if running is not None and (not deployed or entry.digest != running.digest):
                spans.append(
                    Span(
                        running.digest,
                        running.artifact_name,
                        opened_at,
                        entry.recorded_at,
                        opened_by,
                        entry.change,
                    )
                )
                running = None
            if deployed and running is None:
                running, opened_at, opened_by = entry, entry.recorded_at, entry.change
        if running is not None:
            spans.append(Span(running.digest, running.artifact_name, opened_at, None, opened_by, None))
        assert last is not None
        if spans or by_record.get(record_id):
            lanes.append(
                Lane(
                    record_id,
                    last.deployment_name,
                    last.logical_environment,
                    last.physical_environment,
                    last.cluster,
                    last.repository,
                    spans,
                )
            )
    return lanes


async def deployment_timeline(
    conn: AsyncConnection,
    caller: Principal,
    org_login: str,
    where: HistoryFilter,
    since: datetime,
    until: datetime,
    *,
    lanes: int,
    changes: int,
) -> Timeline:
    """What ran in the records ``where`` names between ``since`` and ``until``, from repositories
    the caller may read: at most ``lanes`` records running when the window opens, and the window's
    newest ``changes`` changes. With ``where.digest``, see ``_digest_timeline``."""
    if where.digest is not None:
        return await _digest_timeline(conn, caller, org_login, where.digest, since, until, lanes, changes)
    before = await history(conn, caller, org_login, replace(where, at=since), Cursor(per_page=lanes + 1))
    window = await history(
        conn, caller, org_login, replace(where, since=since, until=until), Cursor(per_page=changes)
    )
    running = [e for e in before.items[:lanes] if e.status == DeploymentStatus.DEPLOYED]
    return Timeline(
        _lanes(running, window.items),
        window.items,
        more_lanes=len(before.items) > lanes,
        more_changes=window.next_key is not None,
    )


def _about_digest(before: list[HistoryEntry], changes: list[HistoryEntry], digest: str) -> list[HistoryEntry]:
    """The changes (newest first) that deploy ``digest`` or end its run: the change away from it
    carries the next digest, so each is judged by its record's previous state too."""
    previous = {e.record_id: e.digest for e in before}
    kept = []
    for entry in reversed(changes):
        if entry.digest == digest or previous.get(entry.record_id) == digest:
            kept.append(entry)
        previous[entry.record_id] = entry.digest
    return kept[::-1]


async def _digest_timeline(
    conn: AsyncConnection,
    caller: Principal,
    org_login: str,
    digest: Digest,
    since: datetime,
    until: datetime,
    lanes: int,
    changes: int,
) -> Timeline:
    """Where ``digest`` ran: a lane per record it was deployed in (newest records first), its spans
    only. A filter on the history's digest would miss the change that ended each run, which records
    the digest that replaced it; so the records are found first and their whole window read."""
    ran = await digest_deployments(conn, caller, org_login, digest, Cursor(per_page=lanes + 1))
    ids = tuple(d.record.id for d in ran.items[:lanes] if d.first_deployed_at <= until)
    if not ids:
        return Timeline([], [], more_lanes=False, more_changes=False)
    where = HistoryFilter(record_ids=ids)
    before = await history(conn, caller, org_login, replace(where, at=since), Cursor(per_page=len(ids)))
    window = await history(
        conn, caller, org_login, replace(where, since=since, until=until), Cursor(per_page=changes)
    )
    running = [e for e in before.items if e.status == DeploymentStatus.DEPLOYED]
    own = [
        replace(lane, spans=spans)
        for lane in _lanes(running, window.items)
        if (spans := [s for s in lane.spans if s.digest == str(digest)])
    ]
    return Timeline(
        own,
        _about_digest(before.items, window.items, str(digest)),
        more_lanes=len(ran.items) > lanes,
        more_changes=window.next_key is not None,
    )
