"""Dependency graph: ingest time of a 10,000-package snapshot and SPDX export time of a
10,000-package graph, through the HTTP API in-process, on SQLite or PostgreSQL.

    python -m bench.dependencies [--database-url postgresql://postgres@127.0.0.1:5432/postgres]

With a PostgreSQL URL it creates (and drops) a scratch database beside the one named. Prints each
figure next to a ceiling measured in the same run: a bare multi-row INSERT of the same 10,000
packages through the same engine.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import statistics
import time
from typing import Any

import httpx
from asgi_lifespan import LifespanManager

from bench.scratch import scratch_settings
from waybill.accounts import service as accounts
from waybill.app import create_app
from waybill.auth import tokens
from waybill.config import Settings
from waybill.dependencies import purls
from waybill.dependencies.models import dependency_packages

PACKAGES = 10_000


def snapshot(tag: str, sha: str, correlator: str) -> dict[str, Any]:
    resolved: dict[str, Any] = {}
    for i in range(PACKAGES):
        key = f"pkg-{tag}-{i}"
        entry: dict[str, Any] = {
            "package_url": f"pkg:npm/%40bench/{key}@1.{i % 50}.{i}",
            "relationship": "direct" if i < 100 else "indirect",
            "scope": "runtime" if i % 3 else "development",
        }
        if i < PACKAGES - 3:
            entry["dependencies"] = [f"pkg-{tag}-{i + 1}", f"pkg-{tag}-{i + 2}"]
        resolved[key] = entry
    return {
        "version": 0,
        "sha": sha,
        "ref": "refs/heads/main",
        "job": {"correlator": correlator, "id": "bench"},
        "detector": {"name": "bench", "version": "1", "url": "https://example.com/bench"},
        "scanned": "2026-01-01T00:00:00Z",
        "manifests": {"package-lock.json": {"name": "package-lock.json", "resolved": resolved}},
    }


async def run(settings: Settings) -> None:
    app = create_app(settings)
    async with LifespanManager(app):
        async with app.db.write() as conn:
            await accounts.create_user(conn, "bench")
            owner = await accounts.get_account(conn, "bench")
            await accounts.create_repository(conn, owner, "repo")
            token = await tokens.create_classic(conn, "bench", ["repo"])
        headers = {"Authorization": f"Bearer {token}"}
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench", timeout=60) as client:
            url = "/repos/bench/repo/dependency-graph/snapshots"

            async def submit(body: dict[str, Any]) -> float:
                content = json.dumps(body).encode()
                start, cpu = time.perf_counter(), time.process_time()
                response = await client.post(
                    url, content=content, headers={**headers, "Content-Type": "application/json"}
                )
                elapsed = time.perf_counter() - start
                cpu_times.append(time.process_time() - cpu)
                assert response.status_code == 201, response.text
                return elapsed

            cpu_times: list[float] = []

            cold = []
            for n in range(3):
                purls.parse.cache_clear()
                cold.append(await submit(snapshot(f"cold{n}", f"{n:040d}", f"cold{n}")))
            warm = [await submit(snapshot("cold0", f"{n + 10:040d}", "cold0")) for n in range(3)]
            print(
                f"ingest 10,000 packages, new package URLs (cold):   median {statistics.median(cold):.3f} s"
                f" (this process's CPU {statistics.median(cpu_times[:3]):.3f} s)"
            )
            print(
                f"ingest 10,000 packages, known package URLs (warm): median {statistics.median(warm):.3f} s"
                f" (this process's CPU {statistics.median(cpu_times[3:]):.3f} s)"
            )
            # The graph is now 3 correlators x 10,000 packages; export one repository of 10,000.
            async with app.db.write() as conn:
                owner = await accounts.get_account(conn, "bench")
                await accounts.create_repository(conn, owner, "single")
            await client.post(
                "/repos/bench/single/dependency-graph/snapshots",
                json=snapshot("cold0", "1" * 40, "one"),
                headers=headers,
            )
            export, export_cpu = [], []
            for _ in range(5):
                start, cpu = time.perf_counter(), time.process_time()
                response = await client.get("/repos/bench/single/dependency-graph/sbom", headers=headers)
                export.append(time.perf_counter() - start)
                export_cpu.append(time.process_time() - cpu)
                assert response.status_code == 200
                assert len(response.json()["sbom"]["packages"]) == PACKAGES + 1
            print(
                f"SPDX export of a 10,000-package graph:             median {statistics.median(export):.3f} s"
                f" (this process's CPU {statistics.median(export_cpu):.3f} s)"
            )
            rows = [
                {"purl": f"pkg:npm/ceiling-{i}@1", "type": "npm", "name": f"ceiling-{i}", "base": "x"}
                for i in range(PACKAGES)
            ]
            start = time.perf_counter()
            async with app.db.write() as conn:
                await conn.execute(dependency_packages.insert(), rows)
            ceiling = time.perf_counter() - start
            print(f"ceiling: bare INSERT of 10,000 package rows:       {ceiling:.3f} s")
            print(
                f"ratios to the ceiling: cold ingest {statistics.median(cold) / ceiling:.1f}x,"
                f" warm ingest {statistics.median(warm) / ceiling:.1f}x"
            )


def main() -> None:
    logging.getLogger("httpx").setLevel(logging.WARNING)
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    with scratch_settings(args.database_url) as settings:
        asyncio.run(run(settings))


if __name__ == "__main__":
    main()
