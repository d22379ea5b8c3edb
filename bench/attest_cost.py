"""What one attestation create costs the server, in process, under each verification policy: CPU
time per request in the server process and in the verification pool's processes, and, where the
verification is queued, the CPU the job worker then spends per attestation. CPU time rather than
wall time, so that the figures hold on a shared machine.

    python -m bench.attest_cost [--database-url postgresql://postgres@127.0.0.1:5432/postgres]

Requests go straight into the ASGI application, one at a time. Every bundle is distinct and made
before the clock starts by the test CA and timestamp authority (``tests/verification``), which the
server is given as an operator trust root: each verification goes the whole way and succeeds. The
job worker does not run during the requests; it is then driven until the queue is empty.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import tempfile
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any

from asgi_lifespan import LifespanManager
from sqlalchemy import event
from testkit.sigstore import SigstoreDouble

from bench.request_cost import call
from bench.scratch import scratch_settings
from waybill.accounts import service as accounts
from waybill.app import WaybillApp, create_app
from waybill.attestations import checking
from waybill.attestations import service as attestations
from waybill.attestations.types import Mode
from waybill.auth import tokens
from waybill.config import Settings

INSTANCE = SigstoreDouble(name="bench-instance")
PATH = "/repos/octo-org/app/attestations"
WARM = 20


def _bodies(count: int) -> list[bytes]:
    bodies = []
    for _ in range(count):
        statement = {
            "_type": "https://in-toto.io/Statement/v1",
            "subject": [{"name": "app.tar.gz", "digest": {"sha256": secrets.token_hex(32)}}],
            "predicateType": "https://slsa.dev/provenance/v1",
            "predicate": {},
        }
        bundle = INSTANCE.bundle(payload=json.dumps(statement).encode())
        bodies.append(json.dumps({"bundle": bundle}).encode())
    return bodies


_TICK = os.sysconf("SC_CLK_TCK")


def _pool_cpu() -> float:
    """CPU seconds used so far by the verification pool's processes (Linux: their /proc stat)."""
    pool = checking._pool
    if pool is None:
        return 0.0
    total = 0
    for pid in list(pool._processes or {}):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / _TICK


async def _provision(app: WaybillApp) -> dict[str, str]:
    async with app.db.write() as conn:
        await accounts.create_user(conn, "olga")
        org = await accounts.create_org(conn, "octo-org", "olga")
        await accounts.create_repository(conn, org, "app", private=False)
        token = await tokens.create_classic(conn, "olga", ["repo"])
    return {
        "Authorization": f"Bearer {token}",
        "X-GitHub-Api-Version": "2022-11-28",
        "Content-Type": "application/json",
    }


async def _set_mode(app: WaybillApp, mode: Mode) -> None:
    async with app.db.write() as conn:
        await attestations.set_policy(conn, await attestations.policy_scope(conn, "octo-org"), mode, [])


async def _measure(app: WaybillApp, headers: dict[str, str], mode: Mode, requests: int) -> None:
    await _set_mode(app, mode)
    for body in _bodies(WARM):
        assert await call(app, "POST", PATH, headers, body) == 201
    await app.worker.run_until_idle()
    bodies = _bodies(requests)
    statements: Counter[str] = Counter()

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements[statement.split(None, 1)[0].upper()] += 1

    event.listen(app.db.engine.sync_engine, "before_cursor_execute", count)
    try:
        cpu, pool = time.process_time(), _pool_cpu()
        for body in bodies:
            status = await call(app, "POST", PATH, headers, body)
            assert status == 201, status
        request_cpu, request_pool = time.process_time() - cpu, _pool_cpu() - pool
        per_request = sum(statements.values()) / requests
        statements.clear()
        cpu, pool = time.process_time(), _pool_cpu()
        jobs = await app.worker.run_until_idle()
        job_cpu, job_pool = time.process_time() - cpu, _pool_cpu() - pool
        per_job = sum(statements.values()) / requests
    finally:
        event.remove(app.db.engine.sync_engine, "before_cursor_execute", count)

    def ms(seconds: float) -> str:
        return f"{1000 * seconds / requests:.2f}"

    print(
        f"{mode.value:<8} {ms(request_cpu):>9} {ms(request_pool):>9} {per_request:>6.1f}"
        f"   {jobs:>5} {ms(job_cpu):>9} {ms(job_pool):>9} {per_job:>6.1f}"
    )


async def run(settings: Settings, requests: int) -> None:
    app = create_app(settings)
    async with LifespanManager(app):
        headers = await _provision(app)
        print(f"{requests} creates per policy; CPU ms per attestation")
        print(f"{'':<8} {'request':^26}   {'queued verification':^32}")
        print(
            f"{'policy':<8} {'server':>9} {'pool':>9} {'stmts':>6}   "
            f"{'jobs':>5} {'server':>9} {'pool':>9} {'stmts':>6}"
        )
        for mode in (Mode.OFF, Mode.RECORD, Mode.ENFORCE):
            await _measure(app, headers, mode, requests)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", default="", help="PostgreSQL server to make a scratch database on")
    parser.add_argument("--requests", type=int, default=500)
    args = parser.parse_args()
    with scratch_settings(args.database_url) as settings, tempfile.TemporaryDirectory() as roots:
        Path(roots, "bench-instance.json").write_text(json.dumps(INSTANCE.trusted_root()))
        asyncio.run(run(replace(settings, trust_roots=Path(roots)), args.requests))


if __name__ == "__main__":
    main()
