"""Rules of the advisory database: importing OSV documents, finding advisories, matching packages."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import msgspec
from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from waybill.alerts import lifecycle, records
from waybill.alerts import repository as repo
from waybill.alerts.ecosystems import Ecosystem, normalise_name, parse
from waybill.alerts.matching import MatchIndex
from waybill.alerts.osv import Document, InvalidDocument
from waybill.alerts.osv import parse as parse_osv
from waybill.core import clock, jobs, outbox
from waybill.core.db import Database
from waybill.core.errors import NotFound
from waybill.dependencies import service as dependencies


@dataclass
class ImportCounts:
    """Each document read lands in exactly one of the first four."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    withdrawn: int = 0
    invalid: int = 0

    @property
    def changed(self) -> int:
        return self.added + self.updated + self.withdrawn


async def import_documents(conn: AsyncConnection, docs: Iterable[Document], counts: ImportCounts) -> set[str]:
    """Store new and changed documents and rebuild the advisories they belong to; returns the GHSA
    ids of the advisories rebuilt. Idempotent: a document seen before with the same content is left
    alone, and one older than the stored copy never replaces it."""
    latest: dict[str, Document] = {}
    for doc in docs:
        seen = latest.get(doc.id)
        if seen is None or doc.modified >= seen.modified:
            latest[doc.id] = doc
    stored = await repo.stored_documents(conn, latest.keys())
    now = clock.now()
    rows: list[dict[str, Any]] = []
    touched: set[str] = set()
    # GHSA id -> the security_advisory action its documents' changes make (withdrawn wins).
    actions: dict[str, str] = {}
    for osv_id, doc in latest.items():
        digest = records.content_hash(doc)
        before = stored.get(osv_id)
        if before is not None and (before.content_hash == digest or doc.modified < before.modified_at):
            counts.unchanged += 1
            continue
        ghsa = records.ghsa_id(doc)
        if doc.withdrawn is not None and (before is None or before.withdrawn_at is None):
            counts.withdrawn += 1
            actions[ghsa] = "withdrawn"
        elif before is None:
            counts.added += 1
            actions.setdefault(ghsa, "published")
        else:
            counts.updated += 1
            if actions.get(ghsa) != "withdrawn":
                actions[ghsa] = "updated"
        touched.add(ghsa)
        if before is not None:
            touched.add(before.ghsa_id)
        rows.append(
            {
                "osv_id": osv_id,
                "ghsa_id": ghsa,
                "modified_at": doc.modified,
                "withdrawn_at": doc.withdrawn,
                "content_hash": digest,
                "document": msgspec.to_builtins(doc),
                "imported_at": now,
            }
        )
    await repo.upsert_documents(conn, rows)
    await rebuild(conn, touched)
    if actions:
        await outbox.publish_global(
            conn, SECURITY_ADVISORY_EVENT, {"advisories": [[g, a] for g, a in sorted(actions.items())]}
        )
    return touched


SECURITY_ADVISORY_EVENT = "security_advisory"


BATCH = 500


async def import_files(
    conn: AsyncConnection,
    files: Iterable[tuple[str, bytes]],
    *,
    progress: Callable[[int], None] = lambda _: None,
    problems: list[str] | None = None,
) -> ImportCounts:
    """Import OSV files given as (name, bytes), in batches; ``progress`` is told of each file read,
    and ``problems`` collects why invalid files were skipped."""
    counts = ImportCounts()
    batch: list[Document] = []
    for name, data in files:
        try:
            batch.extend(parse_osv(data, name))
        except InvalidDocument as error:
            counts.invalid += 1
            if problems is not None:
                problems.append(str(error))
        progress(1)
        if len(batch) >= BATCH:
            await import_documents(conn, batch, counts)
            batch = []
    await import_documents(conn, batch, counts)
    return counts


async def rebuild(conn: AsyncConnection, ghsa_ids: set[str]) -> None:
    if not ghsa_ids:
        return
    grouped: dict[str, list[Document]] = defaultdict(list)
    for row in await repo.documents_of(conn, ghsa_ids):
        grouped[row.ghsa_id].append(msgspec.convert(row.document, Document))
    merged = [records.merge(ghsa, docs) for ghsa, docs in sorted(grouped.items())]
    await repo.replace_advisories(conn, merged, ghsa_ids - grouped.keys())


async def get_advisory(conn: AsyncConnection, ghsa_id: str) -> tuple[Row[Any], list[Row[Any]]]:
    row = await repo.find_advisory(conn, ghsa_id)
    if row is None and ghsa_id.upper().startswith("GHSA-"):
        # GHSA ids are printed in lower case after the prefix; accept any case like GitHub does.
        row = await repo.find_advisory(conn, "GHSA-" + ghsa_id[5:].lower())
    if row is None:
        raise NotFound()
    return row, await repo.vulnerabilities_of(conn, [row.id])


@dataclass(frozen=True)
class Affects:
    """One ``affects`` item: a package name, with or without a version."""

    name: str
    version: str | None


async def advisory_ids_affecting(
    conn: AsyncConnection, items: Sequence[Affects], ecosystem: Ecosystem | None
) -> frozenset[int]:
    """Advisories listing any of the packages (any version), or affecting them at the given version.

    ``affects`` names no ecosystem: without the ``ecosystem`` filter a name is tried in each one."""
    scope = [ecosystem] if ecosystem is not None else list(Ecosystem)
    wanted: dict[tuple[str, str], list[Affects]] = defaultdict(list)
    for item in items:
        for eco in scope:
            wanted[(eco.value, normalise_name(eco, item.name))].append(item)
    rows = await repo.package_vulnerabilities(conn, wanted.keys(), live_only=False)
    found: set[int] = set()
    for row in rows:
        eco = Ecosystem(row.ecosystem)
        index = MatchIndex()
        index.add(row.ghsa_id, eco, row.package_name, row.ranges, row.versions)
        for item in wanted[(row.ecosystem, normalise_name(eco, row.package_name))]:
            if item.version is None or index.affected(eco.value, row.package_name, item.version):
                found.add(row.advisory_id)
                break
    return frozenset(found)


async def match_index(conn: AsyncConnection, packages: Iterable[tuple[str, str]]) -> MatchIndex:
    """The live advisories of just these (ecosystem, package name) pairs, ready for matching."""
    keys: set[tuple[str, str]] = set()
    for ecosystem, name in packages:
        eco = parse(ecosystem)
        if eco is not None:
            keys.add((eco.value, normalise_name(eco, name)))
    index = MatchIndex()
    for row in await repo.package_vulnerabilities(conn, keys, live_only=True):
        index.add(row.ghsa_id, Ecosystem(row.ecosystem), row.package_name, row.ranges, row.versions)
    return index


async def affected(conn: AsyncConnection, ecosystem: str, name: str, version: str) -> list[str]:
    """GHSA ids of the live advisories affecting one package version (empty for an unknown
    ecosystem or an unparsable version)."""
    index = await match_index(conn, [(ecosystem, name)])
    return index.affected(ecosystem, name, version)


async def affected_batch(conn: AsyncConnection, items: Sequence[tuple[str, str, str]]) -> list[list[str]]:
    """``affected`` for many (ecosystem, name, version) at once: one query for all their packages."""
    index = await match_index(conn, [(e, n) for e, n, _ in items])
    return index.affected_batch(items)


@dataclass(frozen=True)
class AdvisoryPage:
    rows: list[Row[Any]]
    vulnerabilities: dict[int, list[Row[Any]]]
    more: bool


async def list_advisories(
    conn: AsyncConnection,
    f: repo.AdvisoryFilter,
    *,
    affects: Sequence[Affects] | None,
    ecosystem: Ecosystem | None,
    sort: str,
    descending: bool,
    per_page: int,
    after: repo.Position | None,
    before: repo.Position | None,
) -> AdvisoryPage:
    if affects is not None:
        f = replace(f, ids=await advisory_ids_affecting(conn, affects, ecosystem))
    rows, more = await repo.list_advisories(
        conn, f, sort=sort, descending=descending, per_page=per_page, after=after, before=before
    )
    grouped: dict[int, list[Row[Any]]] = defaultdict(list)
    for v in await repo.vulnerabilities_of(conn, [r.id for r in rows]):
        grouped[v.advisory_id].append(v)
    return AdvisoryPage(rows, grouped, more)


async def count_advisories(conn: AsyncConnection) -> int:
    return await repo.count_advisories(conn)


# Alerts: evaluation after snapshots and imports.

REMATCH_JOB = "alerts.rematch"
# Repositories evaluated per transaction by the rematch job: short enough not to hold SQLite's one
# writer for long, long enough that commits do not dominate.
REMATCH_BATCH = 50


async def evaluate(db: Database, job: jobs.Job) -> dict[str, Any]:
    """The job that a change of a repository's current graph queues (``dependencies.GRAPH_CHANGED_JOB``):
    its alerts against that graph."""
    async with db.write() as conn:
        outcome = await lifecycle.evaluate_repository(conn, int(job.payload["repository_id"]))
    return {
        "opened": outcome.opened,
        "fixed": outcome.fixed,
        "reopened": outcome.reopened,
        "auto_dismissed": outcome.auto_dismissed,
    }


async def request_rematch(conn: AsyncConnection) -> int:
    """Queue the re-evaluation of every repository (after advisories changed); a rematch still
    waiting to start covers this request too. Returns the job's id."""
    waiting = await jobs.find_active(conn, REMATCH_JOB, "all")
    if waiting is not None and waiting.status is jobs.JobStatus.PENDING:
        return waiting.id
    return await jobs.enqueue(conn, REMATCH_JOB, {}, key="all")


async def rematch(db: Database, job: jobs.Job) -> dict[str, Any]:
    """The ``alerts.rematch`` job: every repository with a graph or alerts, against one index of
    every alerting advisory. Idempotent: a rerun finds the alerts already in line."""
    async with db.read() as conn:
        index = await lifecycle.index_for(conn, None)
        ids = sorted(
            set(await dependencies.repositories_with_graph(conn))
            | set(await repo.repositories_with_alerts(conn))
        )
    total = lifecycle.Outcome()
    for start in range(0, len(ids), REMATCH_BATCH):
        async with db.write() as conn:
            for repository_id in ids[start : start + REMATCH_BATCH]:
                total.add(await lifecycle.evaluate_repository(conn, repository_id, index))
    return {
        "repositories": len(ids),
        "advisories": len(index.matcher),
        "opened": total.opened,
        "fixed": total.fixed,
        "reopened": total.reopened,
        "auto_dismissed": total.auto_dismissed,
    }


async def package_vulnerabilities(
    conn: AsyncConnection, packages: Sequence[tuple[str, str, str, str | None]], web_base: str
) -> dict[str, list[dict[str, str]]]:
    """For (package URL, ecosystem, name, version): the live alerting advisories affecting each, in
    dependency review's shape, by package URL."""
    wanted: list[tuple[str, Ecosystem, str, str]] = []
    for purl, ecosystem, name, version in packages:
        eco = parse(ecosystem)
        if eco is not None and version:
            wanted.append((purl, eco, name, version))
    if not wanted:
        return {}
    index = await lifecycle.index_for(conn, {(eco, name) for _, eco, name, _ in wanted})
    hits = {purl: index.affected(eco, name, version) for purl, eco, name, version in wanted}
    rows = await repo.advisories_by_ids(conn, {a for found in hits.values() for a in found})
    return {
        purl: [
            {
                "severity": rows[a].severity,
                "advisory_ghsa_id": rows[a].ghsa_id,
                "advisory_summary": rows[a].summary,
                "advisory_url": f"{web_base}/advisories/{rows[a].ghsa_id}",
            }
            for a in found
        ]
        for purl, found in hits.items()
        if found
    }
