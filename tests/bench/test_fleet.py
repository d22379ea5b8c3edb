"""The fleet's load generator against a real server: every record it offers is answered and stored,
and the figures it reports add up."""

from __future__ import annotations

from pathlib import Path

from bench.backends import SQLiteBackend
from bench.fleet import Fleet, drive, held, production_env, tracker_tokens
from bench.procs import start_server

REPO = Path(__file__).resolve().parents[2]


def test_a_small_fleet_is_answered_and_stored() -> None:
    backend = SQLiteBackend()
    backend.create()
    try:
        fixture = backend.provision()
        tokens = tracker_tokens(backend, fixture, 3)
        server, base = start_server(production_env(backend), 1, backend.workdir / "server.log", REPO)
        try:
            fleet = Fleet(trackers=3, rate=20, burst=10, seconds=1.5, connections=10, deployments=7)
            result = drive(base, fixture, tokens, fleet, server.pid)
        finally:
            server.stop()
        # Each tracker sends a burst at once, then one every half second: 3 bursts in 1.5 s.
        assert result["offered"] == 3 * 3 * 10
        assert result["answered"] == result["ok"] == result["offered"]
        assert result["errors"] == result["refused_429"] == result["unsent"] == 0
        assert result["server_cpu_ms"] > 0
        assert held(result, p99_ms=60_000)
        # Each tracker is its own cluster, and names cycle over its seven deployments.
        assert backend.scalar("SELECT count(*) FROM artifact_deployment_records") == 3 * 7
    finally:
        backend.drop()
