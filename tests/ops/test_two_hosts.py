"""Two servers on one PostgreSQL database stand for two hosts: the jobs queued through either run
exactly once between them, and a server started before its database answers waits for it."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from pathlib import Path

import httpx
import psycopg
from sqlalchemy.engine import make_url

from tests.artifacts.test_crash import _deployment
from tests.attestations.bundles import random_digest
from tests.live import POSTGRES_URL, free_port, live_server, postgres_database, start_process, wait_until_up

JOBS = 24
ENTRIES = 50


def test_jobs_queued_through_either_server_run_exactly_once(tmp_path: Path) -> None:
    with live_server("postgresql", tmp_path / "seed") as seeded:
        extra = {"WAYBILL_RATE_LIMIT": "0", "WAYBILL_MAX_PENDING_JOBS_PER_TOKEN": str(JOBS)}
        servers = []
        for name in ("a", "b"):
            data_dir, port = tmp_path / name, free_port()
            data_dir.mkdir()
            servers.append(
                (f"http://127.0.0.1:{port}", data_dir, start_process(data_dir, seeded.database, port, extra))
            )
        try:
            for url, data_dir, process in servers:
                wait_until_up(url, process, data_dir / "server.log")
            headers = {"Authorization": f"Bearer {seeded.world.owner_token}"}
            statuses, ids = [], []
            for n in range(JOBS):
                url = servers[n % 2][0]
                path = f"/orgs/{seeded.world.org}/artifacts/metadata/deployment-record/cluster/twice-{n}/jobs"
                body = {
                    "logical_environment": "production",
                    "deployments": [
                        _deployment(seeded, f"job-{n}-{i}", random_digest()) for i in range(ENTRIES)
                    ],
                }
                created = httpx.post(url + path, headers=headers, json=body, timeout=30)
                assert created.status_code == 202, created.text
                ids.append(int(created.json()["job_id"]))
                # Asked for through the other server.
                statuses.append(servers[(n + 1) % 2][0] + f"{path}/{created.json()['job_id']}")
            deadline = time.monotonic() + 120
            for status in statuses:
                while (job := httpx.get(status, headers=headers, timeout=30).json())["status"] != "completed":
                    assert job["status"] in ("pending", "processing"), job
                    assert time.monotonic() < deadline, job
                    time.sleep(0.1)
                assert job["total_count"] == ENTRIES
        finally:
            for _, _, process in servers:
                process.terminate()
                process.wait(timeout=30)
        with psycopg.connect(seeded.database) as conn:
            rows = conn.execute("SELECT attempts FROM jobs WHERE id = ANY(%s)", (ids,)).fetchall()
        assert len(rows) == JOBS
        # Each claimed once, by one server or the other.
        assert {attempts for (attempts,) in rows} == {1}, rows


def _forward(listener: socket.socket, target: tuple[str, int], stop: threading.Event) -> None:
    """Relay every connection to ``target``: the database, once it "comes up"."""

    def pipe(source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)

    listener.settimeout(0.2)
    while not stop.is_set():
        try:
            client, _ = listener.accept()
        except TimeoutError:
            continue
        client.settimeout(None)
        upstream = socket.create_connection(target)
        for source, sink in ((client, upstream), (upstream, client)):
            threading.Thread(target=pipe, args=(source, sink), daemon=True).start()


def test_a_server_started_before_its_database_answers_waits_for_it(tmp_path: Path) -> None:
    database_port = free_port()
    with postgres_database() as url:
        late = make_url(url).set(host="127.0.0.1", port=database_port).render_as_string(hide_password=False)
        port = free_port()
        log = tmp_path / "server.log"
        process = start_process(tmp_path, late, port, {})
        stop = threading.Event()
        try:
            deadline = time.monotonic() + 30
            while "the database does not answer" not in (log.read_text() if log.exists() else ""):
                assert process.poll() is None, log.read_text()
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.1)
            assert "trying again in" in log.read_text()
            # The database comes up: connections to its port now reach PostgreSQL.
            with socket.create_server(("127.0.0.1", database_port)) as listener:
                real = make_url(POSTGRES_URL)
                relay = threading.Thread(
                    target=_forward, args=(listener, (real.host or "127.0.0.1", real.port or 5432), stop)
                )
                relay.start()
                wait_until_up(f"http://127.0.0.1:{port}", process, log)
                ready = httpx.get(f"http://127.0.0.1:{port}/waybill/readyz", timeout=10)
                assert ready.status_code == 200, ready.text
                assert "Traceback" not in log.read_text()
                stop.set()
                relay.join()
        finally:
            stop.set()
            process.terminate()
            process.wait(timeout=30)
