"""The admission gate's cost, in process: a Kubernetes review of a Pod with 3 containers, in an
organization holding 100,000 artifacts (each with a storage record) and 500 open alerts, beside the
no-op endpoint measured the same way. Prints decisions per second, p50/p99 latency, CPU per request
and the ratios to the no-op.

    python -m bench.admission [--database-url postgresql://postgres@127.0.0.1:5432/postgres]
        [--requests 2000] [--concurrency 16] [--http SECONDS [--workers 2]]

In process (the default), requests go straight into the ASGI application (every middleware, the token
check, the handler, the decision and its record); no HTTP server or load generator shares the CPU.
Latency is measured with one request in flight; throughput and CPU with ``--concurrency`` in flight.

With ``--http``, the same database is served by ``waybill serve`` as its own process, and ``wrk``
sends ``--concurrency`` connections' worth for SECONDS per case: latency and throughput as a cluster
sees them, with the server's CPU per request (all its processes). A run stops at the first error or
answer that is not 2xx; every decision is recorded, and the count of recorded decisions is printed
beside the answers'.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from asgi_lifespan import LifespanManager
from sqlalchemy import func, insert, select

from bench.backends import RATE_LIMIT_NO_QUOTA
from bench.measure import RequestSpec, run_wrk
from bench.procs import cpu_seconds, start_server
from bench.request_cost import call
from bench.scratch import scratch_settings
from waybill.accounts import service as accounts
from waybill.admission.models import admission_decisions
from waybill.advisories.models import advisories
from waybill.alerts.models import dependabot_alerts
from waybill.app import WaybillApp, create_app
from waybill.artifacts.models import artifacts, storage_records
from waybill.attestations.models import attestation_subjects, attestation_verifications, attestations
from waybill.attestations.schemas import SLSA_PROVENANCE
from waybill.auth import tokens
from waybill.config import Settings
from waybill.core import clock

ARTIFACTS = 100_000
ALERTS = 500
REPOSITORIES = 50
REGISTRY = "https://ghcr.io"
BATCH = 5_000


def digest(i: int) -> str:
    return "sha256:" + hashlib.sha256(str(i).encode()).hexdigest()


async def provision(app: WaybillApp) -> dict[str, str]:
    now = clock.now()
    async with app.db.write() as conn:
        await accounts.create_user(conn, "admin")
        org = await accounts.create_org(conn, "bench", "admin")
        repos = [
            await accounts.create_repository(conn, org, f"app{i}", private=False) for i in range(REPOSITORIES)
        ]
        token = await tokens.create_classic(conn, "admin", ["repo", "read:org"])
        for start in range(0, ARTIFACTS, BATCH):
            rows = [
                (i, repos[i % REPOSITORIES].id, digest(i))
                for i in range(start, min(start + BATCH, ARTIFACTS))
            ]
            await conn.execute(
                insert(artifacts),
                [{"repository_id": r, "digest": d, "name": f"app{i}", "created_at": now} for i, r, d in rows],
            )
            await conn.execute(
                insert(storage_records),
                [
                    {
                        "org_id": org.id,
                        "repository_id": r,
                        "digest": d,
                        "registry_url": REGISTRY,
                        "registry_repository": f"bench/app{i % REPOSITORIES}",
                        "status": "active",
                        "created_at": now,
                        "updated_at": now,
                    }
                    for i, r, d in rows
                ],
            )
        # The Pod's three images: provenance verified, built by app0.
        for n in range(3):
            attestation = await conn.execute(
                insert(attestations)
                .values(
                    repository_id=repos[0].id,
                    predicate_type=SLSA_PROVENANCE[-1],
                    media_type="application/vnd.dev.sigstore.bundle.v0.3+json",
                    bundle_hash=hashlib.sha256(str(n).encode()).hexdigest(),
                    initiator="user",
                    created_at=now,
                )
                .returning(attestations.c.id)
            )
            attestation_id = attestation.scalar_one()
            await conn.execute(
                insert(attestation_subjects).values(
                    digest=digest(n * REPOSITORIES), attestation_id=attestation_id
                )
            )
            await conn.execute(
                insert(attestation_verifications).values(
                    attestation_id=attestation_id,
                    verified=True,
                    build_signer_uri="https://github.com/bench/app0/.github/workflows/build.yml@refs/heads/main",
                    identity={"source_repository_ref": "refs/heads/main"},
                    details={},
                    checked_at=now,
                )
            )
        advisory_ids = []
        for i in range(ALERTS):
            severity = ("low", "medium", "high", "critical")[i % 4]
            found = await conn.execute(
                insert(advisories)
                .values(
                    ghsa_id=f"GHSA-{i:04d}-bench-0000",
                    type="reviewed",
                    severity=severity,
                    summary="s",
                    identifiers=[],
                    reference_urls=[],
                    cwes=[],
                    published_at=now,
                    updated_at=now,
                )
                .returning(advisories.c.id)
            )
            advisory_ids.append((found.scalar_one(), severity))
        # 500 open alerts: on app0 only low and medium ones (below the limit), the rest elsewhere.
        alert_rows: list[dict[str, Any]] = []
        for i, (advisory_id, severity) in enumerate(advisory_ids):
            on_builder = severity in ("low", "medium") and i < 100
            repo = repos[0] if on_builder else repos[1 + i % (REPOSITORIES - 1)]
            alert_rows.append(
                {
                    "repository_id": repo.id,
                    "number": i + 1,
                    "advisory_id": advisory_id,
                    "identity": f"i{i}",
                    "ecosystem": "npm",
                    "package_name": f"p{i}",
                    "package_key": f"p{i}",
                    "package_url": f"pkg:npm/p{i}",
                    "manifest_path": "package-lock.json",
                    "relationship": "direct",
                    "vulnerable_version_range": "< 2",
                    "first_patched_version": "2.0.0",
                    "present": True,
                    "state": "open",
                    "created_at": now,
                    "updated_at": now,
                }
            )
        await conn.execute(insert(dependabot_alerts), alert_rows)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    policy = {
        "environments": {
            "prod": {
                "mode": "enforce",
                "require_provenance": True,
                "max_open_alert_severity": "high",
                "registries": [REGISTRY],
            }
        }
    }
    assert (
        await call(app, "PUT", "/waybill/orgs/bench/admission-policy", headers, json.dumps(policy).encode())
        == 200
    )
    return headers


def review() -> bytes:
    containers = [
        {"name": f"c{n}", "image": f"ghcr.io/bench/app0@{digest(n * REPOSITORIES)}"} for n in range(3)
    ]
    body: dict[str, Any] = {
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": "705ab4f5-6393-11e8-b7cc-42010a800002",
            "kind": {"group": "", "version": "v1", "kind": "Pod"},
            "resource": {"group": "", "version": "v1", "resource": "pods"},
            "namespace": "shop",
            "operation": "CREATE",
            "object": {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": "web"},
                "spec": {"containers": containers},
            },
        },
    }
    return json.dumps(body).encode()


async def measure(
    app: WaybillApp,
    method: str,
    path: str,
    headers: dict[str, str],
    body: bytes,
    requests: int,
    concurrency: int,
) -> tuple[float, float, float, float]:
    """(requests/s, p50 ms, p99 ms, CPU ms per request)."""

    async def one() -> None:
        assert await call(app, method, path, headers, body) == 200, path

    for _ in range(50):
        await one()
    latencies = []
    for _ in range(requests // 4):
        start = time.perf_counter()
        await one()
        latencies.append(1000 * (time.perf_counter() - start))
    latencies.sort()
    p50 = latencies[len(latencies) // 2]
    p99 = latencies[int(len(latencies) * 0.99)]

    async def client(count: int) -> None:
        for _ in range(count):
            await one()

    per_client = requests // concurrency
    wall, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(client(per_client) for _ in range(concurrency)))
    done = per_client * concurrency
    rate = done / (time.perf_counter() - wall)
    return rate, p50, p99, 1000 * (time.process_time() - cpu) / done


CASES = {
    "no-op (GET /waybill/ping)": ("GET", "/waybill/ping"),
    "admission review, 3 containers": ("POST", "/waybill/orgs/bench/admission/kubernetes?environment=prod"),
}
HEADER = f"{'request':<32} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'cpu ms/req':>10} {'x no-op cpu':>11}"


def _row(label: str, rate: float, p50: float, p99: float, cpu: float, noop_cpu: float) -> str:
    return f"{label:<32} {rate:>8.0f} {p50:>8.2f} {p99:>8.2f} {cpu:>10.3f} {cpu / noop_cpu:>11.1f}"


async def decisions_recorded(app: WaybillApp) -> int:
    async with app.db.read() as conn:
        return int((await conn.execute(select(func.count()).select_from(admission_decisions))).scalar_one())


async def run(settings: Settings, requests: int, concurrency: int) -> None:
    app = create_app(settings)
    async with LifespanManager(app):
        headers = await _setup(app)
        print(f"concurrency: {concurrency}\n{HEADER}")
        noop_cpu = 0.0
        for label, (method, target) in CASES.items():
            body = review() if method == "POST" else b""
            rate, p50, p99, cpu = await measure(app, method, target, headers, body, requests, concurrency)
            noop_cpu = noop_cpu or cpu
            print(_row(label, rate, p50, p99, cpu, noop_cpu))
        print(f"decisions recorded: {await decisions_recorded(app)}")


async def _setup(app: WaybillApp) -> dict[str, str]:
    started = time.perf_counter()
    headers = await provision(app)
    print(f"setup: {ARTIFACTS} artifacts, {ALERTS} open alerts, {time.perf_counter() - started:.1f} s")
    return headers


def run_http(settings: Settings, seconds: float, concurrency: int, workers: int) -> None:
    async def prepare() -> dict[str, str]:
        app = create_app(settings)
        async with LifespanManager(app):
            return await _setup(app)

    headers = asyncio.run(prepare())
    env = {k: v for k, v in os.environ.items() if not k.startswith("WAYBILL_")}
    env.update(
        WAYBILL_DATA_DIR=str(settings.data_dir),
        WAYBILL_DATABASE_URL=settings.database_url or "",
        WAYBILL_RATE_LIMIT_AUTHENTICATED=RATE_LIMIT_NO_QUOTA,
        WAYBILL_RATE_LIMIT_ANONYMOUS=RATE_LIMIT_NO_QUOTA,
        WAYBILL_MAX_CONNECTIONS_PER_ADDRESS="0",
    )
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        server, base = start_server(env, workers, work / "server.log", Path.cwd())
        try:
            print(f"waybill serve --workers {workers}, wrk with {concurrency} connections, {seconds:g} s")
            print(HEADER)
            noop_cpu = 0.0
            for n, (label, (method, target)) in enumerate(CASES.items()):
                body = review().decode() if method == "POST" else None
                spec = RequestSpec(method, target, headers, body).write(work, f"case{n}", "admission")
                run_wrk(base, spec, connections=concurrency, seconds=2)
                before = cpu_seconds(server.pid)
                m = run_wrk(base, spec, connections=concurrency, seconds=seconds)
                cpu = 1000 * (cpu_seconds(server.pid) - before) / max(m.requests, 1)
                if m.errors or m.non_2xx:
                    raise RuntimeError(f"{label}: {m.errors} errors, {m.non_2xx} answers not 2xx")
                noop_cpu = noop_cpu or cpu
                print(_row(label, m.rps, m.p50_ms, m.p99_ms, cpu, noop_cpu))
        finally:
            server.stop()

    async def count() -> int:
        app = create_app(settings)
        async with LifespanManager(app):
            return await decisions_recorded(app)

    print(f"decisions recorded (warm-ups included): {asyncio.run(count())}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", default="", help="PostgreSQL server to make a scratch database on")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16, help="requests in flight at once")
    parser.add_argument("--http", type=float, metavar="SECONDS", help="measure over HTTP, SECONDS per case")
    parser.add_argument("--workers", type=int, default=2, help="server processes with --http")
    args = parser.parse_args()
    with scratch_settings(args.database_url) as settings:
        if args.http:
            run_http(settings, args.http, args.concurrency, args.workers)
        else:
            asyncio.run(run(settings, args.requests, args.concurrency))


if __name__ == "__main__":
    main()
