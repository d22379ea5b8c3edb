"""Behind PgBouncer in transaction mode (Debian's ``pgbouncer``), with ``WAYBILL_DATABASE_POOL_MODE=
transaction``: many server connections share a few PostgreSQL ones, transaction by transaction, so no
driver may count on a statement it prepared earlier. Two workers write and read at once through four
PostgreSQL connections, from migrations at start-up to cluster sets."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url

from tests.attestations.bundles import bundle_for, random_digest
from tests.conftest import CI
from tests.live import LiveServer, free_port, live_server

PGBOUNCER = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"
SERVER_CONNECTIONS = 4


@pytest.fixture
def pgbouncer(tmp_path: Path) -> Iterator[int]:
    """PgBouncer in transaction mode in front of the test PostgreSQL; its port."""
    if not os.access(PGBOUNCER, os.X_OK):
        if CI:
            pytest.fail("CI=true but Debian's pgbouncer is not installed (make test installs it)")
        pytest.skip("pgbouncer is not installed (apt-get install pgbouncer; make test does)")
    port = free_port()
    folder = tmp_path / "pgbouncer"
    folder.mkdir()
    (folder / "users.txt").write_text('"postgres" ""\n')
    (folder / "pgbouncer.ini").write_text(
        f"""[databases]
* = host=127.0.0.1 port=5432
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir =
auth_type = trust
auth_file = {folder / "users.txt"}
pool_mode = transaction
default_pool_size = {SERVER_CONNECTIONS}
max_client_conn = 500
"""
    )
    folder.chmod(0o755)
    # PgBouncer refuses to run as root; CI runs as root.
    user = ["-u", "nobody"] if os.geteuid() == 0 else []
    process = subprocess.Popen(
        [PGBOUNCER, *user, str(folder / "pgbouncer.ini")],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            assert process.poll() is None, process.stdout.read().decode() if process.stdout else ""
            try:
                with create_engine(f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres").connect():
                    break
            except Exception:
                assert time.monotonic() < deadline, "pgbouncer did not accept connections within 20 s"
                time.sleep(0.2)
        yield port
    finally:
        process.terminate()
        process.wait(10)


def _through(port: int) -> Callable[[str], dict[str, str]]:
    def settings(database_url: str) -> dict[str, str]:
        url = make_url(database_url).set(host="127.0.0.1", port=port)
        return {
            "WAYBILL_DATABASE_URL": url.render_as_string(hide_password=False),
            "WAYBILL_DATABASE_POOL_MODE": "transaction",
            # What is checked is that every statement works through the pooler, not how soon a
            # connection frees up: on a busy machine a burst may wait longer than the default 5 s,
            # and be refused (503) as it should.
            "WAYBILL_DATABASE_POOL_TIMEOUT": "60",
        }

    return settings


def _deployment(server: LiveServer, name: str, digest: str) -> dict[str, object]:
    return {
        "name": "web",
        "digest": digest,
        "status": "deployed",
        "logical_environment": "production",
        "deployment_name": name,
        "github_repository": server.world.public_repo,
        "runtime_risks": ["internet-exposed"],
    }


async def _load(server: LiveServer) -> tuple[list[int], list[str]]:
    org, repo = server.world.org, server.world.public_repo
    metadata = f"/orgs/{org}/artifacts/metadata"
    digests = [random_digest() for _ in range(20)]
    headers = {"Authorization": f"Bearer {server.world.owner_token}"}
    async with httpx.AsyncClient(base_url=server.url, headers=headers, timeout=120) as client:

        async def request(method: str, path: str, body: object = None) -> int:
            response = await client.request(method, path, json=body)
            return response.status_code

        work = []
        for round_ in range(5):
            for i, digest in enumerate(digests):
                body = _deployment(server, f"pooled-{i}", digest if round_ % 2 else random_digest())
                work.append(request("POST", f"{metadata}/deployment-record", body))
                work.append(request("GET", f"/orgs/{org}/artifacts/{digest}/metadata/deployment-records"))
            storage = {
                "name": "web",
                "digest": digests[round_],
                "registry_url": "https://registry.example.com",
            }
            work.append(request("POST", f"{metadata}/storage-record", {**storage, "github_repository": repo}))
            cluster = {
                "logical_environment": "staging",
                "deployments": [_deployment(server, f"set-{i}", digests[i]) for i in range(20)],
            }
            work.append(request("POST", f"{metadata}/deployment-record/cluster/pooled-{round_}", cluster))
            bundle = {"bundle": bundle_for([digests[round_]])}
            work.append(request("POST", f"/repos/{org}/{repo}/attestations", bundle))
        statuses = await asyncio.gather(*work)
    return list(statuses), digests


def test_every_request_is_served_through_pgbouncer_in_transaction_mode(
    pgbouncer: int, tmp_path: Path
) -> None:
    with live_server("postgresql", tmp_path / "server", through=_through(pgbouncer), workers=2) as server:
        statuses, digests = asyncio.run(_load(server))
        faults = [
            line for line in server.log.read_text().splitlines() if line.startswith(("WARNING", "ERROR"))
        ]
        assert sorted(set(statuses)) in ([200], [200, 201]), faults[:20]
        org = server.world.org
        listed = server.get(f"/orgs/{org}/artifacts/{digests[0]}/metadata/deployment-records")
        assert listed.status_code == 200
        placed = {(r["cluster"], r["deployment_name"]) for r in listed.json()["deployment_records"]}
        # Every cluster set landed whole; the concurrent single writes of pooled-0 may name it too.
        assert {(f"pooled-{k}", "set-0") for k in range(5)} <= placed
        assert len(placed - {("", "pooled-0")}) == 5
        attested = server.get(f"/repos/{org}/{server.world.public_repo}/attestations/{digests[4]}")
        assert attested.status_code == 200
        assert len(attested.json()["attestations"]) == 1
        log = server.log.read_text()
    assert "Traceback" not in log, log[-3000:]
