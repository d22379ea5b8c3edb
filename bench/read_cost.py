"""What one read by digest costs the server, in process: CPU time and SQL statements per request,
beside the no-op endpoint measured the same way. No HTTP server and no load generator share the
CPU, so the figures hold steady on a busy machine, where ``make bench``'s throughput does not.

    python -m bench.read_cost [--database-url postgresql://postgres@127.0.0.1:5432/postgres]

Requests go straight into the ASGI application (every middleware, the token check, the handler
and the response), one at a time; the setup is the benchmark's: an organization, a repository, a
writer's classic token, and a digest with ten deployment records and one storage record.
Statements are counted as SQLAlchemy sends them: SQLite's BEGIN is one, PostgreSQL's BEGIN and
COMMIT go through asyncpg's transaction calls and are not.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections import Counter
from typing import Any

from asgi_lifespan import LifespanManager
from sqlalchemy import event

from bench.scratch import scratch_settings
from waybill.accounts import service as accounts
from waybill.app import WaybillApp, create_app
from waybill.auth import tokens
from waybill.config import Settings

DIGEST = "sha256:" + "ab" * 32
DEPLOYMENTS = 10


async def call(app: WaybillApp, method: str, path: str, headers: dict[str, str], body: bytes = b"") -> int:
    """One request through the ASGI application; its status."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8080),
    }
    messages = [{"type": "http.request", "body": body, "more_body": False}]
    status = 0

    async def receive() -> dict[str, Any]:
        if messages:
            return messages.pop()
        await asyncio.Event().wait()  # the client never disconnects
        raise AssertionError

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope, receive, send)
    return status


async def provision(app: WaybillApp) -> dict[str, str]:
    async with app.db.write() as conn:
        await accounts.create_user(conn, "writer")
        org = await accounts.create_org(conn, "bench", "writer")
        await accounts.create_repository(conn, org, "app", private=False)
        token = await tokens.create_classic(conn, "writer", ["repo", "read:org"])
    headers = {"Authorization": f"Bearer {token}", "X-GitHub-Api-Version": "2022-11-28"}
    write = {**headers, "Content-Type": "application/json"}
    common = {"name": "app", "digest": DIGEST, "version": "1.0.0", "github_repository": "app"}
    deployed = {**common, "status": "deployed", "logical_environment": "production"}
    for i in range(DEPLOYMENTS):
        record = {**deployed, "deployment_name": f"d{i}"}
        path = "/orgs/bench/artifacts/metadata/deployment-record"
        assert await call(app, "POST", path, write, json.dumps(record).encode()) == 200
    storage = {**common, "registry_url": "https://registry.example.com", "repository": "bench/app"}
    path = "/orgs/bench/artifacts/metadata/storage-record"
    assert await call(app, "POST", path, write, json.dumps(storage).encode()) == 200
    return headers


async def run(settings: Settings, requests: int) -> None:
    app = create_app(settings)
    async with LifespanManager(app):
        headers = await provision(app)
        statements: Counter[str] = Counter()

        @event.listens_for(app.db.engine.sync_engine, "before_cursor_execute")
        def _count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
            statements[statement.split(None, 1)[0].upper()] += 1

        cases = {
            "no-op (GET /waybill/ping)": "/waybill/ping",
            "token check (GET /user)": "/user",
            "deployment records by digest": f"/orgs/bench/artifacts/{DIGEST}/metadata/deployment-records",
            "storage records by digest": f"/orgs/bench/artifacts/{DIGEST}/metadata/storage-records",
        }
        print(f"{'request':<30} {'cpu ms/req':>10} {'x no-op':>8}  statements per request")
        ping = 0.0
        for label, path in cases.items():
            for _ in range(50):  # warm: caches, prepared statements, the pool
                assert await call(app, "GET", path, headers) == 200
            statements.clear()
            start = time.process_time()
            for _ in range(requests):
                await call(app, "GET", path, headers)
            cpu_ms = 1000 * (time.process_time() - start) / requests
            ping = ping or cpu_ms
            counts = ", ".join(f"{k} {v / requests:.2f}" for k, v in sorted(statements.items())) or "none"
            print(f"{label:<30} {cpu_ms:>10.3f} {cpu_ms / ping:>8.1f}  {counts}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", default="", help="PostgreSQL server to make a scratch database on")
    parser.add_argument("--requests", type=int, default=3000)
    args = parser.parse_args()
    with scratch_settings(args.database_url) as settings:
        asyncio.run(run(settings, args.requests))


if __name__ == "__main__":
    main()
