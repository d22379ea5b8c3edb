"""Rules of the advisory database: importing OSV documents, finding advisories, matching packages."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import msgspec
from sqlalchemy.ext.asyncio import AsyncConnection

from waybill.advisories import merging
from waybill.advisories import repository as repo
from waybill.advisories.ecosystems import Ecosystem, normalise_name, parse
from waybill.advisories.matching import AdvisoryIndex, MatchIndex
from waybill.advisories.osv import Document, InvalidDocument
from waybill.advisories.osv import parse as parse_osv
from waybill.advisories.types import Advisory, AdvisoryFilter, Affects, Vulnerability
from waybill.core import clock, outbox
from waybill.core.errors import NotFound
from waybill.core.keyset import Position

# Queued when advisories changed, for the domains whose findings rest on them; its name predates
# this domain owning it.
ADVISORIES_CHANGED_JOB = "alerts.rematch"
# Called with the GHSA ids of advisories about to be deleted, in their transaction, so that the rows
# hanging on them can settle first.
Dropping = Callable[[AsyncConnection, Collection[str]], Awaitable[None]]


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


async def import_documents(
    conn: AsyncConnection, docs: Iterable[Document], counts: ImportCounts, dropping: Dropping
) -> set[str]:
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
        digest = merging.content_hash(doc)
        before = stored.get(osv_id)
        if before is not None and (before.content_hash == digest or doc.modified < before.modified_at):
            counts.unchanged += 1
            continue
        ghsa = merging.ghsa_id(doc)
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
    await rebuild(conn, touched, dropping)
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
    dropping: Dropping,
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
            await import_documents(conn, batch, counts, dropping)
            batch = []
    await import_documents(conn, batch, counts, dropping)
    return counts


async def rebuild(conn: AsyncConnection, ghsa_ids: set[str], dropping: Dropping) -> None:
    if not ghsa_ids:
        return
    grouped: dict[str, list[Document]] = defaultdict(list)
    for row in await repo.documents_of(conn, ghsa_ids):
        grouped[row.ghsa_id].append(msgspec.convert(row.document, Document))
    merged = [merging.merge(ghsa, docs) for ghsa, docs in sorted(grouped.items())]
    gone = ghsa_ids - grouped.keys()
    if gone:
        await dropping(conn, gone)
    await repo.replace_advisories(conn, merged, gone)


async def get_advisory(conn: AsyncConnection, ghsa_id: str) -> tuple[Advisory, list[Vulnerability]]:
    row = await repo.find_advisory(conn, ghsa_id)
    if row is None and ghsa_id.upper().startswith("GHSA-"):
        # GHSA ids are printed in lower case after the prefix; accept any case like GitHub does.
        row = await repo.find_advisory(conn, "GHSA-" + ghsa_id[5:].lower())
    if row is None:
        raise NotFound()
    return row, await repo.vulnerabilities_of(conn, [row.id])


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
        eco = row.ecosystem
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
        index.add(row.ghsa_id, row.ecosystem, row.package_name, row.ranges, row.versions)
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
    rows: list[Advisory]
    vulnerabilities: dict[int, list[Vulnerability]]
    more: bool


async def list_advisories(
    conn: AsyncConnection,
    f: AdvisoryFilter,
    *,
    affects: Sequence[Affects] | None,
    ecosystem: Ecosystem | None,
    sort: str,
    descending: bool,
    per_page: int,
    after: Position | None,
    before: Position | None,
) -> AdvisoryPage:
    if affects is not None:
        f = replace(f, ids=await advisory_ids_affecting(conn, affects, ecosystem))
    rows, more = await repo.list_advisories(
        conn, f, sort=sort, descending=descending, per_page=per_page, after=after, before=before
    )
    grouped: dict[int, list[Vulnerability]] = defaultdict(list)
    for v in await repo.vulnerabilities_of(conn, [r.id for r in rows]):
        grouped[v.advisory_id].append(v)
    return AdvisoryPage(rows, grouped, more)


async def advisories_by_ids(conn: AsyncConnection, ids: Collection[int]) -> dict[int, Advisory]:
    return await repo.advisories_by_ids(conn, ids)


async def vulnerabilities_of(conn: AsyncConnection, advisory_ids: Collection[int]) -> list[Vulnerability]:
    return await repo.vulnerabilities_of(conn, advisory_ids)


async def withdrawn_or_silent(conn: AsyncConnection, advisory_ids: Collection[int]) -> set[int]:
    """Of these advisories, those withdrawn or no longer of a type that raises alerts."""
    return await repo.withdrawn_or_silent(conn, advisory_ids)


async def count_advisories(conn: AsyncConnection) -> int:
    return await repo.count_advisories(conn)


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
    index = await index_for(conn, {(eco, name) for _, eco, name, _ in wanted})
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


async def index_for(conn: AsyncConnection, packages: Iterable[tuple[Ecosystem, str]] | None) -> AdvisoryIndex:
    """The index of just these packages' advisories, or of every alerting advisory (None)."""
    keys = None if packages is None else {(e.value, normalise_name(e, n)) for e, n in packages}
    return AdvisoryIndex.of_rows(await repo.alerting_vulnerabilities(conn, keys))
