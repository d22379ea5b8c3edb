"""The SQLite raw-write ceiling: the scenario's write in a tight loop, one transaction each, with the
server's PRAGMAs. Runs as its own process; prints one JSON line."""

from __future__ import annotations

import json
import random
import sqlite3
import sys
import time
from typing import Any

from bench.backends import percentiles_ms
from bench.scenarios import RAW_WRITES
from waybill.core.db import SQLITE_PRAGMAS


def main(path: str, scenario_key: str, seconds: float, context: dict[str, Any]) -> None:
    raw = RAW_WRITES[scenario_key]
    conn = sqlite3.connect(path, isolation_level=None)
    for name, value in SQLITE_PRAGMAS.items():
        conn.execute(f"PRAGMA {name}={value}")
    rng = random.Random()
    latencies: list[float] = []
    started = time.perf_counter()
    deadline = started + seconds
    seq = 0
    while True:
        now = time.perf_counter()
        if now >= deadline:
            break
        seq += 1
        statements = raw.sqlite(rng, seq, context)
        conn.execute("BEGIN IMMEDIATE")
        for sql, params in statements:
            if isinstance(params, list):
                conn.executemany(sql, params)
            else:
                conn.execute(sql, params)
        conn.execute("COMMIT")
        latencies.append(time.perf_counter() - now)
    elapsed = time.perf_counter() - started
    p50, p99 = percentiles_ms(latencies)
    print(
        json.dumps(
            {
                "rps": round(len(latencies) / elapsed, 1),
                "requests": len(latencies),
                "p50_ms": p50,
                "p99_ms": p99,
            }
        )
    )


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], float(sys.argv[3]), json.loads(sys.argv[4]))
