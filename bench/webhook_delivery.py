"""Webhook deliveries per second: events queued for a few hooks, delivered by one job worker to a
receiver on 127.0.0.1 that answers 200 at once (so what is measured is Waybill's side: claiming an
attempt, signing, the POST, and recording it).

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

from bench.scratch import scratch_settings
from waybill.accounts import service as accounts
from waybill.app import create_app
from waybill.config import Settings
from waybill.core import clock
from waybill.core.jobs import Worker
from waybill.webhooks import jobs as webhooks_jobs
from waybill.webhooks import queue
from waybill.webhooks import repository as webhooks


class _Ok(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *_args: object) -> None:
        pass


async def run(settings: Settings, events: int, hooks: int) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Ok)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    app = create_app(replace(settings, webhook_allow_private=True))
    async with LifespanManager(app):
        async with app.db.write() as conn:
            await accounts.create_user(conn, "owner")
            org = await accounts.create_org(conn, "bench", "owner")
            made = []
            for _ in range(hooks):
                made.append(
                    await webhooks.insert_hook(
                        conn,
                        {
                            "owner_id": org.id,
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
                        },
                    )
                )
            body = {"action": "created", "zen": "x" * 512}
            for i in range(events):
                hook = made[i % hooks]
                await queue.enqueue(
                    conn, hook, event="ping", action=None, repository_id=None, payload={**body, "n": i}
                )
        worker = Worker(app.db, webhooks_jobs.job_handlers(app.settings))
        start, cpu = time.perf_counter(), time.process_time()
        await worker.run_until_idle()
        elapsed, cpu_used = time.perf_counter() - start, time.process_time() - cpu
    server.shutdown()
    print(f"hooks: {hooks}, events: {events}")
    each = 1000 * cpu_used / events
    print(f"deliveries/s: {events / elapsed:.0f} (wall {elapsed:.2f} s, cpu {each:.2f} ms each)")


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
