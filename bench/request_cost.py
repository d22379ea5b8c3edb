"""What one request costs the server, in process: CPU time and SQL statements per request for
the hot reads and writes, beside the no-op endpoint measured the same way. No HTTP server and no
load generator share the CPU, so the figures hold steady on a busy machine, where ``make bench``'s
throughput does not.

    python -m bench.request_cost [--database-url postgresql://postgres@127.0.0.1:5432/postgres]
        [--concurrency 16] [--hooks 10]

Requests go straight into the ASGI application (every middleware, the token check, the handler
and the response), one at a time or from ``--concurrency`` tasks at once (so that SQLite's writer
commits them in groups, as under load); the setup is the benchmark's: an organization, a repository, a
writer's classic token, and a digest with ten deployment records and one storage record.
Statements are counted as SQLAlchemy sends them ("sa") and as the hot paths send them straight to the
drivers ("driver"; on SQLite the writer's BEGIN, SAVEPOINT, RELEASE and COMMIT count too, shared by
the writes committed together).
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
from waybill.core import clock
from waybill.webhooks import repository as webhooks

DIGEST = "sha256:" + "ab" * 32
DEPLOYMENTS = 10


async def call(app: WaybillApp, method: str, path: str, headers: dict[str, str], body: bytes = b"") -> int:
    """One request through the ASGI application (``path`` may carry a query); its status."""
    path, _, query = path.partition("?")
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
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


async def add_hooks(app: WaybillApp, count: int) -> None:
    async with app.db.write() as conn:
        org = await accounts.get_org(conn, "bench")
        for _ in range(count):
            await webhooks.insert_hook(
                conn,
                {
                    "owner_id": org.id,
                    "repository_id": None,
                    "name": "web",
                    "active": True,
                    "events": ["*"],
                    "url": "https://hooks.example.com/bench",
                    "content_type": "json",
                    "secret": "bench",
                    "insecure_ssl": "0",
                    "last_response": {"code": None, "status": "unused", "message": None},
                    "created_at": clock.now(),
                    "updated_at": clock.now(),
                },
            )


async def run(settings: Settings, requests: int, concurrency: int, hooks: int = 0) -> None:
    app = create_app(settings)
    async with LifespanManager(app):
        headers = await provision(app)
        await add_hooks(app, hooks)
        print(f"hooks: {hooks}")
        statements: Counter[str] = Counter()

        @event.listens_for(app.db.engine.sync_engine, "before_cursor_execute")
        def _count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
            statements["sa " + statement.split(None, 1)[0].upper()] += 1

        app.db.trace(lambda statement: statements.update(["driver " + statement.split(None, 1)[0].upper()]))
        write = {**headers, "Content-Type": "application/json"}
        counter = iter(range(10**9))

        def upsert_body() -> bytes:
            # A new digest for one of a few deployments each time: the write that changes a record
            # (history entry, risk rows), as a rollout does.
            i = next(counter)
            body = {
                "name": "app",
                "digest": "sha256:" + f"{i:064x}",
                "status": "deployed",
                "logical_environment": "production",
                "deployment_name": f"rollout-{i % 64}",
                "github_repository": "app",
                "runtime_risks": ["internet-exposed"],
            }
            return json.dumps(body).encode()

        def storage_body() -> bytes:
            i = next(counter)
            body = {
                "name": "app",
                "digest": "sha256:" + f"{i:064x}",
                "registry_url": "https://registry.example.com",
                "repository": "bench/app",
                "github_repository": "app",
            }
            return json.dumps(body).encode()

        metadata = "/orgs/bench/artifacts/metadata"
        cases: dict[str, tuple[str, str, dict[str, str], Any]] = {
            "no-op (GET /waybill/ping)": ("GET", "/waybill/ping", headers, None),
            "token check (GET /user)": ("GET", "/user", headers, None),
            "deployment records by digest": (
                "GET", f"/orgs/bench/artifacts/{DIGEST}/metadata/deployment-records", headers, None
            ),
            "storage records by digest": (
                "GET", f"/orgs/bench/artifacts/{DIGEST}/metadata/storage-records", headers, None
            ),
            "deployment record upsert": ("POST", f"{metadata}/deployment-record", write, upsert_body),
            "storage record upsert": ("POST", f"{metadata}/storage-record", write, storage_body),
        }  # fmt: skip
        print(f"concurrency: {concurrency}")
        print(f"{'request':<30} {'cpu ms/req':>10} {'x no-op':>8}  statements per request")
        ping = 0.0
        for label, (method, path, sent, body) in cases.items():

            async def client(
                count: int, method: str = method, path: str = path, sent: Any = sent, body: Any = body
            ) -> None:
                for _ in range(count):
                    status = await call(app, method, path, sent, body() if body else b"")
                    assert status == 200, (method, path, status)

            await client(50)  # warm: caches, prepared statements, the pools
            statements.clear()
            start = time.process_time()
            await asyncio.gather(*(client(requests // concurrency) for _ in range(concurrency)))
            done = requests // concurrency * concurrency
            cpu_ms = 1000 * (time.process_time() - start) / done
            ping = ping or cpu_ms
            counts = ", ".join(f"{k} {v / done:.2f}" for k, v in sorted(statements.items())) or "none"
            print(f"{label:<30} {cpu_ms:>10.3f} {cpu_ms / ping:>8.1f}  {counts}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", default="", help="PostgreSQL server to make a scratch database on")
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=1, help="requests in flight at once")
    parser.add_argument("--hooks", type=int, default=0, help="active organization hooks hearing every event")
    args = parser.parse_args()
    with scratch_settings(args.database_url) as settings:
        asyncio.run(run(settings, args.requests, args.concurrency, args.hooks))


if __name__ == "__main__":
    main()
