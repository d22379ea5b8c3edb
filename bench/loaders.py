"""Scale fixtures: rows loaded straight into the domains' tables before the server starts, so that a
level of 10M deployment records takes minutes, not days of API calls. Columns the bench does not
name get a plain value of their type, so a column added to a domain's table does not break loading."""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, Integer, LargeBinary, String, Table, TypeDecorator

from bench import load
from bench.backends import Backend, Fixture
from bench.scenarios import ENVIRONMENT, REGISTRY

# Ten deployments of each artifact: a read by digest finds ten records, as for a service running in
# several clusters.
DEPLOYMENTS_PER_ARTIFACT = 10
STORAGE_RECORDS = 10_000
MAX_ATTESTATIONS = 1_000_000
SAMPLE = 1_000
TAGS = {"team": "payments"}
RUNTIME_RISKS = ["internet-exposed"]


def artifact_digest(i: int) -> str:
    return "sha256:" + hashlib.sha256(f"bench-artifact-{i}".encode()).hexdigest()


def _rows(
    loader: Loader, fixture: Fixture, now: datetime, defaults: dict[str, Any]
) -> Callable[[int], dict[str, Any]]:
    return lambda i: {**loader.row(fixture, i, now), **defaults}


def _plain(table: Table, values: dict[str, Any], now: datetime) -> dict[str, Any]:
    for column in table.columns:
        if (
            column.name in values
            or column.nullable
            or column.primary_key
            or column.server_default is not None
        ):
            continue
        kind = column.type
        if isinstance(kind, TypeDecorator):
            kind = kind.impl_instance
        if isinstance(kind, DateTime):
            values[column.name] = now
        elif isinstance(kind, JSON):
            values[column.name] = {}
        elif isinstance(kind, Boolean):
            values[column.name] = False
        elif isinstance(kind, Integer):
            values[column.name] = 0
        elif isinstance(kind, LargeBinary):
            values[column.name] = b""
        elif isinstance(kind, String):
            values[column.name] = ""
    return values


@dataclass(frozen=True)
class Loader:
    key: str
    table: str
    # Rows wanted at a scale level (a count of deployment records).
    size: Callable[[int], int]
    row: Callable[[Fixture, int, datetime], dict[str, Any]]
    # Remembers what the scenarios need to know about the rows (e.g. digests that exist).
    remember: Callable[[dict[str, Any], int], None]


def _artifact(f: Fixture, i: int, now: datetime) -> dict[str, Any]:
    return {
        "repository_id": f.repo_id,
        "digest": artifact_digest(i),
        "name": "app",
        "version": f"1.0.{i}",
        "created_at": now,
    }


def _deployment(f: Fixture, i: int, now: datetime) -> dict[str, Any]:
    return {
        "org_id": f.org_id,
        "repository_id": f.repo_id,
        "digest": artifact_digest(i // DEPLOYMENTS_PER_ARTIFACT),
        **ENVIRONMENT,
        "deployment_name": f"dep-{i}",
        "status": "deployed",
        "tags": TAGS,
        "runtime_risks": RUNTIME_RISKS,
        "created_at": now,
        "updated_at": now,
    }


def _storage(f: Fixture, i: int, now: datetime) -> dict[str, Any]:
    return {
        "org_id": f.org_id,
        "repository_id": f.repo_id,
        "digest": artifact_digest(i),
        "registry_url": REGISTRY["registry_url"],
        "registry_repository": REGISTRY["repository"],
        "artifact_url": f"{REGISTRY['registry_url']}/bench/app",
        "version": f"1.0.{i}",
        "status": "active",
        "created_at": now,
        "updated_at": now,
    }


def _remember_deployments(data: dict[str, Any], count: int) -> None:
    data["deployment_records"] = count
    artifacts = max(count // DEPLOYMENTS_PER_ARTIFACT, 1)
    rng = random.Random(count)
    data["deployment_digests"] = [artifact_digest(rng.randrange(artifacts)) for _ in range(SAMPLE)]


def _remember_storage(data: dict[str, Any], count: int) -> None:
    rng = random.Random(count)
    data["storage_digests"] = [artifact_digest(rng.randrange(max(count, 1))) for _ in range(SAMPLE)]


LOADERS: list[Loader] = [
    Loader("artifacts", "artifacts", lambda n: n // DEPLOYMENTS_PER_ARTIFACT, _artifact, lambda d, n: None),
    Loader("deployments", "artifact_deployment_records", lambda n: n, _deployment, _remember_deployments),
    Loader("storage", "artifact_storage_records", lambda n: STORAGE_RECORDS, _storage, _remember_storage),
]


def attestation_digest(i: int) -> str:
    return "sha256:" + hashlib.sha256(f"bench-attestation-{i}".encode()).hexdigest()


# Real bundles (about 5 KB compressed) for the attestations the reads fetch; a small stand-in for the
# rest, so that a million attestations fit on the disk of a small machine.
def _bundles(shared: Any) -> tuple[bytes, bytes]:
    import cramjam

    from bench.scenarios import BUNDLE_FIXTURE

    real = (shared / BUNDLE_FIXTURE).read_text().splitlines()[0].encode()
    small = b'{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json"}'
    return bytes(cramjam.snappy.compress_raw(real)), bytes(cramjam.snappy.compress_raw(small))


def _load_attestations(
    backend: Backend,
    fixture: Fixture,
    tables: Mapping[str, Table],
    have: int,
    want: int,
    shared: Any,
    now: datetime,
) -> int:
    """Attestations ``have .. want-1`` with their subject and bundle, under ids after the current ones."""
    base = int(backend.scalar("SELECT coalesce(max(id), 0) FROM attestations")) + 1 - have
    real, small = _bundles(shared)
    read = set(_attestation_sample(want))

    def attestation(i: int) -> dict[str, Any]:
        values = {
            "id": base + i,
            "repository_id": fixture.repo_id,
            "predicate_type": "https://slsa.dev/provenance/v1",
            "media_type": "application/vnd.dev.sigstore.bundle.v0.3+json",
            "bundle_hash": hashlib.sha256(f"bench-bundle-{i}".encode()).hexdigest(),
            "initiator": "user",
            "created_at": now,
        }
        return _plain(tables["attestations"], values, now)

    count = load.load(backend, tables["attestations"], want - have, attestation, start=have)
    subjects = tables["attestation_subjects"]
    load.load(
        backend,
        subjects,
        want - have,
        lambda i: {"digest": attestation_digest(i), "attestation_id": base + i},
        start=have,
    )
    bundles = tables["attestation_bundles"]
    load.load(
        backend,
        bundles,
        want - have,
        lambda i: {"attestation_id": base + i, "data": real if i in read else small},
        start=have,
    )
    return count


def _attestation_sample(count: int) -> list[int]:
    step = max(count // SAMPLE, 1)
    return list(range(0, count, step))[:SAMPLE]


def _tables() -> Mapping[str, Table]:
    import waybill.tables  # noqa: F401 (registers every domain's tables)
    from waybill.core.models import metadata

    return metadata.tables


def load_to(
    backend: Backend,
    fixture: Fixture,
    level: int,
    loaded: dict[str, int],
    data: dict[str, Any],
    scenarios: Sequence[Any],
    shared: Any,
) -> dict[str, int]:
    """Bring every loaded table that exists up to ``level``; returns how many rows each got now."""
    tables = _tables()
    now = datetime.now(UTC)
    counts: dict[str, int] = {}
    for loader in LOADERS:
        table = tables.get(loader.table)
        if table is None:
            continue
        have, want = loaded.get(loader.key, 0), loader.size(level)
        if want > have:
            sample = loader.row(fixture, have, now)
            # Columns the bench does not name take the same plain value in every row.
            defaults = {k: v for k, v in _plain(table, dict(sample), now).items() if k not in sample}
            counts[loader.key] = load.load(
                backend,
                table,
                want - have,
                _rows(loader, fixture, now, defaults),
                start=have,
            )
            loaded[loader.key] = want
        loader.remember(data, loaded.get(loader.key, 0))
    if all(t in tables for t in ("attestations", "attestation_subjects", "attestation_bundles")):
        have, want = loaded.get("attestations", 0), min(level, MAX_ATTESTATIONS)
        if want > have:
            counts["attestations"] = _load_attestations(backend, fixture, tables, have, want, shared, now)
            loaded["attestations"] = want
        # Only attestations loaded at this level's first load carry real bundles: read those.
        data["attestation_digests"] = [attestation_digest(i) for i in _attestation_sample(want)]
    return counts
