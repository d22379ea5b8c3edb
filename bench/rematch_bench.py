"""Re-matching as the database-queued job does it after an advisory import: 50,000 advisories
against 100,000 dependency rows (100 repositories of 1,000 packages), on SQLite or PostgreSQL.

The advisories are the real PyPI records of ``shared/advisories``, copied under new package names
(and new ids) until there are 50,000, as ``match_bench.py`` builds them; a third of the dependency
rows name a package with advisories at a version taken from its record, the rest name packages no
advisory mentions. The job (``alerts.rematch``) is queued and run by the worker; printed: its wall
time, dependency rows per second, and dependencies x advisories per second, beside a ceiling
measured in the same run: matching the same rows in memory, without the database.

    WAYBILL_SHARED_DIR=../shared python -m bench.rematch_bench [--database-url postgresql://...]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import time
from pathlib import Path
from typing import Any

import msgspec

from bench.scratch import scratch_settings
from waybill.accounts import service as accounts
from waybill.advisories import osv
from waybill.advisories import service as advisories
from waybill.advisories.ecosystems import Ecosystem
from waybill.advisories.matching import MatchIndex
from waybill.alerts import repository as alert_sql
from waybill.alerts import service as alerts
from waybill.config import Settings
from waybill.core import jobs
from waybill.core.db import Database
from waybill.dependencies import schemas as dependency_schemas
from waybill.dependencies import service as dependencies

ADVISORIES = 50_000
REPOSITORIES = 100
PER_REPOSITORY = 1_000


def advisory_documents(shared: Path, count: int) -> list[osv.Document]:
    root = shared / "advisories" / "pypa-advisory-database"
    real = [
        doc
        for name, data in osv.load(root)
        for doc in osv.parse(data, name)
        if doc.withdrawn is None and doc.affected and doc.affected[0].package is not None
    ]
    out: list[osv.Document] = []
    copy = 0
    while len(out) < count:
        for doc in real:
            if len(out) >= count:
                break
            if copy == 0:
                out.append(msgspec.structs.replace(doc, aliases=[]))
                continue
            affected = [
                msgspec.structs.replace(
                    a, package=msgspec.structs.replace(a.package, name=f"{a.package.name}-copy{copy}")
                )
                for a in doc.affected
                if a.package is not None
            ]
            out.append(msgspec.structs.replace(doc, id=f"{doc.id}-copy{copy}", aliases=[], affected=affected))
        copy += 1
    return out


def dependency_rows(docs: list[osv.Document], rng: random.Random) -> list[tuple[str, str]]:
    """(package name, version) for every dependency row."""
    rows: list[tuple[str, str]] = []
    total = REPOSITORIES * PER_REPOSITORY
    for i in range(total):
        if i % 3 == 0:
            affected = rng.choice(docs).affected[0]
            bounds = [
                v
                for r in affected.ranges
                for e in r.events
                for v in (e.introduced, e.fixed)
                if v and v != "0"
            ]
            choices = [*affected.versions[-3:], *bounds, "99999.0"]
            assert affected.package is not None
            rows.append((affected.package.name, rng.choice(choices)))
        else:
            rows.append((f"unaffected-package-{i}", f"{rng.randint(0, 9)}.{rng.randint(0, 30)}.0"))
    return rows


def snapshot(rows: list[tuple[str, str]], n: int) -> dict[str, Any]:
    """Every row its own dependency: a package drawn twice for one repository goes to a further
    manifest, as a monorepo's second requirements file would hold it."""
    manifests: list[dict[str, Any]] = []
    for name, version in rows:
        entry = {"package_url": f"pkg:pypi/{name}@{version}", "relationship": "direct"}
        for resolved in manifests:
            if name not in resolved:
                resolved[name] = entry
                break
        else:
            manifests.append({name: entry})
    return {
        "version": 0,
        "sha": f"{n:040x}",
        "ref": "refs/heads/main",
        "job": {"correlator": "bench", "id": str(n)},
        "detector": {"name": "bench", "version": "1", "url": "https://example.com/bench"},
        "scanned": "2026-01-01T00:00:00Z",
        "manifests": {
            f"requirements-{i}.txt": {"name": f"requirements-{i}.txt", "resolved": resolved}
            for i, resolved in enumerate(manifests)
        },
    }


async def run(settings: Settings, shared: Path) -> None:
    rng = random.Random(9)
    db = Database(settings.resolved_database_url)
    try:
        docs = advisory_documents(shared, ADVISORIES)
        start = time.perf_counter()
        for at in range(0, len(docs), 2_000):
            async with db.write() as conn:
                await advisories.import_documents(
                    conn, docs[at : at + 2_000], advisories.ImportCounts(), alert_sql.forget_alerts_of
                )
        print(f"advisories: {len(docs):,} imported in {time.perf_counter() - start:.1f} s")

        rows = dependency_rows(docs, rng)
        start = time.perf_counter()
        stored = 0
        async with db.write() as conn:
            await accounts.create_user(conn, "bench")
            owner = await accounts.get_account(conn, "bench")
            for n in range(REPOSITORIES):
                repo = await accounts.create_repository(conn, owner, f"repo-{n}")
                part = rows[n * PER_REPOSITORY : (n + 1) * PER_REPOSITORY]
                body = json.dumps(snapshot(part, n)).encode()
                await dependencies.submit_snapshot(conn, repo, dependency_schemas.parse_snapshot(body))
                stored += len(part)
        took = time.perf_counter() - start
        print(f"dependency rows: {stored:,} in {REPOSITORIES} repositories, stored in {took:.1f} s")

        async with db.write() as conn:
            job_id = await alerts.request_rematch(conn)
        worker = jobs.Worker(db, {alerts.REMATCH_JOB: alerts.rematch}, lease_seconds=600)
        start, cpu = time.perf_counter(), time.process_time()
        assert await worker.run_once()
        elapsed, cpu_used = time.perf_counter() - start, time.process_time() - cpu
        async with db.read() as conn:
            job = await jobs.get(conn, job_id)
        assert job is not None
        assert job.status is jobs.JobStatus.COMPLETED, job
        pairs = stored * ADVISORIES / elapsed
        print(
            f"rematch job: {elapsed:.2f} s (this process's CPU {cpu_used:.2f} s),"
            f" {job.result['opened']:,} alerts opened; {stored / elapsed:,.0f} dependency rows/s,"
            f" {pairs:,.0f} dependencies x advisories/s"
        )

        # Ceiling: the same matching in memory, from an index built the same way, no database.
        index = MatchIndex()
        for doc in docs:
            for affected in doc.affected:
                if affected.package is not None:
                    ranges = [msgspec.to_builtins(r) for r in affected.ranges if r.type == "ECOSYSTEM"]
                    index.add(doc.id, Ecosystem.PIP, affected.package.name, ranges, list(affected.versions))
        start = time.perf_counter()
        index.affected_batch([("pypi", name, version) for name, version in rows])
        ceiling = time.perf_counter() - start
        print(
            f"ceiling (in-memory matching of the same rows): {ceiling:.2f} s,"
            f" {len(rows) * ADVISORIES / ceiling:,.0f} dependencies x advisories/s;"
            f" the job takes {elapsed / ceiling:.1f}x"
        )
    finally:
        await db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    shared = Path(os.environ.get("WAYBILL_SHARED_DIR") or Path(__file__).resolve().parents[2] / "shared")
    with scratch_settings(args.database_url) as settings:
        asyncio.run(run(settings, shared))


if __name__ == "__main__":
    main()
