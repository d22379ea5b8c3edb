"""All SQL of the artifact metadata domain."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    Row,
    and_,
    bindparam,
    case,
    exists,
    func,
    literal,
    or_,
    select,
    text,
    tuple_,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from waybill.accounts.models import repositories
from waybill.accounts.repository import org_id_by_login
from waybill.artifacts.models import (
    artifacts,
    deployment_history,
    deployment_records,
    deployment_risks,
    storage_records,
)
from waybill.artifacts.types import (
    ArtifactFilter,
    Change,
    DeploymentRecord,
    DeploymentStatus,
    EnvironmentSummary,
    HistoryEntry,
    HistoryFilter,
    LinkedArtifact,
    StorageRecord,
    StorageStatus,
)
from waybill.core import keyset
from waybill.core.db import upsert

# Rows per multi-row statement: 1000 rows of ~14 values stays under both backends' parameter limits.
CHUNK = 1000


@dataclass(frozen=True)
class ArtifactRow:
    repository_id: int
    digest: str
    name: str
    version: str | None


@dataclass(frozen=True)
class DeploymentRow:
    """One deployment record to upsert, with its artifact already resolved."""

    repository_id: int
    digest: str
    deployment_name: str
    status: DeploymentStatus
    tags: dict[str, str]
    runtime_risks: list[str]
    attestation_id: int | None


async def insert_artifacts(conn: AsyncConnection, rows: Sequence[ArtifactRow], now: datetime) -> None:
    """Create the artifacts that do not exist yet; an existing artifact keeps its name and version.
    Callers pass each (repository, digest) once, the first writer's values."""
    ordered = sorted(rows, key=lambda r: (r.repository_id, r.digest))
    for start in range(0, len(ordered), CHUNK):
        chunk = ordered[start : start + CHUNK]
        stmt = upsert(conn, artifacts).values(
            [
                {
                    "repository_id": r.repository_id,
                    "digest": r.digest,
                    "name": r.name,
                    "version": r.version,
                    "created_at": now,
                }
                for r in chunk
            ]
        )
        await conn.execute(stmt.on_conflict_do_nothing(index_elements=["repository_id", "digest"]))


def _deployment(row: Any) -> DeploymentRecord:
    m = row._mapping
    return DeploymentRecord(
        id=m["id"],
        org_id=m["org_id"],
        repository_id=m["repository_id"],
        digest=m["digest"],
        logical_environment=m["logical_environment"],
        physical_environment=m["physical_environment"],
        cluster=m["cluster"],
        deployment_name=m["deployment_name"],
        status=DeploymentStatus(m["status"]),
        tags=m["tags"],
        runtime_risks=m["runtime_risks"],
        attestation_id=m["attestation_id"],
        last_change=None if m["last_change"] is None else Change(m["last_change"]),
        created_at=m["created_at"],
        updated_at=m["updated_at"],
    )


async def upsert_deployments(
    conn: AsyncConnection,
    *,
    org_id: int,
    logical_environment: str,
    physical_environment: str,
    cluster: str,
    rows: Sequence[DeploymentRow],
    now: datetime,
) -> list[DeploymentRecord]:
    """Create or update one record per row (deployment names must be distinct), and append the
    changes to the history, all in the caller's transaction. Returns the records, each with
    ``last_change`` saying what this write changed (None: nothing but ``updated_at``)."""
    t = deployment_records
    # The same order in every writer, so that concurrent cluster sets lock rows without deadlocks.
    ordered = sorted(rows, key=lambda r: r.deployment_name)
    records: list[DeploymentRecord] = []
    for start in range(0, len(ordered), CHUNK):
        chunk = ordered[start : start + CHUNK]
        stmt = upsert(conn, t).values(
            [
                {
                    "org_id": org_id,
                    "repository_id": r.repository_id,
                    "digest": r.digest,
                    "logical_environment": logical_environment,
                    "physical_environment": physical_environment,
                    "cluster": cluster,
                    "deployment_name": r.deployment_name,
                    "status": r.status,
                    "tags": r.tags,
                    "runtime_risks": r.runtime_risks,
                    "attestation_id": r.attestation_id,
                    "last_change": Change.CREATED,
                    "created_at": now,
                    "updated_at": now,
                }
                for r in chunk
            ]
        )
        new = stmt.excluded
        # Computed against the row the upsert locked (the latest committed version), never against a
        # snapshot read earlier: a concurrent writer's change is seen as this write's predecessor.
        change = case(
            (
                and_(new.status == DeploymentStatus.DECOMMISSIONED, t.c.status != new.status),
                literal(Change.DECOMMISSIONED.value),
            ),
            (t.c.digest != new.digest, literal(Change.DIGEST_CHANGED.value)),
            (t.c.status != new.status, literal(Change.STATUS_CHANGED.value)),
            (
                or_(
                    t.c.repository_id != new.repository_id,
                    t.c.tags != new.tags,
                    t.c.runtime_risks != new.runtime_risks,
                    t.c.attestation_id.is_distinct_from(new.attestation_id),
                ),
                literal(Change.UPDATED.value),
            ),
            else_=None,
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=[
                "org_id",
                "logical_environment",
                "physical_environment",
                "cluster",
                "deployment_name",
            ],
            set_={
                "last_change": change,
                "repository_id": new.repository_id,
                "digest": new.digest,
                "status": new.status,
                "tags": new.tags,
                "runtime_risks": new.runtime_risks,
                "attestation_id": new.attestation_id,
                "updated_at": new.updated_at,
            },
        ).returning(*t.c)
        records += [_deployment(row) for row in await conn.execute(stmt)]
    changed = [r for r in records if r.last_change is not None]
    for start in range(0, len(changed), CHUNK):
        await conn.execute(
            deployment_history.insert().values(
                [
                    {
                        "record_id": r.id,
                        "org_id": org_id,
                        "repository_id": r.repository_id,
                        "change": r.last_change,
                        "digest": r.digest,
                        "status": r.status,
                        "tags": r.tags,
                        "runtime_risks": r.runtime_risks,
                        "attestation_id": r.attestation_id,
                        "recorded_at": now,
                    }
                    for r in changed[start : start + CHUNK]
                ]
            )
        )
    await _mirror_risks(conn, changed)
    return records


async def _mirror_risks(conn: AsyncConnection, changed: Sequence[DeploymentRecord]) -> None:
    """Rewrite the risk rows of the records an upsert changed. A record the upsert left as it was
    keeps its rows, so that the common write (nothing but ``updated_at``) costs nothing here; a
    concurrent writer of the same record waits on the row the upsert locked."""
    t = deployment_risks
    stale = [r.id for r in changed if r.last_change is not Change.CREATED]
    for start in range(0, len(stale), CHUNK):
        await conn.execute(t.delete().where(t.c.record_id.in_(stale[start : start + CHUNK])))
    rows = [
        {
            "record_id": r.id,
            "risk": risk,
            "org_id": r.org_id,
            "repository_id": r.repository_id,
            "digest": r.digest,
        }
        for r in changed
        if r.status is DeploymentStatus.DEPLOYED
        for risk in r.runtime_risks
    ]
    if rows:
        # As an executemany: the statement is compiled once, where a multi-row VALUES of a cluster
        # set's thousands of rows would cost more to build than to run.
        await conn.execute(t.insert(), rows)


async def deployments_by_digest(
    conn: AsyncConnection, org_login: str, digest: str, readable: Any
) -> list[DeploymentRecord]:
    rows = await conn.execute(_deployments_by_digest(org_login.lower(), readable), {"digest": digest})
    return [_deployment(row) for row in rows]


# The reads by digest are the hottest statements: each is built once per organization and caller
# (``readable`` is memoized too), which also spares SQLAlchemy computing its cache key per request.
@lru_cache(maxsize=1024)
def _deployments_by_digest(org_login: str, readable: Any) -> Any:
    t = deployment_records
    return (
        select(t)
        .where(
            t.c.org_id == org_id_by_login(org_login),
            t.c.digest == bindparam("digest"),
            t.c.repository_id.in_(readable),
        )
        .order_by(t.c.id)
    )


async def deployments_by_ids(conn: AsyncConnection, ids: Sequence[int]) -> dict[int, DeploymentRecord]:
    if not ids:
        return {}
    t = deployment_records
    return {row.id: _deployment(row) for row in await conn.execute(select(t).where(t.c.id.in_(ids)))}


def _storage(row: Any) -> StorageRecord:
    m = row._mapping
    return StorageRecord(
        id=m["id"],
        name=m["name"],
        digest=m["digest"],
        artifact_url=m["artifact_url"],
        registry_url=m["registry_url"],
        repository=m["registry_repository"] or None,
        status=StorageStatus(m["status"]),
        created_at=m["created_at"],
        updated_at=m["updated_at"],
    )


_storage_select = select(storage_records, artifacts.c.name).join(
    artifacts,
    and_(
        artifacts.c.repository_id == storage_records.c.repository_id,
        artifacts.c.digest == storage_records.c.digest,
    ),
)


async def upsert_storage_record(
    conn: AsyncConnection,
    *,
    org_id: int,
    repository_id: int,
    digest: str,
    registry_url: str,
    registry_repository: str | None,
    artifact_url: str | None,
    path: str | None,
    version: str | None,
    status: StorageStatus,
    now: datetime,
) -> StorageRecord:
    """One record per artifact and place in a registry (registry URL and repository within it): a
    repeated POST for the same place updates the URL, path, version and status."""
    t = storage_records
    stmt = upsert(conn, t).values(
        org_id=org_id,
        repository_id=repository_id,
        digest=digest,
        registry_url=registry_url,
        registry_repository=registry_repository or "",
        artifact_url=artifact_url,
        path=path,
        version=version,
        status=status,
        created_at=now,
        updated_at=now,
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=["repository_id", "digest", "registry_url", "registry_repository"],
        set_={
            "artifact_url": stmt.excluded.artifact_url,
            "path": stmt.excluded.path,
            "version": stmt.excluded.version,
            "status": stmt.excluded.status,
            "updated_at": stmt.excluded.updated_at,
        },
    ).returning(t.c.id)
    record_id = (await conn.execute(stmt)).scalar_one()
    return _storage((await conn.execute(_storage_select.where(t.c.id == record_id))).one())


async def storage_by_digest(
    conn: AsyncConnection, org_login: str, digest: str, readable: Any
) -> list[StorageRecord]:
    rows = await conn.execute(_storage_by_digest(org_login.lower(), readable), {"digest": digest})
    return [_storage(row) for row in rows]


@lru_cache(maxsize=1024)
def _storage_by_digest(org_login: str, readable: Any) -> Any:
    t = storage_records
    return _storage_select.where(
        t.c.org_id == org_id_by_login(org_login),
        t.c.digest == bindparam("digest"),
        t.c.repository_id.in_(readable),
    ).order_by(t.c.id)


async def lock_cluster(conn: AsyncConnection, key: str) -> None:
    """Serialise job creation for one cluster until the transaction ends. SQLite writers are
    serialised already; PostgreSQL takes a transaction-scoped advisory lock on the key."""
    if conn.dialect.name != "postgresql":
        return
    number = int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big", signed=True)
    await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": number})


def _history_entry(row: Row[Any]) -> HistoryEntry:
    m = row._mapping
    return HistoryEntry(
        id=m["id"],
        record_id=m["record_id"],
        change=Change(m["change"]),
        recorded_at=m["recorded_at"],
        digest=m["digest"],
        status=DeploymentStatus(m["status"]),
        logical_environment=m["logical_environment"],
        physical_environment=m["physical_environment"],
        cluster=m["cluster"],
        deployment_name=m["deployment_name"],
        repository=m["repository_name"],
        artifact_name=m["artifact_name"],
        artifact_version=m["artifact_version"],
        tags=m["tags"],
        runtime_risks=m["runtime_risks"],
        attestation_id=m["attestation_id"],
    )


async def history(
    conn: AsyncConnection,
    org_id: int,
    readable: Any,
    where: HistoryFilter,
    *,
    per_page: int,
    after: int | None,
    before: int | None,
) -> tuple[list[HistoryEntry], int | None, int | None]:
    """History entries, newest first; with ``where.at``, each record's latest entry at that time."""
    h, r = deployment_history, deployment_records
    query = (
        select(
            h.c.id,
            h.c.record_id,
            h.c.change,
            h.c.recorded_at,
            h.c.digest,
            h.c.status,
            h.c.tags,
            h.c.runtime_risks,
            h.c.attestation_id,
            r.c.logical_environment,
            r.c.physical_environment,
            r.c.cluster,
            r.c.deployment_name,
            repositories.c.name.label("repository_name"),
            artifacts.c.name.label("artifact_name"),
            artifacts.c.version.label("artifact_version"),
        )
        .select_from(
            h.join(r, r.c.id == h.c.record_id)
            .join(repositories, repositories.c.id == h.c.repository_id)
            .outerjoin(
                artifacts,
                and_(artifacts.c.repository_id == h.c.repository_id, artifacts.c.digest == h.c.digest),
            )
        )
        .where(h.c.org_id == org_id, h.c.repository_id.in_(readable))
    )
    for column, value in (
        (r.c.logical_environment, where.logical_environment),
        (r.c.physical_environment, where.physical_environment),
        (r.c.cluster, where.cluster),
        (r.c.deployment_name, where.deployment_name),
        (h.c.digest, where.digest),
        (h.c.status, where.status),
    ):
        if value is not None:
            query = query.where(column == value)
    if where.at is not None:
        latest = deployment_history.alias("latest")
        query = query.where(
            h.c.id.in_(
                select(func.max(latest.c.id))
                .where(latest.c.org_id == org_id, latest.c.recorded_at <= where.at)
                .group_by(latest.c.record_id)
            )
        )
    page = await keyset.fetch_page(conn, query, h.c.id, per_page=per_page, after=after, before=before)
    return [_history_entry(row) for row in page.rows], page.next_key, page.prev_key


@dataclass(frozen=True)
class DigestSpan:
    record_id: int
    first_deployed_at: datetime
    last_deployed_at: datetime


async def digest_spans(
    conn: AsyncConnection,
    org_id: int,
    digest: str,
    readable: Any,
    *,
    per_page: int,
    after: int | None,
    before: int | None,
) -> tuple[list[DigestSpan], int | None, int | None]:
    """The records where ``digest`` was ever deployed, newest record first."""
    h = deployment_history
    query = (
        select(
            h.c.record_id,
            func.min(h.c.recorded_at).label("first_deployed_at"),
            func.max(h.c.recorded_at).label("last_deployed_at"),
        )
        .where(
            h.c.org_id == org_id,
            h.c.digest == digest,
            h.c.status == DeploymentStatus.DEPLOYED,
            h.c.repository_id.in_(readable),
        )
        .group_by(h.c.record_id)
    )
    page = await keyset.fetch_page(conn, query, h.c.record_id, per_page=per_page, after=after, before=before)
    spans = [DigestSpan(row.record_id, row.first_deployed_at, row.last_deployed_at) for row in page.rows]
    return spans, page.next_key, page.prev_key


# The linked artifacts and environments pages.


def _digest_prefix(search: str) -> str | None:
    """``sha256:`` and hex digits, or seven or more bare hex digits: a digest prefix, else None."""
    text_ = search.strip().lower()
    algorithm, colon, hex_ = text_.partition(":")
    if not colon:
        algorithm, hex_ = "sha256", text_
        if len(hex_) < 7:
            return None
    if algorithm != "sha256" or not hex_ or len(hex_) > 64 or any(c not in "0123456789abcdef" for c in hex_):
        return None
    return f"sha256:{hex_}"


def _artifact_query(org_id: int, readable: Any, where: ArtifactFilter) -> Any:
    a, d, s = artifacts, deployment_records, storage_records
    # The organization's readable repositories as a set the scan of artifacts (newest first) checks
    # each row against, rather than a join that SQLite would drive from the repositories (and sort).
    owned = select(repositories.c.id).where(
        repositories.c.owner_id == org_id, repositories.c.id.in_(readable)
    )
    query = select(a.c.id, a.c.repository_id, a.c.digest, a.c.name, a.c.version, a.c.created_at).where(
        a.c.repository_id.in_(owned)
    )
    if where.repository_id is not None:
        query = query.where(a.c.repository_id == where.repository_id)
    if where.search:
        prefix = _digest_prefix(where.search)
        if prefix is not None:
            # A range, so that the digest index serves it (digests are lower-case hex).
            query = query.where(a.c.digest >= prefix, a.c.digest < prefix + "g")
        else:
            query = query.where(a.c.name.icontains(where.search.strip(), autoescape=True))
    # Each filter on deployments or storage is an uncorrelated set of (repository, digest), read once
    # through its index; probing per artifact instead costs a lookup for every row scanned.
    placed = where.cluster is not None or where.environment is not None
    if where.runtime_risk is not None or placed:
        if where.runtime_risk is not None:
            # The risk's rows name the artifacts themselves (and exist for deployed records only);
            # the records are joined only for a place to match.
            k = deployment_risks
            current = select(k.c.repository_id, k.c.digest).where(
                k.c.org_id == org_id, k.c.risk == where.runtime_risk.value
            )
            if placed:
                current = current.join(d, d.c.id == k.c.record_id)
        else:
            current = select(d.c.repository_id, d.c.digest).where(
                d.c.org_id == org_id, d.c.status == DeploymentStatus.DEPLOYED
            )
        if where.cluster is not None:
            current = current.where(d.c.cluster == where.cluster)
        places: Any = current
        if where.environment is not None:
            # Logical or physical: two index ranges rather than an OR that neither index serves.
            places = union_all(
                current.where(d.c.logical_environment == where.environment),
                current.where(d.c.physical_environment == where.environment),
            )
        query = query.where(tuple_(a.c.repository_id, a.c.digest).in_(places))
    if where.registry_url is not None:
        query = query.where(
            tuple_(a.c.repository_id, a.c.digest).in_(
                select(s.c.repository_id, s.c.digest).where(
                    s.c.org_id == org_id, s.c.registry_url == where.registry_url
                )
            )
        )
    return query


async def linked_artifacts(
    conn: AsyncConnection,
    org_id: int,
    readable: Any,
    where: ArtifactFilter,
    *,
    per_page: int,
    after: int | None,
    before: int | None,
) -> tuple[list[LinkedArtifact], int | None, int | None]:
    """The organization's artifacts in readable repositories, newest first, each with its storage
    records and current deployments: three queries a page, whatever its size."""
    query = _artifact_query(org_id, readable, where)
    page = await keyset.fetch_page(conn, query, artifacts.c.id, per_page=per_page, after=after, before=before)
    digests = sorted({row.digest for row in page.rows})
    stored: dict[tuple[int, str], list[tuple[StorageRecord, str | None]]] = {}
    placed: dict[tuple[int, str], list[DeploymentRecord]] = {}
    if digests:
        t = storage_records
        rows = await conn.execute(
            _storage_select.where(t.c.org_id == org_id, t.c.digest.in_(digests)).order_by(
                t.c.updated_at.desc(), t.c.id.desc()
            )
        )
        for row in rows:
            stored.setdefault((row.repository_id, row.digest), []).append((_storage(row), row.version))
        d = deployment_records
        rows = await conn.execute(
            select(d)
            .where(d.c.org_id == org_id, d.c.digest.in_(digests), d.c.status == DeploymentStatus.DEPLOYED)
            .order_by(d.c.logical_environment, d.c.physical_environment, d.c.cluster, d.c.deployment_name)
        )
        for row in rows:
            record = _deployment(row)
            placed.setdefault((record.repository_id, record.digest), []).append(record)
    items = []
    for row in page.rows:
        key = (row.repository_id, row.digest)
        records = stored.get(key, [])
        versions = [version for _, version in records if version]
        items.append(
            LinkedArtifact(
                id=row.id,
                repository_id=row.repository_id,
                digest=row.digest,
                name=row.name,
                version=versions[0] if versions else row.version,
                created_at=row.created_at,
                storage=[record for record, _ in records],
                deployments=placed.get(key, []),
            )
        )
    return items, page.next_key, page.prev_key


async def environment_summaries(
    conn: AsyncConnection, org_id: int, readable: Any
) -> list[EnvironmentSummary]:
    """Per (logical environment, physical environment, cluster): what is deployed there now."""
    d = deployment_records
    # Served from the covering index ix_artifact_deployment_records_places alone.
    query = (
        select(
            d.c.logical_environment,
            d.c.physical_environment,
            d.c.cluster,
            func.count().label("deployments"),
        )
        .where(
            d.c.org_id == org_id,
            d.c.status == DeploymentStatus.DEPLOYED,
            d.c.repository_id.in_(readable),
        )
        .group_by(d.c.logical_environment, d.c.physical_environment, d.c.cluster)
        .order_by(d.c.logical_environment, d.c.physical_environment, d.c.cluster)
    )
    return [
        EnvironmentSummary(
            logical_environment=row.logical_environment,
            physical_environment=row.physical_environment,
            cluster=row.cluster,
            deployments=row.deployments,
        )
        for row in await conn.execute(query)
    ]


# For other domains: which repositories have records, and the records of many repositories at once.


async def registry_urls(conn: AsyncConnection, org_id: int) -> list[str]:
    """The distinct registry URLs of the organization's storage records (deleted ones included).
    Read by skipping through the index from one URL to the next, a probe per registry, where a
    DISTINCT would read every record's entry."""
    t = storage_records
    first = select(func.min(t.c.registry_url)).where(t.c.org_id == org_id)
    urls = select(first.scalar_subquery().label("url")).cte("urls", recursive=True)
    after = first.where(t.c.registry_url > urls.c.url).scalar_subquery()
    urls = urls.union_all(select(after).where(urls.c.url.is_not(None)))
    rows = await conn.execute(select(urls.c.url).where(urls.c.url.is_not(None)))
    return [row[0] for row in rows]


async def repositories_with_records(
    conn: AsyncConnection,
    org_id: int,
    *,
    registries: Sequence[Sequence[str]],
    deployed: bool,
    runtime_risks: Sequence[str],
) -> set[int]:
    """Ids of the organization's repositories with, for each URL list of ``registries``, a storage
    record not deleted in one of those registries; with a record deployed now if ``deployed``; and
    with a record deployed now at one of ``runtime_risks`` if any. Each condition is an index probe
    per repository: an organization has far fewer repositories than records."""
    r = repositories
    query = select(r.c.id).where(r.c.owner_id == org_id)
    s = storage_records
    for urls in registries:
        query = query.where(
            exists().where(
                s.c.org_id == org_id,
                s.c.registry_url.in_(urls),
                s.c.repository_id == r.c.id,
                s.c.status != StorageStatus.DELETED.value,
            )
        )
    if deployed:
        d = deployment_records
        query = query.where(
            exists().where(
                d.c.repository_id == r.c.id,
                d.c.status == DeploymentStatus.DEPLOYED.value,
                d.c.org_id == org_id,
            )
        )
    if runtime_risks:
        k = deployment_risks
        query = query.where(
            exists().where(k.c.org_id == org_id, k.c.risk.in_(runtime_risks), k.c.repository_id == r.c.id)
        )
    return set((await conn.execute(query)).scalars())


async def storage_of_repositories(
    conn: AsyncConnection, repository_ids: Sequence[int], readable: Any
) -> list[tuple[int, StorageRecord]]:
    t = storage_records
    if not repository_ids:
        return []
    rows = await conn.execute(
        _storage_select.add_columns(t.c.repository_id.label("owner_repository_id"))
        .where(t.c.repository_id.in_(sorted(set(repository_ids))), t.c.repository_id.in_(readable))
        .order_by(t.c.id)
    )
    return [(row.owner_repository_id, _storage(row)) for row in rows]


async def deployed_digests(
    conn: AsyncConnection, digests: Sequence[str], readable: Any
) -> list[DeploymentRecord]:
    """Deployment records currently deploying any of the digests."""
    if not digests:
        return []
    t = deployment_records
    out: list[DeploymentRecord] = []
    wanted = sorted(set(digests))
    for start in range(0, len(wanted), CHUNK):
        rows = await conn.execute(
            select(t)
            .where(
                t.c.digest.in_(wanted[start : start + CHUNK]),
                t.c.status == DeploymentStatus.DEPLOYED.value,
                t.c.repository_id.in_(readable),
            )
            .order_by(t.c.id)
        )
        out.extend(_deployment(row) for row in rows)
    return out
