"""The fleet: many deployment-trackers posting deployment records to one server, as a rollout across
many clusters does (``make bench-fleet``; ``make bench`` runs it after the scenarios).

Each tracker is one cluster's controller with its own token and keep-alive connections, sending at
``--rate`` records/s in bursts of ``--burst`` on a schedule that does not wait for the server
(``bench/fleet.mjs``). By default a tracker has a burst's worth of connections, so that a burst
reaches the server as one and the latency is the server's, not the tracker's own queue. Steps of
growing fleets find the highest rate the machine holds (every record answered 2xx, none left
queued, p99 under ``--p99-ms``); then the full fleet runs for ``--seconds``.
The server runs with its production rate limits, so a 429 is a real refusal.

    python -m bench.fleet [--backends sqlite,postgresql] [--trackers 200] [--seconds 60]
                          [--steps 10,25,50,100] [--step-seconds 15] [--workers 2]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.backends import RATE_LIMIT_NO_QUOTA, Backend, Fixture, backends
from bench.procs import cpu_seconds, start_server

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
LOAD = BENCH_DIR / "fleet.mjs"


@dataclass(frozen=True)
class Fleet:
    trackers: int
    rate: float
    burst: int
    seconds: float
    connections: int
    deployments: int = 100

    @property
    def offered_per_s(self) -> float:
        return self.trackers * self.rate


def tracker_tokens(backend: Backend, fixture: Fixture, count: int) -> list[str]:
    """One classic token per tracker, each with its own hourly quota, as separate clusters have."""
    from waybill.auth import tokens
    from waybill.core.db import Database

    async def create() -> list[str]:
        db = Database(backend.settings().resolved_database_url)
        try:
            async with db.write() as conn:
                return [await tokens.create_classic(conn, fixture.user, ["repo"]) for _ in range(count)]
        finally:
            await db.dispose()

    return asyncio.run(create())


def production_env(backend: Backend) -> dict[str, str]:
    """The server's settings as in production: the bench's no-quota override removed."""
    return {k: v for k, v in backend.server_env().items() if v != RATE_LIMIT_NO_QUOTA}


def drive(base: str, fixture: Fixture, tokens: list[str], fleet: Fleet, server_pid: int) -> dict[str, Any]:
    request = {
        "base": base,
        "org": fixture.org,
        "repository": fixture.repo,
        "tokens": tokens[: fleet.trackers],
        "trackers": fleet.trackers,
        "rate": fleet.rate,
        "burst": fleet.burst,
        "seconds": fleet.seconds,
        "connections": fleet.connections,
        "deployments": fleet.deployments,
    }
    cpu_before = cpu_seconds(server_pid)
    done = subprocess.run(
        ["node", str(LOAD)], input=json.dumps(request), capture_output=True, text=True, check=False
    )
    cpu = cpu_seconds(server_pid) - cpu_before
    if done.returncode != 0:
        raise RuntimeError(f"the fleet's load failed: {done.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(done.stdout)
    answered = result["answered"]
    ok = sum(n for status, n in result["statuses"].items() if status.startswith("2"))
    result.update(
        trackers=fleet.trackers,
        ok=ok,
        refused_429=result["statuses"].get("429", 0),
        errors=answered - ok - result["statuses"].get("429", 0) + result["transport_errors"],
        server_cpu_ms=round(1000 * cpu / answered, 3) if answered else None,
    )
    return result


def held(result: dict[str, Any], p99_ms: float) -> bool:
    clean = result["errors"] == 0 and result["refused_429"] == 0 and result["unsent"] == 0
    return clean and float(result["p99_ms"]) < p99_ms


def line(label: str, result: dict[str, Any], p99_ms: float) -> str:
    return (
        f"  {label:<10} {result['trackers']:>4} trackers  offered {result['offered_per_s']:>7,.0f}/s"
        f"  sustained {result['sustained_per_s']:>7,.0f}/s  p50 {result['p50_ms']:>7.1f}  p99"
        f" {result['p99_ms']:>8.1f} ms  429s {result['refused_429']:>5}  errors {result['errors']:>5}"
        f"  unsent {result['unsent']:>6}  CPU {result['server_cpu_ms'] or 0:.2f} ms/rec"
        f"  {'held' if held(result, p99_ms) else 'NOT held'}"
    )


def run_backend(backend: Backend, args: argparse.Namespace) -> dict[str, Any]:
    backend.create()
    try:
        fixture = backend.provision()
        tokens = tracker_tokens(backend, fixture, args.trackers)
        log = backend.workdir / "server-fleet.log"
        server, base = start_server(production_env(backend), args.workers, log, REPO)
        try:
            fleet = Fleet(args.trackers, args.rate, args.burst, args.seconds, args.connections)
            # A short fleet first, so the first figures are not the server's warm-up.
            drive(base, fixture, tokens, Fleet(5, fleet.rate, fleet.burst, 3, fleet.connections), server.pid)
            steps = []
            for trackers in args.steps:
                step = Fleet(trackers, args.rate, args.burst, args.step_seconds, args.connections)
                result = drive(base, fixture, tokens, step, server.pid)
                print(line("step", result, args.p99_ms), flush=True)
                steps.append(result)
                if not held(result, args.p99_ms):
                    break
            full = drive(base, fixture, tokens, fleet, server.pid)
            print(line(f"{args.seconds:.0f} s", full, args.p99_ms), flush=True)
            server.check_alive()
        finally:
            server.stop()
    finally:
        backend.drop()
    holding = [s for s in [*steps, full] if held(s, args.p99_ms)]
    best = max(holding, key=lambda s: s["sustained_per_s"], default=None)
    return {"steps": steps, "full": full, "highest_held": best}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.fleet", description=__doc__)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--trackers", type=int, default=200)
    parser.add_argument("--rate", type=float, default=20, help="records/s per tracker")
    parser.add_argument("--burst", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--steps", default="10,25,50,100", help="fleet sizes tried first")
    parser.add_argument("--step-seconds", type=float, default=15)
    parser.add_argument(
        "--connections", type=int, default=50, help="keep-alive connections per tracker (a burst's worth)"
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--p99-ms", type=float, default=100)
    parser.add_argument("--out", type=Path, default=BENCH_DIR / "results" / "fleet.json")
    args = parser.parse_args(argv)
    args.steps = [int(s) for s in args.steps.split(",") if s.strip()]
    results: dict[str, Any] = {}
    for backend in backends(b.strip() for b in args.backends.split(",")):
        print(
            f"\n== {backend.name}: {args.workers} workers, {args.rate:g} records/s per tracker"
            f" in bursts of {args.burst}",
            flush=True,
        )
        results[backend.name] = run_backend(backend, args)
        best = results[backend.name]["highest_held"]
        print(
            f"  highest rate held: {best['sustained_per_s']:,.0f} records/s ({best['trackers']} trackers,"
            f" p99 {best['p99_ms']:.1f} ms)"
            if best
            else "  no fleet size held",
            flush=True,
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
