"""Alerts from the dependency graph: which (advisory, manifest, package) findings a repository's
current graph has, and how its alerts follow them.

An alert opens when a finding appears; it is fixed (``fixed_at``) when its finding leaves the graph
(the package was removed or upgraded out of every affected range), and reopened when the finding
returns. A dismissed alert stays dismissed whatever the graph does; an open alert whose advisory is
withdrawn is auto-dismissed. Every state change sets ``updated_at`` and appends to the alert's
history (``dependabot_alert_events``) in the same transaction.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from waybill.accounts import service as accounts
from waybill.advisories import service as advisories
from waybill.advisories.ecosystems import Ecosystem, normalise_name, parse
from waybill.advisories.matching import AdvisoryIndex
from waybill.alerts import repository as repo
from waybill.alerts.types import Alert, AlertState
from waybill.core import clock, outbox
from waybill.dependencies import service as dependencies
from waybill.dependencies.types import Dependency

# The dependency graph says direct or indirect; alerts say direct or transitive, and "unknown"
# where the submission did not tell.
_RELATIONSHIPS = {"direct": "direct", "indirect": "transitive"}


@dataclass(frozen=True)
class Finding:
    identity: str
    advisory_id: int
    ecosystem: str
    package_name: str
    package_key: str
    package_url: str
    manifest_path: str
    version: str
    scope: str | None
    relationship: str
    vulnerable_version_range: str
    first_patched_version: str | None


def identity(advisory_id: int, manifest: str, ecosystem: str, key: str) -> str:
    return hashlib.sha256(f"{advisory_id}\0{manifest}\0{ecosystem}\0{key}".encode()).hexdigest()


@dataclass(frozen=True)
class Located:
    """A dependency of the graph, with its ecosystem recognised."""

    dependency: Dependency
    ecosystem: Ecosystem
    version: str


def located(deps: Iterable[Dependency]) -> list[Located]:
    out: list[Located] = []
    for dep in deps:
        eco = parse(dep.ecosystem)
        if eco is not None and dep.version:
            out.append(Located(dep, eco, dep.version))
    return out


def findings(deps: Sequence[Located], index: AdvisoryIndex) -> dict[str, Finding]:
    out: dict[str, Finding] = {}
    for item in deps:
        dep, eco, version = item.dependency, item.ecosystem, item.version
        advisory_ids = index.affected(eco, dep.name, version)
        if not advisory_ids:
            continue
        key = normalise_name(eco, dep.name)
        for advisory_id in advisory_ids:
            ident = identity(advisory_id, dep.manifest, eco.value, key)
            if ident in out:
                continue
            text, patched = index.range_of(advisory_id, eco, key, version)
            scope = dep.scope if dep.scope in ("runtime", "development") else None
            out[ident] = Finding(
                identity=ident,
                advisory_id=advisory_id,
                ecosystem=eco.value,
                package_name=dep.name,
                package_key=key,
                package_url=dep.package_url,
                manifest_path=dep.manifest,
                version=version,
                scope=scope,
                relationship=_RELATIONSHIPS.get(dep.relationship or "", "unknown"),
                vulnerable_version_range=text,
                first_patched_version=patched,
            )
    return out


@dataclass
class Outcome:
    opened: int = 0
    fixed: int = 0
    reopened: int = 0
    auto_dismissed: int = 0
    # (alert number, GitHub's dependabot_alert action) of each change, for the webhooks.
    announced: list[tuple[int, str]] = field(default_factory=list)

    def add(self, other: Outcome) -> None:
        self.opened += other.opened
        self.fixed += other.fixed
        self.reopened += other.reopened
        self.auto_dismissed += other.auto_dismissed
        self.announced += other.announced


DEPENDABOT_EVENT = "dependabot_alert"


async def announce(
    conn: AsyncConnection, repository_id: int, changes: Sequence[tuple[int, str]], *, sender_id: int | None
) -> None:
    """Queue the ``dependabot_alert`` events of ``changes`` (alert number, action) in the caller's
    transaction; their sender is ``sender_id``, or the repository's owner for what the graph did."""
    if not changes:
        return
    repo_found = (await accounts.repositories_by_ids(conn, [repository_id]))[repository_id]
    payload = {
        "repository_id": repository_id,
        "alerts": [list(c) for c in changes],
        "sender_id": sender_id or repo_found.owner.id,
    }
    await outbox.publish(conn, repo_found.owner.id, DEPENDABOT_EVENT, payload)


def _finding_columns(f: Finding) -> dict[str, Any]:
    return {
        "package_url": f.package_url,
        "version": f.version,
        "scope": f.scope,
        "relationship": f.relationship,
        "vulnerable_version_range": f.vulnerable_version_range,
        "first_patched_version": f.first_patched_version,
    }


def _kept(row: Alert) -> dict[str, Any]:
    return {
        "alert_id": row.id,
        "package_url": row.package_url,
        "version": row.version,
        "scope": row.scope,
        "relationship": row.relationship,
        "vulnerable_version_range": row.vulnerable_version_range,
        "first_patched_version": row.first_patched_version,
        "present": row.present,
        "state": row.state.value,
        "updated_at": row.updated_at,
        "fixed_at": row.fixed_at,
        "auto_dismissed_at": row.auto_dismissed_at,
    }


async def apply(
    conn: AsyncConnection, repository_id: int, found: dict[str, Finding], now: datetime | None = None
) -> Outcome:
    """Bring the repository's alerts in line with its findings."""
    now = now or clock.now()
    outcome = Outcome()
    existing = {row.identity: row for row in await repo.alerts_of_repository(conn, repository_id)}
    vanished = [row for ident, row in existing.items() if ident not in found and row.present]
    silenced = await advisories.withdrawn_or_silent(
        conn, {row.advisory_id for row in vanished if row.state == AlertState.OPEN}
    )
    changes: list[dict[str, Any]] = []
    # The states alerts enter (state -> alert ids), for their history.
    entered: dict[str, list[int]] = defaultdict(list)
    for ident, finding in found.items():
        row = existing.get(ident)
        if row is None:
            continue
        new = {**_kept(row), **_finding_columns(finding), "present": True}
        if row.state == AlertState.FIXED:
            new.update(state=AlertState.OPEN.value, fixed_at=None, updated_at=now)
            entered[AlertState.OPEN.value].append(row.id)
            outcome.reopened += 1
            outcome.announced.append((row.number, "reintroduced"))
        elif row.state == AlertState.AUTO_DISMISSED:
            # Auto-dismissed for a withdrawn advisory that stands again.
            new.update(state=AlertState.OPEN.value, auto_dismissed_at=None, updated_at=now)
            entered[AlertState.OPEN.value].append(row.id)
            outcome.reopened += 1
            outcome.announced.append((row.number, "auto_reopened"))
        if new != _kept(row):
            changes.append(new)
    for row in vanished:
        new = {**_kept(row), "present": False}
        if row.state == AlertState.OPEN:
            if row.advisory_id in silenced:
                new.update(state=AlertState.AUTO_DISMISSED.value, auto_dismissed_at=now, updated_at=now)
                entered[AlertState.AUTO_DISMISSED.value].append(row.id)
                outcome.auto_dismissed += 1
                outcome.announced.append((row.number, "auto_dismissed"))
            else:
                new.update(state=AlertState.FIXED.value, fixed_at=now, updated_at=now)
                entered[AlertState.FIXED.value].append(row.id)
                outcome.fixed += 1
                outcome.announced.append((row.number, "fixed"))
        changes.append(new)
    await repo.update_alerts(conn, changes)
    await repo.record_events(conn, entered, now)
    fresh = [f for ident, f in found.items() if ident not in existing]
    if fresh:
        first = await repo.allocate_numbers(conn, repository_id, len(fresh))
        await repo.insert_alerts(
            conn,
            [
                {
                    "repository_id": repository_id,
                    "number": first + i,
                    "advisory_id": f.advisory_id,
                    "identity": f.identity,
                    "ecosystem": f.ecosystem,
                    "package_name": f.package_name,
                    "package_key": f.package_key,
                    "manifest_path": f.manifest_path,
                    **_finding_columns(f),
                    "present": True,
                    "state": AlertState.OPEN.value,
                    "created_at": now,
                    "updated_at": now,
                }
                for i, f in enumerate(
                    sorted(fresh, key=lambda f: (f.manifest_path, f.package_key, f.advisory_id))
                )
            ],
        )
        await repo.record_opened(conn, repository_id, range(first, first + len(fresh)), now)
        outcome.opened += len(fresh)
        outcome.announced += [(first + i, "created") for i in range(len(fresh))]
    await announce(conn, repository_id, outcome.announced, sender_id=None)
    return outcome


async def evaluate_repository(
    conn: AsyncConnection, repository_id: int, index: AdvisoryIndex | None = None
) -> Outcome:
    """Match the repository's current graph against the advisories (``index``, else those of its
    own packages, fetched now) and update its alerts."""
    deps = located(await dependencies.current_dependencies(conn, repository_id))
    if index is None:
        index = await advisories.index_for(conn, {(d.ecosystem, d.dependency.name) for d in deps})
    return await apply(conn, repository_id, findings(deps, index))
