"""The minimal same-stack ceilings (``bench/minimal_*.py``) run as the benchmark runs them, under
uvicorn against the real schema: an upsert stores its record and answers Waybill's shape, a read by
digest finds it, and a wrong token is refused (a broken ceiling would otherwise only show as a
failed or meaningless bench run)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from bench.backends import Backend, Fixture, PostgresBackend, SQLiteBackend
from bench.procs import start_minimal

REPO = Path(__file__).resolve().parents[2]
DIGEST = "sha256:" + "c0" * 32


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> Iterator[tuple[Backend, Fixture]]:
    if request.param == "postgresql":
        request.getfixturevalue("postgres_database")  # skips (or fails under CI) when unreachable
    chosen: Backend = SQLiteBackend() if request.param == "sqlite" else PostgresBackend()
    chosen.create()
    try:
        yield chosen, chosen.provision()
    finally:
        chosen.drop()


def test_the_minimal_app_upserts_and_reads_back(backend: tuple[Backend, Fixture]) -> None:
    chosen, fixture = backend
    log = chosen.workdir / "minimal-test.log"
    process, base = start_minimal(chosen.minimal_app, chosen.minimal_config(fixture), 1, log, REPO)
    try:
        headers = {"Authorization": f"Bearer {fixture.token}"}
        body = {
            "name": "app",
            "digest": DIGEST,
            "status": "deployed",
            "logical_environment": "production",
            "deployment_name": "minimal",
            "github_repository": fixture.repo,
            "tags": {"team": "payments"},
            "runtime_risks": ["internet-exposed"],
        }
        with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
            written = client.post(f"/orgs/{fixture.org}/artifacts/metadata/deployment-record", json=body)
            assert written.status_code == 200, written.text
            assert written.json()["total_count"] == 1
            [record] = written.json()["deployment_records"]
            assert record["digest"] == DIGEST
            read = client.get(f"/orgs/{fixture.org}/artifacts/{DIGEST}/metadata/deployment-records")
            assert read.status_code == 200, read.text
            assert [r["id"] for r in read.json()["deployment_records"]] == [record["id"]]
            assert read.json()["deployment_records"][0]["tags"] == {"team": "payments"}
            refused = client.get(
                f"/orgs/{fixture.org}/artifacts/{DIGEST}/metadata/deployment-records",
                headers={"Authorization": "Bearer wrong"},
            )
            assert refused.status_code == 401
        process.check_alive()
    finally:
        process.stop()
    assert chosen.scalar("SELECT count(*) FROM artifact_deployment_records") == 1
