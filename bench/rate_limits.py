"""The shared rate limit's cost, in process, on SQLite or PostgreSQL: a request only counts in
memory, and about once a second each server process adds what it counted to the windows in the
database (``RateLimiter.share_once``). Prints the time and this process's CPU of one such round for
10, 100 and 1,000 tokens active in that second, beside the round's floor: one write transaction that
changes nothing.

    python -m bench.rate_limits [--database-url postgresql://postgres@127.0.0.1:5432/postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from dataclasses import replace

from sqlalchemy import text

from bench.scratch import scratch_settings
from waybill.config import Settings
from waybill.core.db import Database
from waybill.http.conventions import RateLimiter

ROUNDS = 20


async def run(settings: Settings) -> None:
    db = Database.for_settings(settings, connections=4)
    limiter = RateLimiter(replace(settings, rate_limit_enabled=True))
    try:
        floor = []
        for _ in range(ROUNDS):
            start = time.perf_counter()
            async with db.write() as conn:
                await conn.execute(text("SELECT 1"))
            floor.append(time.perf_counter() - start)
        print(f"{'active tokens':>14} {'round p50':>10} {'CPU':>8} {'per token':>10}")
        print(f"{'floor':>14} {statistics.median(floor) * 1000:8.2f}ms")
        for tokens in (10, 100, 1000):
            took, cpu = [], []
            for n in range(ROUNDS):
                for k in range(tokens):
                    # Each token made a few requests this second.
                    for _ in range(3):
                        limiter.hit(f"t:{n % 2}-{k:064d}", 5000)
                start, used = time.perf_counter(), time.process_time()
                await limiter.share_once(db)
                took.append(time.perf_counter() - start)
                cpu.append(time.process_time() - used)
            median = statistics.median(took) * 1000
            print(
                f"{tokens:>14,} {median:8.2f}ms {statistics.median(cpu) * 1000:6.2f}ms"
                f" {median / tokens * 1000:8.1f}µs"
            )
    finally:
        await db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    with scratch_settings(args.database_url) as settings:
        asyncio.run(run(settings))


if __name__ == "__main__":
    main()
