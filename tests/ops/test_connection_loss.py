"""PostgreSQL terminating a served process's connections while it is under load: no request answers
500, reads are answered (tried again on a fresh connection), and a write answers either 2xx and is
stored, or 503 with Retry-After and is not."""

from __future__ import annotations

import re
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

import httpx
import psycopg

from tests.live import LiveServer, live_server, storage_record

LOAD_SECONDS = 6.0
CLIENTS = 6


def _terminate_forever(database_url: str, stop: threading.Event, kills: list[int]) -> None:
    with psycopg.connect(database_url, autocommit=True) as admin:
        name = admin.execute("SELECT current_database()").fetchone()[0]  # type: ignore[index]
        while not stop.wait(0.5):
            killed = admin.execute(
                "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> pg_backend_pid()",
                (name,),
            ).fetchone()[0]  # type: ignore[index]
            kills.append(int(killed))


def _client(server: LiveServer, stop: threading.Event, outcomes: list[tuple[str, int, str, str]]) -> None:
    world = server.world
    headers = {"Authorization": f"Bearer {world.owner_token}"}
    known = f"sha256:{uuid.uuid4().hex}{uuid.uuid4().hex}"
    with httpx.Client(base_url=server.url, headers=headers, timeout=30) as client:
        # Started before the terminations, but a slow machine may let them overlap.
        while (
            client.post(
                f"/orgs/{world.org}/artifacts/metadata/storage-record", json=storage_record(world, known)
            ).status_code
            != 200
        ):
            time.sleep(0.1)
        i = 0
        while not stop.is_set():
            i += 1
            if i % 2:
                r = client.get(f"/orgs/{world.org}/artifacts/{known}/metadata/storage-records")
                outcomes.append(
                    (
                        "read",
                        r.status_code,
                        r.headers["X-GitHub-Request-Id"],
                        r.headers.get("Retry-After", ""),
                    )
                )
            else:
                digest = f"sha256:{uuid.uuid4().hex}{uuid.uuid4().hex}"
                r = client.post(
                    f"/orgs/{world.org}/artifacts/metadata/storage-record", json=storage_record(world, digest)
                )
                outcomes.append(("write", r.status_code, digest, r.headers.get("Retry-After", "")))


def test_terminated_connections_under_load(tmp_path: Path) -> None:
    with live_server("postgresql", tmp_path) as server:
        stop = threading.Event()
        outcomes: list[tuple[str, int, str, str]] = []
        kills: list[int] = []
        threads = [threading.Thread(target=_client, args=(server, stop, outcomes)) for _ in range(CLIENTS)]
        for thread in threads:
            thread.start()
        killer = threading.Thread(target=_terminate_forever, args=(server.database, stop, kills))
        time.sleep(0.5)
        killer.start()
        time.sleep(LOAD_SECONDS)
        stop.set()
        for thread in [*threads, killer]:
            thread.join()
        log = server.log.read_text()

        counts = Counter((kind, status) for kind, status, _, _ in outcomes)
        print("outcomes:", dict(counts), "connections terminated:", sum(kills))
        assert sum(kills) > 0
        assert not [o for o in outcomes if o[1] >= 500 and o[1] != 503], counts
        assert all(o[3] for o in outcomes if o[1] == 503), "a 503 without Retry-After"
        assert "Traceback" not in log, log[-3000:]
        # Reads lost their connection too, and were run again on a fresh one; a read answered 503
        # lost that one too (the connections are terminated every half second).
        again = set(re.findall(r"request (\S+) GET \S+: connection lost, running it again", log))
        assert again, "no read lost its connection"
        failed_reads = [o for o in outcomes if o[0] == "read" and o[1] != 200]
        assert {o[1] for o in failed_reads} <= {503}, counts
        assert all(o[2] in again for o in failed_reads), failed_reads
        assert len(failed_reads) <= len(again) / 2, (len(failed_reads), len(again))
        # Each write either was acknowledged and is stored, or was refused and is not.
        for kind, status, digest, _ in outcomes:
            if kind != "write":
                continue
            stored = server.get(f"/orgs/{server.world.org}/artifacts/{digest}/metadata/storage-records")
            assert stored.status_code == 200
            present = stored.json()["total_count"] > 0
            assert present == (status == 200), (status, digest)
