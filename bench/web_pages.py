"""Web pages: render time of every page over an organization of 100,000 artifacts, 100,000 storage
records, 100,000 deployment records (200,000 history entries), 100,000 verified provenance
attestations and 500 open Dependabot alerts in one repository, on SQLite or PostgreSQL, through the
app in-process (sign-in cookie, HTML rendered).

    python -m bench.web_pages [--database-url postgresql://postgres@127.0.0.1:5432/postgres]

The data is bulk-inserted through the domains' tables (loading it through the API would take the
run's whole time); the pages then read it as a viewer would. With a PostgreSQL URL it creates (and
drops) a scratch database beside the one named. Prints the median and the 95th percentile of each
page, and the CPU per request of this process (the app's and the client's; on PostgreSQL the
database server's own is not in it), beside a ceiling measured in the same run: the sign-in form,
which renders a template and touches no table.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import logging
import re
import statistics
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import cramjam
import httpx
from asgi_lifespan import LifespanManager
from sqlalchemy import text

from bench.scratch import scratch_settings
from waybill.accounts import service as accounts
from waybill.accounts.types import OrgRole
from waybill.alerts import lifecycle
from waybill.alerts import service as alerts
from waybill.app import create_app
from waybill.artifacts.models import (
    artifacts,
    deployment_history,
    deployment_records,
    storage_records,
)
from waybill.attestations.models import (
    attestation_bundles,
    attestation_subjects,
    attestation_verifications,
    attestations,
)
from waybill.auth import tokens
from waybill.config import Settings
from waybill.core.migrate import upgrade

ARTIFACTS = 100_000
REPOSITORIES = 20
PACKAGES = 2_000
# Advisories affecting packages of repo-1's graph: that many open alerts, all in one repository.
ADVISORIES = 500
CHUNK = 5_000
RUNS = 15
ENVIRONMENTS = ("production", "staging", "test", "development", "canary")
PHYSICAL = ("pacific-east", "atlantic-west", "eu-central", "ap-south")
RISKS = ("critical-resource", "internet-exposed", "lateral-movement", "sensitive-data")


def digest(i: int) -> str:
    return "sha256:" + hashlib.sha256(str(i).encode()).hexdigest()


def risks(i: int) -> list[str]:
    # internet-exposed is common (1 in 4), lateral-movement rare (1 in 500).
    found = []
    if i % 4 == 0:
        found.append("internet-exposed")
    if i % 500 == 7:
        found.append("lateral-movement")
    if i % 10 == 3:
        found.append("sensitive-data")
    return found


async def load(app: Any) -> tuple[str, str]:
    now = datetime.now(UTC)
    async with app.db.write() as conn:
        await accounts.create_user(conn, "viewer")
        await accounts.create_user(conn, "owner")
        org = await accounts.create_org(conn, "bench", "owner")
        await accounts.add_member(conn, "bench", "viewer", OrgRole.MEMBER)
        repos = [
            await accounts.create_repository(conn, org, f"repo-{n}", private=n % 5 == 0)
            for n in range(REPOSITORIES)
        ]
        token = await tokens.create_classic(conn, "viewer", ["repo"])
        writer = await tokens.create_classic(conn, "owner", ["repo"])
    bundle = bytes(cramjam.snappy.compress_raw(b"{}"))

    def rows(start: int, stop: int) -> dict[str, list[dict[str, Any]]]:
        batch: dict[str, list[dict[str, Any]]] = {k: [] for k in ("a", "s", "d", "h", "t", "ts", "tb", "tv")}
        for i in range(start, stop):
            repo = repos[i % REPOSITORIES].id
            when = now - timedelta(seconds=ARTIFACTS - i)
            d = digest(i)
            batch["a"].append(
                {
                    "id": i + 1,
                    "repository_id": repo,
                    "digest": d,
                    "name": f"svc-{i}",
                    "version": f"1.{i % 97}.{i}",
                    "created_at": when,
                }
            )
            batch["s"].append(
                {
                    "org_id": org.id,
                    "repository_id": repo,
                    "digest": d,
                    "registry_url": f"https://registry-{i % 7}.example.com",
                    "registry_repository": f"svc-{i}",
                    "artifact_url": None,
                    "path": None,
                    "version": f"1.{i % 97}.{i}",
                    "status": "active",
                    "created_at": when,
                    "updated_at": when,
                }
            )
            record = {
                "id": i + 1,
                "org_id": org.id,
                "repository_id": repo,
                "digest": d,
                "logical_environment": ENVIRONMENTS[i % len(ENVIRONMENTS)],
                "physical_environment": PHYSICAL[i % len(PHYSICAL)],
                "cluster": f"cluster-{i % 40}",
                "deployment_name": f"svc-{i}",
                "status": "deployed" if i % 20 else "decommissioned",
                "tags": {"team": f"team-{i % 30}"},
                "runtime_risks": risks(i),
                "attestation_id": i + 1,
                "last_change": "updated",
                "created_at": when,
                "updated_at": when,
            }
            batch["d"].append(record)
            for n, change in enumerate(("created", "updated")):
                batch["h"].append(
                    {
                        "id": 2 * i + n + 1,
                        "record_id": i + 1,
                        "org_id": org.id,
                        "repository_id": repo,
                        "change": change,
                        "digest": d,
                        "status": "deployed",
                        "tags": record["tags"],
                        "runtime_risks": record["runtime_risks"],
                        "attestation_id": i + 1,
                        "recorded_at": when + timedelta(milliseconds=n),
                    }
                )
            batch["t"].append(
                {
                    "id": i + 1,
                    "repository_id": repo,
                    "predicate_type": "https://slsa.dev/provenance/v1",
                    "media_type": "application/vnd.dev.sigstore.bundle.v0.3+json",
                    "bundle_hash": f"{i:064x}",
                    "initiator": "user",
                    "created_at": when,
                }
            )
            batch["ts"].append({"digest": d, "attestation_id": i + 1})
            batch["tb"].append({"attestation_id": i + 1, "data": bundle})
            batch["tv"].append(
                {
                    "attestation_id": i + 1,
                    "verified": i % 9 != 0,
                    "failed_step": None,
                    "reason": None,
                    "trust_root": "bench",
                    "time_source": None,
                    "signed_at": when,
                    "san": "https://github.com/bench/x/.github/workflows/b.yml@refs/heads/main",
                    "issuer": "https://token.actions.githubusercontent.com",
                    "source_repository_uri": "https://github.com/bench/x",
                    "build_signer_uri": None,
                    "identity": {"source_repository_digest": f"{i:040x}"},
                    "details": {},
                    "checked_at": when,
                }
            )
        return batch

    tables = {
        "a": artifacts,
        "s": storage_records,
        "d": deployment_records,
        "h": deployment_history,
        "t": attestations,
        "ts": attestation_subjects,
        "tb": attestation_bundles,
        "tv": attestation_verifications,
    }
    for start in range(0, ARTIFACTS, CHUNK):
        batch = rows(start, min(start + CHUNK, ARTIFACTS))
        async with app.db.write() as conn:
            for key, table in tables.items():
                await conn.execute(table.insert(), batch[key])
    async with app.db.write() as conn:
        if conn.dialect.name == "postgresql":
            # What autovacuum would do after such a load: planner statistics for every table.
            await conn.execute(text("ANALYZE"))
            await conn.execute(
                text("SELECT setval(pg_get_serial_sequence('artifacts', 'id'), :n)"), {"n": ARTIFACTS}
            )
        else:
            await conn.execute(text("ANALYZE"))
    return token, writer


def snapshot() -> dict[str, Any]:
    resolved = {
        f"pkg-{i}": {
            "package_url": f"pkg:npm/%40bench/pkg-{i}@1.{i % 50}.{i}",
            "relationship": "direct" if i < 100 else "indirect",
            "scope": "runtime" if i % 3 else "development",
        }
        for i in range(PACKAGES)
    }
    return {
        "version": 0,
        "sha": "0" * 40,
        "ref": "refs/heads/main",
        "job": {"correlator": "bench", "id": "bench"},
        "detector": {"name": "bench", "version": "1", "url": "https://example.com/bench"},
        "scanned": "2026-01-01T00:00:00Z",
        "manifests": {"package-lock.json": {"name": "package-lock.json", "resolved": resolved}},
    }


def advisory_files() -> list[tuple[str, bytes]]:
    files = []
    for i in range(ADVISORIES):
        doc = {
            "schema_version": "1.6.0",
            "id": f"GHSA-bnch-{i:04d}-0000",
            "modified": "2026-01-01T00:00:00Z",
            "published": "2026-01-01T00:00:00Z",
            "summary": f"pkg-{i} is vulnerable",
            "affected": [
                {
                    "package": {"ecosystem": "npm", "name": f"@bench/pkg-{i * 3}"},
                    "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}]}],
                }
            ],
            "database_specific": {"severity": ("LOW", "MODERATE", "HIGH", "CRITICAL")[i % 4]},
        }
        files.append((f"{doc['id']}.json", json.dumps(doc).encode()))
    return files


async def signed_in(client: httpx.AsyncClient, token: str) -> None:
    form = await client.get("/ui/sign-in")
    found = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert found is not None
    signed = await client.post("/ui/sign-in", data={"csrf": found.group(1), "token": token, "next": "/ui"})
    assert signed.status_code == 303


async def measure(client: httpx.AsyncClient, path: str) -> tuple[float, float, float, int]:
    """Median and p95 wall time, and this process's CPU per request (the app's and the client's:
    on PostgreSQL the database server's own CPU is not in it)."""
    times = []
    size = 0
    cpu = time.process_time()
    for _ in range(RUNS):
        start = time.perf_counter()
        response = await client.get(path)
        times.append(time.perf_counter() - start)
        assert response.status_code == 200, (path, response.status_code, response.text[:300])
        size = len(response.content)
    cpu_each = (time.process_time() - cpu) / RUNS
    times.sort()
    return statistics.median(times) * 1000, times[int(len(times) * 0.95) - 1] * 1000, cpu_each * 1000, size


def row(label: str, median: float, p95: float, cpu: float, size: int) -> str:
    return f"{label:42} {median:6.1f}ms {p95:6.1f}ms {cpu:6.1f}ms {size:8,}"


async def run(settings: Settings, reuse: bool = False) -> None:
    app = create_app(settings)
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench", timeout=60) as client:
            if reuse:
                async with app.db.write() as conn:
                    token = await tokens.create_classic(conn, "viewer", ["repo"])
            else:
                started = time.perf_counter()
                token, writer = await load(app)
                elapsed = time.perf_counter() - started
                print(f"loaded {ARTIFACTS:,} artifacts and their records in {elapsed:.1f} s")
                response = await client.post(
                    "/repos/bench/repo-1/dependency-graph/snapshots",
                    json=snapshot(),
                    headers={"Authorization": f"Bearer {writer}"},
                )
                assert response.status_code == 201, response.text
                async with app.db.write() as conn:
                    await alerts.import_advisories(conn, advisory_files())
                    repo_1 = await accounts.find_repository(conn, "bench", "repo-1")
                    assert repo_1 is not None
                    opened = (await lifecycle.evaluate_repository(conn, repo_1.id)).opened
                print(f"opened {opened} alerts in repo-1")
            await signed_in(client, token)
            deep = (await client.get("/ui/orgs/bench/artifacts?environment=production")).text
            older = re.search(r'<a rel="next" href="\?([^"]+)"', deep)
            assert older is not None
            middle = digest(ARTIFACTS // 2 + 1)
            pages = {
                "sign-in form (ceiling)": "/ui/sign-in",
                "linked artifacts": "/ui/orgs/bench/artifacts",
                "  next page": "/ui/orgs/bench/artifacts?" + older.group(1).replace("&amp;", "&"),
                "  risk internet-exposed (1 in 4)": "/ui/orgs/bench/artifacts?risk=internet-exposed",
                "  risk lateral-movement (1 in 500)": "/ui/orgs/bench/artifacts?risk=lateral-movement",
                "  cluster (1 in 40)": "/ui/orgs/bench/artifacts?cluster=cluster-7",
                "  environment (1 in 5)": "/ui/orgs/bench/artifacts?environment=staging",
                "  environment and cluster": "/ui/orgs/bench/artifacts?environment=staging&cluster=cluster-5",
                "  registry (1 in 7)": "/ui/orgs/bench/artifacts?registry=https://registry-3.example.com",
                "  repository (1 in 20)": "/ui/orgs/bench/artifacts?repository=repo-3",
                "  search by name": "/ui/orgs/bench/artifacts?q=svc-4242",
                "  search by digest prefix": f"/ui/orgs/bench/artifacts?q={middle[:16]}",
                "  search matching nothing": "/ui/orgs/bench/artifacts?q=no-such-name",
                "artifact": f"/ui/orgs/bench/artifacts/{middle}",
                "artifact history": f"/ui/orgs/bench/artifacts/{middle}/history",
                "artifact timeline (last 7 days)": f"/ui/orgs/bench/artifacts/{middle}/timeline",
                "attestation": f"/ui/repos/bench/repo-1/attestations/{ARTIFACTS // 2 + 2}",
                "environments": "/ui/orgs/bench/environments",
                "environment timeline (last 7 days)": "/ui/orgs/bench/environments/production/timeline",
                f"dependency graph ({PACKAGES:,} packages)": "/ui/repos/bench/repo-1/dependencies",
                "  SBOM download": "/ui/repos/bench/repo-1/dependencies/sbom",
            }
            print(f"{'page':42} {'median':>8} {'p95':>8} {'CPU':>8} {'bytes':>8}")
            for label, path in pages.items():
                print(row(label, *await measure(client, path)))
            if reuse:
                return
        # The organization's alerts are its owners' to read.
        async with httpx.AsyncClient(transport=transport, base_url="http://bench", timeout=60) as owner:
            await signed_in(owner, writer)
            alert_pages = {
                "alerts (owner)": "/ui/orgs/bench/alerts",
                "  severity critical": "/ui/orgs/bench/alerts?severity=critical",
                "  package": "/ui/orgs/bench/alerts?package=@bench/pkg-300",
                "  risk internet-exposed (1 in 4)": "/ui/orgs/bench/alerts?runtime_risk=internet-exposed",
                "  risk lateral-movement (1 in 500)": "/ui/orgs/bench/alerts?runtime_risk=lateral-movement",
                "  registry URL": "/ui/orgs/bench/alerts?artifact_registry_url=https://registry-3.example.com",
                "  has deployment": "/ui/orgs/bench/alerts?has=deployment",
                "artifact with open alerts (owner)": f"/ui/orgs/bench/artifacts/{middle}",
                "blast radius of an advisory (owner)": (
                    "/ui/orgs/bench/blast-radius?advisory=GHSA-bnch-0100-0000"
                ),
                "  of a package URL": "/ui/orgs/bench/blast-radius?package_url=pkg:npm/@bench/pkg-300",
                "advisory with its open alerts (owner)": "/ui/orgs/bench/advisories/GHSA-bnch-0100-0000",
            }
            for label, path in alert_pages.items():
                print(row(label, *await measure(owner, path)))


def main() -> None:
    logging.getLogger("httpx").setLevel(logging.WARNING)
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", default="")
    parser.add_argument(
        "--data-dir", default="", help="SQLite: keep the data here, and reuse it when present"
    )
    args = parser.parse_args()
    base = replace(Settings(), rate_limit_enabled=False, run_worker=False)
    if args.data_dir:
        settings = replace(base, data_dir=Path(args.data_dir))
        reuse = (Path(args.data_dir) / "waybill.db").exists()
        Path(args.data_dir).mkdir(parents=True, exist_ok=True)
        upgrade(settings)
        print("backend: SQLite" + (" (reused)" if reuse else ""))
        asyncio.run(run(settings, reuse))
        return
    with scratch_settings(args.database_url) as settings:
        asyncio.run(run(settings))


if __name__ == "__main__":
    main()
