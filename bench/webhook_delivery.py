"""Webhook deliveries per second, in process, on SQLite or PostgreSQL: events queued for a few
hooks, delivered to a receiver on 127.0.0.1 that answers 200 at once (so what is measured is
Waybill's side: claiming an attempt, signing, the POST, and recording it), by a job worker running
one job at a time, then as a server's does (``WAYBILL_JOB_CONCURRENCY`` at once). What hooks cost a
write is ``bench.request_cost --hooks 10``'s.

    python -m bench.webhook_delivery [--database-url postgresql://...] [--events 500] [--hooks 4]
"""

from __future__ import annotations

import argparse
import asyncio
import threading
import time
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from asgi_lifespan import LifespanManager
from sqlalchemy import func, select

from bench.scratch import scratch_settings
from waybill.accounts import service as accounts
from waybill.app import WaybillApp, create_app
from waybill.config import Settings
from waybill.core import clock, jobs
from waybill.core.jobs import Worker
from waybill.webhooks import jobs as webhooks_jobs
from waybill.webhooks import queue
from waybill.webhooks import repository as webhooks
from waybill.webhooks.types import Hook

_DELIVERING = (
    select(func.count())
    .select_from(jobs.jobs)
    .where(jobs.jobs.c.kind == queue.DELIVER_JOB, jobs.jobs.c.status.in_(("pending", "processing")))
)


class _Ok(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *_args: object) -> None:
        pass


def _hook(owner_id: int, url: str) -> dict[str, object]:
    return {
        "owner_id": owner_id,
        "repository_id": None,
        "name": "web",
        "active": True,
        "events": ["*"],
        "url": url,
        "content_type": "json",
        "secret": "bench",
        "insecure_ssl": "0",
        "last_response": {"code": None, "status": "unused", "message": None},
        "created_at": clock.now(),
        "updated_at": clock.now(),
    }


async def _deliver(app: WaybillApp, made: list[Hook], events: int, concurrency: int) -> None:
    async with app.db.write() as conn:
        body = {"action": "created", "zen": "x" * 512}
        for i in range(events):
            await queue.enqueue(
                conn,
                made[i % len(made)],
                event="ping",
                action=None,
                repository_id=None,
                payload={**body, "n": i},
            )
    worker = Worker(
        app.db, webhooks_jobs.job_handlers(app.settings), concurrency=concurrency, poll_seconds=0.01
    )
    start, cpu = time.perf_counter(), time.process_time()
    if concurrency == 1:
        await worker.run_until_idle()
    else:
        worker.start()
        while True:
            await asyncio.sleep(0.01)
            async with app.db.read() as conn:
                if not (await conn.execute(_DELIVERING)).scalar():
                    break
        await worker.stop()
    elapsed, cpu_used = time.perf_counter() - start, time.process_time() - cpu
    print(
        f"deliveries/s, {concurrency} job(s) at once: {events / elapsed:.0f}"
        f" (wall {elapsed:.2f} s, CPU {1000 * cpu_used / events:.2f} ms each)"
    )


async def run(settings: Settings, events: int, hooks: int) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Ok)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    app = create_app(replace(settings, webhook_allow_private=True))
    async with LifespanManager(app):
        async with app.db.write() as conn:
            await accounts.create_user(conn, "owner")
            org = await accounts.create_org(conn, "bench", "owner")
            made = [await webhooks.insert_hook(conn, _hook(org.id, url)) for _ in range(hooks)]
        print(f"hooks: {hooks}, events: {events}")
        await _deliver(app, made, events, 1)
        await _deliver(app, made, events, app.settings.job_concurrency)
    server.shutdown()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", default="")
    parser.add_argument("--events", type=int, default=500)
    parser.add_argument("--hooks", type=int, default=4)
    args = parser.parse_args()
    with scratch_settings(args.database_url) as settings:
        asyncio.run(run(settings, args.events, args.hooks))


if __name__ == "__main__":
    main()
