"""A real Waybill server process for tests that drive it from outside (fuzzing, real clients):
``waybill serve`` on a free port of 127.0.0.1, on a fresh SQLite file or PostgreSQL database,
with a seeded world (``tests.contract.world``) that clients can name."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from testkit import sarifs

from tests.attestations.bundles import bundle_for, random_digest
from tests.contract.world import World, seed_accounts, seed_records
from tests.harness import Harness, HttpClient
from waybill.config import Settings
from waybill.core.db import Database
from waybill.core.migrate import upgrade

POSTGRES_URL = os.environ.get("WAYBILL_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


# A dependency graph the seeded advisory (left-pad below 1.3.1) affects.
VULNERABLE_SNAPSHOT = {
    "version": 0,
    "sha": "a" * 40,
    "ref": "refs/heads/main",
    "job": {"correlator": "live", "id": "1"},
    "detector": {"name": "live", "version": "1.0.0", "url": "https://example.com/detector"},
    "scanned": "2026-01-01T00:00:00Z",
    "manifests": {
        "package-lock.json": {
            "name": "package-lock.json",
            "resolved": {
                "left-pad": {
                    "package_url": "pkg:npm/left-pad@1.3.0",
                    "relationship": "direct",
                    "scope": "runtime",
                }
            },
        }
    },
}


def storage_record(world: World, digest: str) -> dict[str, Any]:
    """A storage record body for ``digest`` in the seeded public repository."""
    return {
        "name": "web-image",
        "digest": digest,
        "registry_url": "https://registry.example.com",
        "github_repository": world.public_repo,
    }


@dataclass
class LiveServer:
    url: str
    world: World
    backend: str
    log: Path
    pid: int
    # What the server stores in: the SQLite file, or the PostgreSQL database's URL.
    database: str

    def get(self, path: str, token: str = "") -> httpx.Response:
        headers = {"Authorization": f"Bearer {token or self.world.owner_token}"}
        return httpx.get(f"{self.url}{path}", headers=headers, timeout=30)

    def post(self, path: str, body: Any, token: str = "") -> httpx.Response:
        headers = {"Authorization": f"Bearer {token or self.world.owner_token}"}
        return httpx.post(f"{self.url}{path}", headers=headers, json=body, timeout=30)

    def attest(self, repo: str, digests: list[str], token: str = "") -> int:
        """A signed test attestation of ``digests`` in ``repo`` (owner/name), written through the API."""
        response = self.post(f"/repos/{repo}/attestations", {"bundle": bundle_for(digests)}, token)
        assert response.status_code == 201, response.text
        return int(response.json()["id"])

    def attested(self, repo: str) -> str:
        """The digest of a new test attestation in ``repo`` (owner/name)."""
        digest = random_digest()
        self.attest(repo, [digest])
        return digest

    def vulnerable_repository(self) -> str:
        """A new repository of the seeded organization whose graph holds left-pad 1.3.0, which the
        seeded advisory affects; its full name, once the server's job worker has opened alert #1."""
        name = f"vulnerable-{uuid.uuid4().hex[:8]}"
        created = self.post(f"/orgs/{self.world.org}/repos", {"name": name})
        assert created.status_code == 201, created.text
        full_name = f"{self.world.org}/{name}"
        submitted = self.post(f"/repos/{full_name}/dependency-graph/snapshots", VULNERABLE_SNAPSHOT)
        assert submitted.status_code == 201, submitted.text
        # Alerts are evaluated by the queued job the snapshot started, not in the request.
        deadline = time.monotonic() + 30
        while self.get(f"/repos/{full_name}/dependabot/alerts/1").status_code != 200:
            assert time.monotonic() < deadline, f"no alert in {full_name} after 30 s"
            time.sleep(0.1)
        return full_name

    def scanned_repository(self) -> tuple[str, str]:
        """A new repository of the seeded organization with bandit's SARIF uploaded; its full name
        and the upload's id, once the server's job worker has processed it."""
        name = f"scanned-{uuid.uuid4().hex[:8]}"
        created = self.post(f"/orgs/{self.world.org}/repos", {"name": name})
        assert created.status_code == 201, created.text
        full_name = f"{self.world.org}/{name}"
        uploaded = self.post(f"/repos/{full_name}/code-scanning/sarifs", sarifs.upload(sarifs.real("bandit")))
        assert uploaded.status_code == 202, uploaded.text
        sarif_id = uploaded.json()["id"]
        deadline = time.monotonic() + 30
        while self.get(f"/repos/{full_name}/code-scanning/sarifs/{sarif_id}").json()["processing_status"] != (
            "complete"
        ):
            assert time.monotonic() < deadline, f"{sarif_id} not processed after 30 s"
            time.sleep(0.1)
        return full_name, sarif_id

    @property
    def api_v3(self) -> str:
        """The GitHub Enterprise Server form of the base URL."""
        return self.url + "/api/v3"


@contextmanager
def postgres_database() -> Iterator[str]:
    """A fresh PostgreSQL database of its own, dropped afterwards; its URL."""
    admin = create_engine(
        POSTGRES_URL.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT"
    )
    name = f"waybill_live_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def live_server(
    backend: str, data_dir: Path, *, through: Callable[[str], dict[str, str]] | None = None, workers: int = 1
) -> Iterator[LiveServer]:
    """Start ``waybill serve`` on ``backend`` ("sqlite" or "postgresql"), seed it, and stop it after.
    ``through`` gives the server settings that reach the (migrated, seeded) database another way,
    such as a connection pooler, from its URL."""
    if backend == "postgresql":
        with postgres_database() as url, _serve(data_dir, url, backend, through, workers) as server:
            yield server
    else:
        with _serve(data_dir, "", backend, through, workers) as server:
            yield server


@contextmanager
def _serve(
    data_dir: Path,
    database_url: str,
    backend: str,
    through: Callable[[str], dict[str, str]] | None = None,
    workers: int = 1,
) -> Iterator[LiveServer]:
    data_dir.mkdir(parents=True, exist_ok=True)
    settings = replace(Settings(), data_dir=data_dir, database_url=database_url)
    upgrade(settings)
    world = asyncio.run(_seed_accounts(settings))
    port = free_port()
    extra = {
        # Fuzzing sends tens of thousands of requests with one token.
        "WAYBILL_RATE_LIMIT": "0",
        **(through(database_url) if through else {}),
    }
    log = data_dir / "server.log"
    process = start_process(data_dir, database_url, port, extra, workers)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(url, process, log)
        asyncio.run(_seed_records(url, world))
        database = database_url or str(data_dir / "waybill.db")
        yield LiveServer(url=url, world=world, backend=backend, log=log, pid=process.pid, database=database)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def start_process(
    data_dir: Path, database_url: str, port: int, extra: dict[str, str], workers: int = 1
) -> subprocess.Popen[bytes]:
    """``waybill serve`` on 127.0.0.1:``port`` over a migrated database, logging to
    ``data_dir/server.log`` (appended: a restarted server keeps its predecessor's lines)."""
    env = {
        **os.environ,
        "WAYBILL_DATA_DIR": str(data_dir),
        "WAYBILL_DATABASE_URL": database_url,
        # The seeded hooks deliver to 127.0.0.1 (where nothing listens).
        "WAYBILL_WEBHOOK_ALLOW_PRIVATE": "true",
        **extra,
    }
    with (data_dir / "server.log").open("ab") as out:
        return subprocess.Popen(
            [
                *(sys.executable, "-m", "waybill", "serve", "--host", "127.0.0.1", "--port", str(port)),
                *("--workers", str(workers)),
            ],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def wait_until_up(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"waybill serve exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(url + "/", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"waybill serve did not answer within 60 s:\n{log.read_text()[-3000:]}")


async def _seed_accounts(settings: Settings) -> World:
    db = Database(settings.resolved_database_url)
    try:
        # The harness provisions through the services; it needs nothing of an app but its database.
        return await seed_accounts(Harness(SimpleNamespace(db=db), None, "live"))  # type: ignore[arg-type]
    finally:
        await db.dispose()


async def _seed_records(url: str, world: World) -> None:
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        await seed_records(world, HttpClient(client))
