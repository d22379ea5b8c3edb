"""Attestation uploads per second with verification (policy ``record``, the default) and without
(policy ``off``), against a server started for the run (SQLite, one uvicorn worker), and the latency
of a light request (``GET /``) sent alongside the uploads: verification runs in a process pool, so
it should not hold up other clients.

Bundles are made for the run by the test CA and timestamp authority (``tests/verification``), each
one distinct, and the server is given that CA as an operator trust root: every verification goes the
whole way (signature, timestamp, chain) and succeeds.

    python bench/upload_verify_bench.py [--seconds 10] [--concurrency 8]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from testkit.sigstore import SigstoreDouble

from waybill.accounts import service as accounts
from waybill.attestations import service as attestations
from waybill.attestations.types import Mode
from waybill.auth import tokens
from waybill.config import Settings
from waybill.core.db import Database
from waybill.core.migrate import upgrade

INSTANCE = SigstoreDouble(name="bench-instance")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _bundle() -> bytes:
    payload = json.dumps(
        {
            "_type": "https://in-toto.io/Statement/v1",
            "subject": [{"name": "app.tar.gz", "digest": {"sha256": secrets.token_hex(32)}}],
            "predicateType": "https://slsa.dev/provenance/v1",
            "predicate": {},
        }
    ).encode()
    return json.dumps({"bundle": INSTANCE.bundle(payload=payload)}).encode()


async def _provision(settings: Settings) -> str:
    db = Database(settings.resolved_database_url)
    try:
        async with db.write() as conn:
            await accounts.create_user(conn, "olga")
            await accounts.create_org(conn, "octo-org", "olga")
            await accounts.create_repository(
                conn, await accounts.get_account(conn, "octo-org"), "app", private=False
            )
            return await tokens.create_classic(conn, "olga", ["repo"])
    finally:
        await db.dispose()


async def _set_mode(settings: Settings, mode: Mode) -> None:
    db = Database(settings.resolved_database_url)
    try:
        async with db.write() as conn:
            scope = await attestations.policy_scope(conn, "octo-org")
            await attestations.set_policy(conn, scope, mode, [])
    finally:
        await db.dispose()


async def _load(
    base: str, token: str, bodies: list[bytes], seconds: float, concurrency: int
) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    latencies: list[float] = []
    pings: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:

        async def uploader() -> None:
            nonlocal errors
            while time.perf_counter() < deadline and bodies:
                body = bodies.pop()
                start = time.perf_counter()
                r = await client.post("/repos/octo-org/app/attestations", content=body, headers=headers)
                latencies.append(time.perf_counter() - start)
                errors += r.status_code != 201

        async def pinger() -> None:
            while time.perf_counter() < deadline:
                start = time.perf_counter()
                await client.get("/")
                pings.append(time.perf_counter() - start)
                await asyncio.sleep(0.05)

        started = time.perf_counter()
        await asyncio.gather(pinger(), *(uploader() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started

    def ms(values: list[float], q: float) -> float:
        ordered = sorted(values)
        return round(ordered[min(len(ordered) - 1, int(len(ordered) * q))] * 1000, 1) if ordered else 0.0

    return {
        "uploads": len(latencies),
        "uploads_per_second": round(len(latencies) / elapsed, 1),
        "errors": errors,
        "upload_p50_ms": round(statistics.median(latencies) * 1000, 1) if latencies else 0.0,
        "upload_p99_ms": ms(latencies, 0.99),
        "ping_p50_ms": round(statistics.median(pings) * 1000, 1) if pings else 0.0,
        "ping_p99_ms": ms(pings, 0.99),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--bundles", type=int, default=3000)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        data, roots = Path(tmp) / "data", Path(tmp) / "roots"
        roots.mkdir()
        (roots / "bench-instance.json").write_text(json.dumps(INSTANCE.trusted_root()))
        env = {
            **os.environ,
            "WAYBILL_DATA_DIR": str(data),
            "WAYBILL_TRUST_ROOTS": str(roots),
            "WAYBILL_RATE_LIMIT": "0",
            "WAYBILL_WORKER": "0",
        }
        os.environ.update({k: env[k] for k in ("WAYBILL_DATA_DIR", "WAYBILL_TRUST_ROOTS")})
        settings = Settings.from_env()
        upgrade(settings)
        token = asyncio.run(_provision(settings))
        port = _free_port()
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "waybill.app:create_app_from_env",
                "--factory",
                "--port",
                str(port),
                "--log-level",
                "warning",
            ],
            env=env,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            for _ in range(100):
                try:
                    httpx.get(base + "/", timeout=1)
                    break
                except httpx.HTTPError:
                    time.sleep(0.2)
            rows = []
            for mode in (Mode.OFF, Mode.RECORD, Mode.OFF, Mode.RECORD):
                asyncio.run(_set_mode(settings, mode))
                bodies = [_bundle() for _ in range(args.bundles)]
                # Warm-up: the pool's processes start and load the roots on the first verification.
                asyncio.run(_load(base, token, bodies, 1.0, args.concurrency))
                result = asyncio.run(_load(base, token, bodies, args.seconds, args.concurrency))
                rows.append({"policy": mode.value, **result})
        finally:
            server.terminate()
            server.wait(10)

    header = (
        f"{'policy':<8} {'uploads/s':>10} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'GET / p50':>10} {'GET / p99':>10} {'errors':>7}"
    )
    print(header)
    print("-" * len(header))
    for row in rows:
        print(
            f"{row['policy']:<8} {row['uploads_per_second']:>10.1f} {row['upload_p50_ms']:>8.1f} "
            f"{row['upload_p99_ms']:>8.1f} {row['ping_p50_ms']:>10.1f} {row['ping_p99_ms']:>10.1f} "
            f"{row['errors']:>7}"
        )
    print(
        json.dumps(
            {
                "benchmark": "upload_verify",
                "cores": os.cpu_count(),
                "concurrency": args.concurrency,
                "results": rows,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
