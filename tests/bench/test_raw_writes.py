"""The benchmark's raw-write ceilings run against the real schema: each writes the rows it claims
(a renamed column or a broken pgbench script would otherwise only show as a failed bench run)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest
from bench.backends import Backend, Fixture, PostgresBackend, SQLiteBackend
from bench.scenarios import RAW_WRITES

COUNTED = {
    "deployment_upsert": "artifact_deployment_records",
    "storage_record": "artifact_storage_records",
    "cluster_set_1000": "artifact_deployment_records",
    "attestation_create": "attestation_subjects",
    "snapshot_1k": "dependency_heads",
    "snapshot_10k": "dependency_heads",
}


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> Iterator[tuple[Backend, Fixture]]:
    if request.param == "postgresql":
        request.getfixturevalue("postgres_database")  # skips (or fails under CI) when unreachable
        if shutil.which("pgbench") is None:
            pytest.skip("pgbench is not installed (make bench-tools installs it)")
    chosen: Backend = SQLiteBackend() if request.param == "sqlite" else PostgresBackend()
    chosen.create()
    try:
        yield chosen, chosen.provision()
    finally:
        chosen.drop()


def test_every_raw_write_is_counted() -> None:
    assert set(RAW_WRITES) == set(COUNTED)


@pytest.mark.parametrize("key", list(RAW_WRITES))
def test_raw_write_writes_its_rows(backend: tuple[Backend, Fixture], key: str) -> None:
    chosen, fixture = backend
    variables = {"org_id": fixture.org_id, "repo_id": fixture.repo_id, "pool": 10, "nonce": "t"}
    figures = chosen.raw_write(key, variables, connections=1, seconds=1)
    assert figures["requests"] > 0
    assert chosen.scalar(f"SELECT count(*) FROM {COUNTED[key]}") > 0  # noqa: S608 (table names above)
    chosen.execute(f"DELETE FROM {COUNTED[key]}")  # noqa: S608
