"""What recording the request metrics costs a write, in process.

    python -m bench.metrics_cost [--database-url postgresql://postgres@127.0.0.1:5432/postgres]

CPU time per deployment-record upsert with the metrics recorded as in production, and with the
recording replaced by nothing, in alternating rounds; then one recording alone, outside any request.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
import timeit
from itertools import count
from typing import Any

from asgi_lifespan import LifespanManager

from bench.request_cost import call, provision
from bench.scratch import scratch_settings
from waybill.app import create_app
from waybill.config import Settings
from waybill.ops import metrics

PATH = "/orgs/bench/artifacts/metadata/deployment-record"


async def _cpu_per_upsert(app: Any, headers: dict[str, str], requests: int, numbers: count[int]) -> float:
    start = time.process_time()
    for _ in range(requests):
        body = {
            "name": "app",
            "digest": "sha256:" + f"{next(numbers):064x}",
            "status": "deployed",
            "logical_environment": "production",
            "deployment_name": "d0",
            "github_repository": "app",
        }
        assert await call(app, "POST", PATH, headers, json.dumps(body).encode()) == 200
    return 1e6 * (time.process_time() - start) / requests


async def run(settings: Settings, requests: int, rounds: int) -> None:
    app = create_app(settings)
    recording = metrics.observe_request
    async with LifespanManager(app):
        headers = {**await provision(app), "Content-Type": "application/json"}
        numbers = count()
        await _cpu_per_upsert(app, headers, 200, numbers)
        with_metrics: list[float] = []
        without: list[float] = []
        # Alternating which goes first cancels the drift of a growing table.
        for round_ in range(rounds):
            for recorded in (True, False) if round_ % 2 == 0 else (False, True):
                if not recorded:
                    metrics.observe_request = lambda *_args: None
                try:
                    cpu = await _cpu_per_upsert(app, headers, requests, numbers)
                finally:
                    metrics.observe_request = recording
                (with_metrics if recorded else without).append(cpu)
    best_with, best_without = min(with_metrics), min(without)
    print(f"CPU per upsert, metrics recorded: {best_with:.1f} us (best of {rounds} rounds of {requests})")
    print(f"CPU per upsert, recording removed: {best_without:.1f} us")
    print(f"difference: {best_with - best_without:.1f} us ({100 * (best_with / best_without - 1):.2f} %)")
    alone = min(
        timeit.repeat(
            lambda: recording("/orgs/{org}/artifacts/metadata/deployment-record", "POST", 200, 0.003),
            number=100_000,
            repeat=5,
        )
    )
    print(f"one recording alone: {1e6 * alone / 100_000:.2f} us")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with scratch_settings(args.database_url) as settings:
        asyncio.run(run(settings, args.requests, args.rounds))


if __name__ == "__main__":
    main()
