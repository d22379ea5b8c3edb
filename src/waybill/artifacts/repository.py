"""All SQL of the artifact metadata domain."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

import msgspec
from sqlalchemy import (
    Row,
    and_,
    bindparam,
    case,
    exists,
    func,
    literal,
    literal_column,
    select,
    text,
    tuple_,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from waybill.accounts.models import repositories
from waybill.accounts.repository import ACCOUNT_COLUMNS, account_from_values, org_id_by_login
from waybill.accounts.types import Account, OrgRole, Repository, Role
from waybill.artifacts.models import (
    artifacts,
    deployment_history,
    deployment_records,
    deployment_risks,
    storage_records,
)
from waybill.artifacts.types import (
    ArtifactFilter,
    BuiltBy,
    Change,
    DeploymentRecord,
    DeploymentStatus,
    EnvironmentDeployment,
    EnvironmentSummary,
    Footprint,
    HistoryEntry,
    HistoryFilter,
    LinkedArtifact,
    Place,
    Running,
    ShownArtifact,
    StorageRecord,
    StorageStatus,
)
from waybill.attestations.schemas import SLSA_PROVENANCE
from waybill.attestations.types import DEFAULT_MODE, Mode
from waybill.auth.repository import RepositoryIds
from waybill.core import audit, keyset, outbox
from waybill.core.db import Database, json_rows
from waybill.core.drivers import Sql, sqlite_time, utc
from waybill.core.keyset import Cursor, Page
from waybill.core.rows import values_of

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


# The reads by digest are the hottest statements: each is built and compiled once per organization and
# caller (``readable`` is memoized too), then run through the driver.
@lru_cache(maxsize=1024)
def _deployments_by_digest(org_login: str, readable: RepositoryIds) -> Any:
    t = deployment_records
    return (
        select(t)
        .where(
            t.c.org_id == org_id_by_login(org_login),
            t.c.digest == bindparam("digest", ""),
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


@lru_cache(maxsize=1024)
def _storage_by_digest(org_login: str, readable: RepositoryIds) -> Any:
    t = storage_records
    return _storage_select.where(
        t.c.org_id == org_id_by_login(org_login),
        t.c.digest == bindparam("digest", ""),
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
    readable: RepositoryIds,
    where: HistoryFilter,
    cursor: Cursor,
) -> Page[HistoryEntry]:
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
        (h.c.digest, None if where.digest is None else str(where.digest)),
        (h.c.status, where.status),
    ):
        if value is not None:
            query = query.where(column == value)
    if where.record_ids is not None:
        query = query.where(h.c.record_id.in_(where.record_ids))
    # The newest changes of a window are found walking the history newest first (the order of every
    # page); an index on the time would have the planner read and sort the whole window instead.
    recorded_at = func.coalesce(h.c.recorded_at, h.c.recorded_at)
    if where.since is not None:
        query = query.where(recorded_at > where.since)
    if where.until is not None:
        query = query.where(recorded_at <= where.until)
    if where.at is not None:
        latest = deployment_history.alias("latest")
        newest = select(func.max(latest.c.id)).where(
            latest.c.org_id == org_id, latest.c.recorded_at <= where.at
        )
        if where.record_ids is not None:
            # A few records' states come from their own entries, not from the whole organization's.
            newest = newest.where(latest.c.record_id.in_(where.record_ids))
        query = query.where(h.c.id.in_(newest.group_by(latest.c.record_id)))
    return (await keyset.fetch_page(conn, query, h.c.id, cursor)).map(_history_entry)


@dataclass(frozen=True)
class DigestSpan:
    record_id: int
    first_deployed_at: datetime
    last_deployed_at: datetime


async def digest_spans(
    conn: AsyncConnection,
    org_id: int,
    digest: str,
    readable: RepositoryIds,
    cursor: Cursor,
) -> Page[DigestSpan]:
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
    page = await keyset.fetch_page(conn, query, h.c.record_id, cursor)
    return page.map(lambda row: DigestSpan(row.record_id, row.first_deployed_at, row.last_deployed_at))


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


def _artifact_query(org_id: int, readable: RepositoryIds, where: ArtifactFilter) -> Any:
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
    readable: RepositoryIds,
    where: ArtifactFilter,
    cursor: Cursor,
) -> Page[LinkedArtifact]:
    """The organization's artifacts in readable repositories, newest first, each with its storage
    records and current deployments: three queries a page, whatever its size."""
    query = _artifact_query(org_id, readable, where)
    page = await keyset.fetch_page(conn, query, artifacts.c.id, cursor)
    digests = sorted({row.digest for row in page.items})
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
    for row in page.items:
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
    return Page(items, page.next_key, page.prev_key)


async def environment_summaries(
    conn: AsyncConnection, org_id: int, readable: RepositoryIds
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
    conn: AsyncConnection, repository_ids: Sequence[int], readable: RepositoryIds
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
    conn: AsyncConnection, digests: Sequence[str], readable: RepositoryIds
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


async def footprint(
    conn: AsyncConnection,
    org_id: int,
    repository_ids: Sequence[int],
    attested: Any,
    readable: RepositoryIds,
    weights: dict[str, int],
    shown: int,
) -> Footprint:
    """What the repositories built (``attested``: their attestation subjects, as (repository_id,
    digest, attested); and the storage records the caller may read) and where the organization runs
    it now, aggregated in one statement so that only the ``shown`` most exposed digests leave the
    database one by one. A deployment's exposure is 1 plus the ``weights`` of its runtime risks;
    each weight is a bit of its own, so their sum also names the risks."""
    s, d, k = storage_records, deployment_records, deployment_risks
    ids = sorted(set(repository_ids))
    # Every CTE below is read more than once, so both databases compute each of them once.
    visible = (
        select(repositories.c.id)
        .where(repositories.c.owner_id == org_id, repositories.c.id.in_(readable))
        .cte("visible")
    )
    stored = select(s.c.repository_id, s.c.digest, literal_column("0").label("attested")).where(
        s.c.repository_id.in_(ids), s.c.repository_id.in_(select(visible.c.id))
    )
    either = union_all(stored, attested).subquery()
    built = (
        select(either.c.repository_id, either.c.digest, func.max(either.c.attested).label("attested"))
        .group_by(either.c.repository_id, either.c.digest)
        .cte("built")
    )
    risk_bits = select(func.coalesce(func.sum(case(weights, value=k.c.risk, else_=0)), 0)).where(
        k.c.record_id == d.c.id
    )
    running = (
        select(
            d.c.id,
            d.c.digest,
            d.c.logical_environment,
            d.c.cluster,
            risk_bits.scalar_subquery().label("risks"),
        )
        .where(
            d.c.org_id == org_id,
            d.c.digest.in_(select(built.c.digest)),
            d.c.status == DeploymentStatus.DEPLOYED.value,
            d.c.repository_id.in_(select(visible.c.id)),
        )
        .cte("running")
    )
    running_exposure = 1 + running.c.risks
    joined = (
        select(
            built.c.repository_id,
            built.c.digest,
            running.c.id,
            func.coalesce(running_exposure, 0).label("exposure"),
            func.coalesce(running.c.risks, 0).label("risks"),
        )
        .select_from(built.outerjoin(running, running.c.digest == built.c.digest))
        .cte("joined")
    )
    digests = (
        select(joined.c.digest, func.max(joined.c.exposure).label("highest"))
        .group_by(joined.c.digest)
        .cte("digests")
    )
    top = (
        select(digests.c.digest, digests.c.highest)
        .order_by(digests.c.highest.desc(), digests.c.digest)
        .limit(shown)
        .cte("top")
    )
    shown_digests = select(top.c.digest)

    def folded(digest: Any, exposure: Any) -> Any:
        return func.max(case((digest.not_in(shown_digests), exposure), else_=-1))

    def rows(*columns: Any) -> Any:
        return select(json_rows(*columns)).scalar_subquery()

    per_repository = (
        select(
            joined.c.repository_id,
            func.count(joined.c.digest.distinct()).label("digests"),
            func.count(joined.c.id).label("deployments"),
            func.max(joined.c.exposure).label("highest"),
            func.sum(joined.c.exposure).label("score"),
            folded(joined.c.digest, joined.c.exposure).label("folded"),
            # The union of the risk bits, one bit at a time: the databases share no OR aggregate.
            sum((func.max(joined.c.risks.op("&")(bit)) for bit in weights.values()), literal(0)).label(
                "risks"
            ),
        )
        .group_by(joined.c.repository_id)
        .subquery()
    )
    places = (
        select(
            running.c.logical_environment,
            running.c.cluster,
            func.count().label("deployments"),
            func.max(running_exposure).label("highest"),
            folded(running.c.digest, running_exposure).label("folded"),
        )
        .group_by(running.c.logical_environment, running.c.cluster)
        .subquery()
    )
    named = (
        select(s.c.digest, artifacts.c.name)
        .distinct()
        .join(
            artifacts, and_(artifacts.c.repository_id == s.c.repository_id, artifacts.c.digest == s.c.digest)
        )
        .where(
            s.c.digest.in_(shown_digests),
            s.c.repository_id.in_(ids),
            s.c.repository_id.in_(select(visible.c.id)),
        )
        .subquery()
    )
    shown_built = select(built).where(built.c.digest.in_(shown_digests)).subquery()
    shown_running = (
        select(*running.c, running_exposure.label("exposure"))
        .where(running.c.digest.in_(shown_digests))
        .subquery()
    )
    found = (
        await conn.execute(
            select(
                select(func.count()).select_from(digests).scalar_subquery(),
                rows(top.c.digest, top.c.highest),
                rows(*per_repository.c),
                rows(*places.c),
                rows(*shown_built.c),
                rows(named.c.digest, named.c.name),
                rows(
                    shown_running.c.digest,
                    shown_running.c.logical_environment,
                    shown_running.c.cluster,
                    shown_running.c.exposure,
                    shown_running.c.id,
                ),
            )
        )
    ).one()
    total, top_rows, repository_rows, place_rows, built_rows, name_rows, run_rows = (
        found[0],
        *(part or [] for part in found[1:]),
    )
    if not total:
        return Footprint({}, [], 0, [])

    def risks_of(bits: int) -> tuple[str, ...]:
        return tuple(sorted(risk for risk, bit in weights.items() if bits & bit))

    repositories_built = {
        repository_id: BuiltBy(count, deployments, highest, score, risks_of(bits), folded_highest)
        for repository_id, count, deployments, highest, score, folded_highest, bits in repository_rows
    }
    places_found = [Place(*row) for row in sorted(place_rows, key=lambda row: (-row[3], row[0], row[1]))]
    builders: dict[str, list[int]] = {}
    attested_digests: set[str] = set()
    for repository_id, digest, was_attested in sorted(built_rows):
        builders.setdefault(digest, []).append(repository_id)
        if was_attested:
            attested_digests.add(digest)
    names: dict[str, list[str]] = {}
    for digest, name in sorted(name_rows, key=lambda row: row[1]):
        names.setdefault(digest, []).append(name)
    runs: dict[str, list[Running]] = {}
    for digest, environment, cluster, exposure, _ in sorted(run_rows, key=lambda row: (-row[3], row[4])):
        runs.setdefault(digest, []).append(Running(environment, cluster, exposure))
    shown_artifacts = [
        ShownArtifact(
            digest,
            digest in attested_digests,
            tuple(names.get(digest, ())),
            tuple(builders.get(digest, ())),
            tuple(runs.get(digest, ())),
            highest,
        )
        for digest, highest in sorted(top_rows, key=lambda row: (-row[1], row[0]))
    ]
    return Footprint(repositories_built, shown_artifacts, total, places_found)


# The hot writes and reads, through the drivers (``waybill.core.drivers``): SQL written once.

_DEPLOYMENT_COLUMNS = ", ".join(c.name for c in deployment_records.c)


@dataclass(frozen=True)
class WriteTarget:
    """What a single write needs to know, read in one statement: the organization, the repository the
    artifact lands in (its provenance attestation's, else the named one), and the caller's roles."""

    org: Account
    repository: Repository | None
    attestation_id: int | None
    org_role: OrgRole | None
    collaborator: Role | None


WRITE_TARGET = Sql(
    f"""
WITH org AS (
    SELECT {", ".join(ACCOUNT_COLUMNS)} FROM accounts WHERE login_key = :org
), provenance AS (
    SELECT a.id AS attestation_id, a.repository_id
    FROM attestation_subjects AS s
    JOIN attestations AS a ON a.id = s.attestation_id
    JOIN repositories AS r ON r.id = a.repository_id
    LEFT JOIN attestation_repository_policies AS rp ON rp.repository_id = a.repository_id
    LEFT JOIN attestation_owner_policies AS op ON op.account_id = r.owner_id
    LEFT JOIN attestation_verifications AS v ON v.attestation_id = a.id
    WHERE s.digest = :digest AND r.owner_id = (SELECT id FROM org)
        AND a.predicate_type IN ({", ".join(f"'{p}'" for p in SLSA_PROVENANCE)})
        AND (COALESCE(rp.mode, op.mode, '{DEFAULT_MODE.value}') <> '{Mode.ENFORCE.value}' OR v.verified)
    ORDER BY a.id DESC LIMIT 1
), target AS (
    SELECT r.id, r.name, r.private, r.description, r.default_branch, r.created_at, r.updated_at,
        p.attestation_id
    FROM provenance AS p JOIN repositories AS r ON r.id = p.repository_id
    UNION ALL
    SELECT r.id, r.name, r.private, r.description, r.default_branch, r.created_at, r.updated_at, NULL
    FROM repositories AS r
    WHERE r.owner_id = (SELECT id FROM org) AND r.name_key = :repository
        AND NOT EXISTS (SELECT 1 FROM provenance)
)
SELECT org.*, target.*,
    (SELECT m.role FROM memberships AS m WHERE m.org_id = org.id AND m.user_id = :user_id),
    (SELECT c.permission FROM collaborators AS c WHERE c.repository_id = target.id AND c.user_id = :user_id)
FROM org LEFT JOIN target ON TRUE
"""
)


async def write_target(
    db: Database, org_login: str, digest: str, repository: str | None, user_id: int
) -> WriteTarget | None:
    """None when there is no such account."""
    params = {
        "org": org_login.lower(),
        "digest": digest.lower(),
        "repository": None if repository is None else repository.lower(),
        "user_id": user_id,
    }
    rows = await db.fetch(WRITE_TARGET, params)
    if not rows:
        return None
    row = rows[0]
    org = account_from_values(row)
    repository_found = None
    if row[8] is not None:
        repository_found = Repository(
            id=row[8],
            owner=org,
            name=row[9],
            private=bool(row[10]),
            description=row[11],
            default_branch=row[12],
            created_at=utc(row[13]),
            updated_at=utc(row[14]),
        )
    return WriteTarget(
        org=org,
        repository=repository_found,
        attestation_id=row[15],
        org_role=None if row[16] is None else OrgRole(row[16]),
        collaborator=None if row[17] is None else Role.parse(row[17]),
    )


# What an upsert changed, computed against the row it locked (the latest committed version), never
# against a snapshot read earlier: a concurrent writer's change is seen as this write's predecessor.
_ON_RECORD_CONFLICT = f"""
ON CONFLICT (org_id, logical_environment, physical_environment, cluster, deployment_name) DO UPDATE SET
    last_change = CASE
        WHEN excluded.status = '{DeploymentStatus.DECOMMISSIONED.value}' AND t.status <> excluded.status
            THEN '{Change.DECOMMISSIONED.value}'
        WHEN t.digest <> excluded.digest THEN '{Change.DIGEST_CHANGED.value}'
        WHEN t.status <> excluded.status THEN '{Change.STATUS_CHANGED.value}'
        WHEN t.repository_id <> excluded.repository_id OR t.tags <> excluded.tags
            OR t.runtime_risks <> excluded.runtime_risks
            OR t.attestation_id IS DISTINCT FROM excluded.attestation_id
            THEN '{Change.UPDATED.value}'
    END,
    repository_id = excluded.repository_id, digest = excluded.digest, status = excluded.status,
    tags = excluded.tags, runtime_risks = excluded.runtime_risks,
    attestation_id = excluded.attestation_id, updated_at = excluded.updated_at
RETURNING {_DEPLOYMENT_COLUMNS}
"""

_INSERT_RECORD = """
INSERT INTO artifact_deployment_records AS t (org_id, repository_id, digest, logical_environment,
    physical_environment, cluster, deployment_name, status, tags, runtime_risks, attestation_id,
    last_change, created_at, updated_at)
"""

_HISTORY_COLUMNS = (
    "record_id, org_id, repository_id, change, digest, status, tags, runtime_risks, attestation_id,"
    " recorded_at"
)

# The webhook event of a record's change (``outbox``): queued by the write itself, and only when a
# hook hears it. "updated" (tags, risks, repository or attestation alone) is no event.
DEPLOYMENT_EVENT = "deployment_record"
STORAGE_EVENT = "storage_record"
# A storage write creates or updates its record: the audit log names both so.
STORAGE_ACTION = "written"
EVENT_CHANGES = (Change.CREATED, Change.DIGEST_CHANGED, Change.STATUS_CHANGED, Change.DECOMMISSIONED)
_EVENT_CHANGES = ", ".join(f"'{c.value}'" for c in EVENT_CHANGES)
_RECORD_COLUMNS = [c.name for c in deployment_records.c]

# PostgreSQL: one statement, whatever the number of records (arrays, unnested), so it is prepared
# once; the event, if a hook hears it, is a job inserted by the same statement. Artifacts and records
# are written in key order, so that concurrent writers never deadlock.
UPSERT_DEPLOYMENTS_PG = Sql(
    f"""
WITH new_artifacts AS (
    INSERT INTO artifacts (repository_id, digest, name, version, created_at)
    SELECT a.repository_id, a.digest, a.name, a.version, :now
    FROM unnest(:artifact_repositories::bigint[], :artifact_digests::text[], :artifact_names::text[],
        :artifact_versions::text[]) AS a(repository_id, digest, name, version)
    ORDER BY a.repository_id, a.digest
    ON CONFLICT (repository_id, digest) DO NOTHING
), upserted AS (
    {_INSERT_RECORD}
    SELECT :org_id, d.repository_id, d.digest, :logical_environment, :physical_environment, :cluster,
        d.deployment_name, d.status, d.tags, d.runtime_risks, d.attestation_id, '{Change.CREATED.value}',
        :now, :now
    FROM unnest(:repositories::bigint[], :digests::text[], :deployment_names::text[], :statuses::text[],
        :tags::jsonb[], :runtime_risks::jsonb[], :attestations::bigint[])
        AS d(repository_id, digest, deployment_name, status, tags, runtime_risks, attestation_id)
    ORDER BY d.deployment_name
    {_ON_RECORD_CONFLICT}
), history AS (
    INSERT INTO artifact_deployment_history ({_HISTORY_COLUMNS})
    SELECT id, org_id, repository_id, last_change, digest, status, tags, runtime_risks, attestation_id, :now
    FROM upserted WHERE last_change IS NOT NULL
), events AS (
    {outbox.JOB_INSERT}
    SELECT {outbox.JOB_VALUES},
        jsonb_build_object('event', '{DEPLOYMENT_EVENT}', 'account_id', CAST(:org_id AS bigint),
            'sender_id', CAST(:sender_id AS bigint), 'records', jsonb_agg(to_jsonb(u) ORDER BY u.id)),
        0, :now, :now
    FROM upserted AS u
    WHERE u.last_change IN ({_EVENT_CHANGES}) AND {outbox.subscribed_sql(":org_id", f"'{DEPLOYMENT_EVENT}'")}
    HAVING count(*) > 0
), audit AS (
    INSERT INTO audit_log ({audit.ENTRY_COLUMNS})
    SELECT :org_id, u.repository_id, '{DEPLOYMENT_EVENT}.' || u.last_change, u.deployment_name,
        {audit.ACTOR_VALUES_PG}, :now
    FROM upserted AS u WHERE u.last_change IS NOT NULL
)
SELECT * FROM upserted
"""
)


def _element(i: int) -> str:
    return f"json_extract(value, '$[{i}]')"


def _elements(first: int, last: int) -> str:
    return ", ".join(_element(i) for i in range(first, last + 1))


# SQLite: each statement takes all of a write's rows as one JSON array (``_rows``): one call into
# sqlite3 per statement, however many rows. A call per row re-takes the GIL after every row, and
# under load the event loop's thread holds it for up to the switch interval each time.
_INSERT_ARTIFACTS_SQLITE = f"""
INSERT INTO artifacts (repository_id, digest, name, version, created_at)
SELECT {_elements(0, 3)}, :now FROM json_each(:rows) WHERE true
ON CONFLICT (repository_id, digest) DO NOTHING
"""
_UPSERT_RECORDS_SQLITE = f"""
{_INSERT_RECORD}
SELECT :org_id, {_elements(0, 1)}, :logical_environment, :physical_environment, :cluster, {_elements(2, 6)},
    '{Change.CREATED.value}', :now, :now
FROM json_each(:rows) WHERE true
{_ON_RECORD_CONFLICT}
"""
_INSERT_HISTORY_SQLITE = f"""
INSERT INTO artifact_deployment_history ({_HISTORY_COLUMNS})
SELECT {_elements(0, 8)}, :now FROM json_each(:rows)
"""


def _rows(rows: Iterable[Sequence[Any]]) -> str:
    """Rows for ``json_each``; a JSON column's value goes in as its text, so that it is stored (and
    compared) exactly as the other writes store it."""
    return json.dumps(list(rows))


def _json(value: Any) -> str:
    # The same text SQLAlchemy's JSON type writes, so that SQLite compares old and new values alike.
    return json.dumps(value)


# The drivers hand JSON columns over as text; msgspec reads it several times faster than json.
_read_json = msgspec.json.Decoder().decode


def _record(row: Sequence[Any]) -> DeploymentRecord:
    """A record from a driver's row, in ``deployment_records``' column order."""
    return DeploymentRecord(
        id=row[0],
        org_id=row[1],
        repository_id=row[2],
        digest=row[3],
        logical_environment=row[4],
        physical_environment=row[5],
        cluster=row[6],
        deployment_name=row[7],
        status=DeploymentStatus(row[8]),
        tags=_read_json(row[9]),
        runtime_risks=_read_json(row[10]),
        attestation_id=row[11],
        last_change=None if row[12] is None else Change(row[12]),
        created_at=utc(row[13]),
        updated_at=utc(row[14]),
    )


async def upsert_deployments(
    db: Database,
    *,
    org_id: int,
    logical_environment: str,
    physical_environment: str,
    cluster: str,
    artifacts: Sequence[ArtifactRow],
    rows: Sequence[DeploymentRow],
    now: datetime,
    sender_id: int | None = None,
) -> list[DeploymentRecord]:
    """Create the artifacts not there yet (an existing one keeps its name and version), then create
    or update one record per row (deployment names must be distinct) and append what changed to the
    history; the risk rows follow the records by trigger (``artifacts_0004``). All or nothing.
    Returns the records, each with ``last_change`` saying what this write changed (None: nothing
    but ``updated_at``)."""
    if db.is_sqlite:
        who = audit.actor_params()
        return await db.group_write(
            lambda conn: _upsert_deployments_sqlite(
                conn,
                who,
                org_id,
                logical_environment,
                physical_environment,
                cluster,
                artifacts,
                rows,
                now,
                sender_id,
            )
        )
    params = {
        "now": now,
        "artifact_repositories": [a.repository_id for a in artifacts],
        "artifact_digests": [a.digest for a in artifacts],
        "artifact_names": [a.name for a in artifacts],
        "artifact_versions": [a.version for a in artifacts],
        "org_id": org_id,
        "logical_environment": logical_environment,
        "physical_environment": physical_environment,
        "cluster": cluster,
        "repositories": [r.repository_id for r in rows],
        "digests": [r.digest for r in rows],
        "deployment_names": [r.deployment_name for r in rows],
        "statuses": [r.status.value for r in rows],
        "tags": [_json(r.tags) for r in rows],
        "runtime_risks": [_json(r.runtime_risks) for r in rows],
        "attestations": [r.attestation_id for r in rows],
        "sender_id": sender_id,
        **audit.actor_params(),
    }
    return [_record(row) for row in await db.fetch_written(UPSERT_DEPLOYMENTS_PG, params)]


def _upsert_deployments_sqlite(
    conn: sqlite3.Connection,
    who: dict[str, Any],
    org_id: int,
    logical_environment: str,
    physical_environment: str,
    cluster: str,
    artifacts: Sequence[ArtifactRow],
    rows: Sequence[DeploymentRow],
    now: datetime,
    sender_id: int | None,
) -> list[DeploymentRecord]:
    at = sqlite_time(now)
    artifact_rows = sorted((a.repository_id, a.digest, a.name, a.version) for a in artifacts)
    conn.execute(_INSERT_ARTIFACTS_SQLITE, {"rows": _rows(artifact_rows), "now": at})
    record_rows = (
        (r.repository_id, r.digest, r.deployment_name, r.status.value, _json(r.tags), _json(r.runtime_risks),
         r.attestation_id)
        for r in sorted(rows, key=lambda r: r.deployment_name)
    )  # fmt: skip
    params = {
        "org_id": org_id,
        "logical_environment": logical_environment,
        "physical_environment": physical_environment,
        "cluster": cluster,
        "rows": _rows(record_rows),
        "now": at,
    }
    returned = conn.execute(_UPSERT_RECORDS_SQLITE, params).fetchall()
    # (id, org_id, repository_id, ..., last_change) in the records' column order.
    history = [(*row[:3], row[12], row[3], row[8], row[9], row[10], row[11]) for row in returned if row[12]]
    if history:
        conn.execute(_INSERT_HISTORY_SQLITE, {"rows": _rows(history), "now": at})
        entries = [(row[2], f"{DEPLOYMENT_EVENT}.{row[12]}", row[7]) for row in returned if row[12]]
        audit.record_many_sqlite(conn, who, org_id, _rows(entries), now)
    # The writer is in this process: the probe costs no round trip, and without hooks nothing else runs.
    changed = [row for row in returned if row[12] in EVENT_CHANGES]
    if changed and outbox.subscribed(conn, org_id, DEPLOYMENT_EVENT):
        records = [
            {
                **dict(zip(_RECORD_COLUMNS, row, strict=True)),
                "tags": json.loads(row[9]),
                "runtime_risks": json.loads(row[10]),
            }
            for row in changed
        ]
        event = {"event": DEPLOYMENT_EVENT, "account_id": org_id, "sender_id": sender_id, "records": records}
        outbox.enqueue_sqlite(conn, event, now)
    return [_record(row) for row in returned]


_STORAGE_UPSERT = f"""
INSERT INTO artifact_storage_records AS t (org_id, repository_id, digest, registry_url, registry_repository,
    artifact_url, path, version, status, created_at, updated_at)
VALUES (:org_id, :repository_id, :digest, :registry_url, :registry_repository, :artifact_url, :path,
    :version, :status, :now, :now)
ON CONFLICT (repository_id, digest, registry_url, registry_repository) DO UPDATE SET
    artifact_url = excluded.artifact_url, path = excluded.path, version = excluded.version,
    status = excluded.status, updated_at = excluded.updated_at
RETURNING {", ".join(c.name for c in storage_records.c)}
"""
_ARTIFACT_INSERT = """
INSERT INTO artifacts (repository_id, digest, name, version, created_at)
VALUES (:repository_id, :digest, :name, :version, :now)
ON CONFLICT (repository_id, digest) DO NOTHING
"""
_ARTIFACT_NAME = "SELECT name FROM artifacts WHERE repository_id = :repository_id AND digest = :digest"

# The artifact's name is its first writer's: the one inserted here, else the one already stored.
_STORAGE_NAME = f"COALESCE((SELECT name FROM new_artifact), ({_ARTIFACT_NAME}), :name)"
_UPSERT_STORAGE_PG = Sql(
    f"""
WITH new_artifact AS ({_ARTIFACT_INSERT} RETURNING name), stored AS ({_STORAGE_UPSERT}), event AS (
    {outbox.JOB_INSERT}
    SELECT {outbox.JOB_VALUES},
        jsonb_build_object('event', '{STORAGE_EVENT}', 'account_id', CAST(:org_id AS bigint),
            'sender_id', CAST(:sender_id AS bigint), 'record', to_jsonb(s), 'name', {_STORAGE_NAME}),
        0, :now, :now
    FROM stored AS s WHERE {outbox.subscribed_sql(":org_id", f"'{STORAGE_EVENT}'")}
), audit AS (
    INSERT INTO audit_log ({audit.ENTRY_COLUMNS})
    SELECT :org_id, s.repository_id, '{STORAGE_EVENT}.{STORAGE_ACTION}', s.digest,
        {audit.ACTOR_VALUES_PG}, :now
    FROM stored AS s
)
SELECT stored.*, {_STORAGE_NAME} FROM stored
"""
)
_STORAGE_COLUMNS = [c.name for c in storage_records.c]


def _storage_row(row: Sequence[Any]) -> StorageRecord:
    """A storage record from a driver's row: ``storage_records``' columns, then the artifact's name."""
    return StorageRecord(
        id=row[0],
        name=row[12],
        digest=row[3],
        artifact_url=row[6],
        registry_url=row[4],
        repository=row[5] or None,
        status=StorageStatus(row[9]),
        created_at=utc(row[10]),
        updated_at=utc(row[11]),
    )


async def upsert_storage_record(
    db: Database,
    *,
    org_id: int,
    repository_id: int,
    artifact: ArtifactRow,
    registry_url: str,
    registry_repository: str | None,
    artifact_url: str | None,
    path: str | None,
    status: StorageStatus,
    now: datetime,
    sender_id: int | None = None,
) -> StorageRecord:
    """One record per artifact and place in a registry (registry URL and repository within it): a
    repeated POST for the same place updates the URL, path, version and status. The artifact is
    created first if it is new."""
    params = {
        "org_id": org_id,
        "repository_id": repository_id,
        "digest": artifact.digest,
        "name": artifact.name,
        "version": artifact.version,
        "registry_url": registry_url,
        "registry_repository": registry_repository or "",
        "artifact_url": artifact_url,
        "path": path,
        "status": status.value,
        "now": now,
        "sender_id": sender_id,
    }
    who = audit.actor_params()
    if not db.is_sqlite:
        return _storage_row((await db.fetch_written(_UPSERT_STORAGE_PG, {**params, **who}))[0])

    def work(conn: sqlite3.Connection) -> StorageRecord:
        local = {**params, "now": sqlite_time(now)}
        conn.execute(_ARTIFACT_INSERT, local)
        stored = conn.execute(_STORAGE_UPSERT, local).fetchone()
        name = conn.execute(_ARTIFACT_NAME, local).fetchone()[0]
        audit.record_sqlite(
            conn, who, org_id, f"{STORAGE_EVENT}.{STORAGE_ACTION}", repository_id=repository_id,
            target=artifact.digest, now=now,
        )  # fmt: skip
        if outbox.subscribed(conn, org_id, STORAGE_EVENT):
            record = dict(zip(_STORAGE_COLUMNS, stored, strict=True))
            event = {"event": STORAGE_EVENT, "account_id": org_id, "sender_id": sender_id, "record": record}
            outbox.enqueue_sqlite(conn, {**event, "name": name}, now)
        return _storage_row((*stored, name))

    return await db.group_write(work)


async def deployments_by_digest(
    db: Database, org_login: str, digest: str, readable: RepositoryIds
) -> list[DeploymentRecord]:
    query = db.compiled(_deployments_by_digest(org_login.lower(), readable))
    return [_record(row) for row in await db.fetch(query.sql, query.bind(digest=digest))]


async def storage_by_digest(
    db: Database, org_login: str, digest: str, readable: RepositoryIds
) -> list[StorageRecord]:
    query = db.compiled(_storage_by_digest(org_login.lower(), readable))
    return [_storage_row(row) for row in await db.fetch(query.sql, query.bind(digest=digest))]


_environment_deployment = values_of(EnvironmentDeployment)


async def first_deployments_since(
    conn: AsyncConnection, org_id: int, logical_environment: str, digests: Sequence[str], since: datetime
) -> list[EnvironmentDeployment]:
    """Every history entry of these digests in the logical environment recorded at or after
    ``since``, oldest first."""
    h = deployment_history.c
    d = deployment_records.c
    query = (
        select(h.digest, h.record_id, d.deployment_name, d.cluster, h.recorded_at)
        .join(deployment_records, d.id == h.record_id)
        .where(
            h.org_id == org_id,
            h.digest.in_(digests),
            h.recorded_at >= since,
            d.logical_environment == logical_environment,
        )
        .order_by(h.recorded_at, h.id)
    )
    return [_environment_deployment(row) for row in await conn.execute(query)]
