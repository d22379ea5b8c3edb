"""A write that was answered 2xx survives kill -9 of every server process, on both databases; a
cluster set is there whole or not at all. ``waybill serve --workers 2`` takes single upserts and
cluster sets from many clients at once and is killed in the middle of them."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from tests.attestations.bundles import random_digest
from tests.live import LiveServer, live_server

SINGLES = 400
CLUSTER_SETS = 20
SET_SIZE = 50


def _process_tree(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            children.setdefault(int(stat.rsplit(")", 1)[1].split()[1]), []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        found.append(todo.pop())
        todo.extend(children.get(found[-1], []))
    return found


def _deployment(server: LiveServer, name: str, digest: str) -> dict[str, Any]:
    return {
        "name": "web",
        "digest": digest,
        "status": "deployed",
        "logical_environment": "production",
        "deployment_name": name,
        "github_repository": server.world.public_repo,
    }


async def _write_until_killed(server: LiveServer) -> tuple[dict[str, str], set[str], set[str]]:
    """Send everything, kill the server once a quarter of the single writes and a few cluster sets
    are answered; what was acknowledged: single writes by deployment name (their digest), cluster
    sets answered 200; and all sets sent."""
    metadata = f"/orgs/{server.world.org}/artifacts/metadata"
    headers = {"Authorization": f"Bearer {server.world.owner_token}"}
    acknowledged: dict[str, str] = {}
    sets_acknowledged: set[str] = set()
    answered = asyncio.Event()
    limits = httpx.Limits(max_connections=32)
    async with httpx.AsyncClient(base_url=server.url, headers=headers, timeout=30, limits=limits) as client:

        async def single(i: int) -> None:
            digest = random_digest()
            try:
                response = await client.post(
                    f"{metadata}/deployment-record", json=_deployment(server, f"single-{i}", digest)
                )
            except httpx.TransportError:
                return
            if response.status_code == 200:
                acknowledged[f"single-{i}"] = digest
            enough()

        async def cluster_set(k: int) -> None:
            body = {
                "logical_environment": "production",
                "deployments": [_deployment(server, f"set-{i}", random_digest()) for i in range(SET_SIZE)],
            }
            try:
                response = await client.post(f"{metadata}/deployment-record/cluster/crash-{k}", json=body)
            except httpx.TransportError:
                return
            if response.status_code == 200:
                sets_acknowledged.add(f"crash-{k}")
            enough()

        def enough() -> None:
            if len(acknowledged) >= SINGLES // 4 and len(sets_acknowledged) >= 3:
                answered.set()

        async def kill() -> None:
            await answered.wait()
            for pid in _process_tree(server.pid):
                os.kill(pid, signal.SIGKILL)

        # Interleaved, so that cluster sets are being written when the kill comes.
        per_set = SINGLES // CLUSTER_SETS
        work = [single(i) if i % per_set else cluster_set(i // per_set) for i in range(SINGLES)]
        await asyncio.gather(kill(), *work)
    return acknowledged, sets_acknowledged, {f"crash-{k}" for k in range(CLUSTER_SETS)}


def _stored(server: LiveServer) -> list[tuple[str, str, str]]:
    query = "SELECT cluster, deployment_name, digest FROM artifact_deployment_records"
    if server.backend == "sqlite":
        with sqlite3.connect(server.database) as conn:
            return [tuple(row) for row in conn.execute(query)]
    with psycopg.connect(server.database) as conn:
        return [tuple(row) for row in conn.execute(query)]


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_acknowledged_writes_survive_kill_9(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    if backend == "postgresql":
        request.getfixturevalue("postgres_database")  # skips (or fails under CI) when unreachable
    with live_server(backend, tmp_path / "server", workers=2) as server:
        acknowledged, sets_acknowledged, sets_sent = asyncio.run(_write_until_killed(server))
        stored = _stored(server)
    singles = {name: digest for cluster, name, digest in stored if cluster == ""}
    assert len(acknowledged) >= SINGLES // 4
    assert len(sets_acknowledged) >= 3
    assert len(acknowledged) < SINGLES - CLUSTER_SETS, "the server was killed after everything was answered"
    lost = {name for name, digest in acknowledged.items() if singles.get(name) != digest}
    assert not lost, f"{len(lost)} acknowledged writes lost"
    by_set: dict[str, int] = {}
    for cluster, _, _ in stored:
        if cluster in sets_sent:
            by_set[cluster] = by_set.get(cluster, 0) + 1
    assert all(n == SET_SIZE for n in by_set.values()), f"a cluster set was stored in part: {by_set}"
    assert sets_acknowledged <= set(by_set)
