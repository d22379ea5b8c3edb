"""What is measured: each scenario builds the request the Lua driver sends (and whatever data it
reads), names the GitHub operation Prism mocks for it, the raw write that is its database ceiling,
and the issue's targets. A scenario runs once its route is registered in the app."""

from __future__ import annotations

import base64
import json
import random
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import httpx

from bench.backends import Backend, Fixture
from bench.measure import RequestSpec
from bench.report import Target

Kind = Literal["write", "read", "reference", "fleet"]
V2022 = "2022-11-28"
V2026 = "2026-03-10"


@dataclass
class Context:
    """One server on one backend at one scale level."""

    base: str
    backend: Backend
    fixture: Fixture
    client: httpx.Client
    workdir: Path
    shared: Path
    rng: random.Random = field(default_factory=random.Random)
    # Filled by the loaders and by the scenarios' own setup (e.g. digests known to exist).
    data: dict[str, Any] = field(default_factory=dict)

    def headers(self, version: str = V2022, json_body: bool = False) -> dict[str, str]:
        headers = {
            "Authorization": f"Bearer {self.fixture.token}",
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": version,
        }
        if json_body:
            headers["Content-Type"] = "application/json"
        return headers


@dataclass(frozen=True)
class Scenario:
    key: str
    title: str
    kind: Kind
    method: str
    # The route as the spec writes it ({org}, not {org:str}): present in the app means "landed".
    route: str
    build: Callable[[Context], RequestSpec]
    # The GitHub operation Prism mocks for the same request, and the description version it reads.
    operation: str | None = None
    spec_version: str = V2022
    connections: int = 16
    raw: str | None = None
    at_scale: bool = False
    targets: tuple[Target, ...] = ()


Params = Mapping[str, Any]


@dataclass(frozen=True)
class RawWrite:
    """The scenario's write straight to the database: a pgbench script (variables :org_id, :repo_id,
    :pool, :nonce and pgbench's :client_id), and for SQLite the statements of one transaction with
    the parameters each binds (a list of parameter sets is an executemany). Only the rows themselves
    are written, except where ``prepared`` says the script is Waybill's own statements: those run as
    Waybill runs them, prepared once per connection (``pgbench -M prepared``)."""

    pgbench: str
    sqlite: Callable[[random.Random, int, Params], list[tuple[str, Params | list[Params]]]]
    prepared: bool = False


def hex64(rng: random.Random) -> str:
    return f"{rng.getrandbits(256):064x}"


# ---------------------------------------------------------------------------------------------- targets

PRISM_3X = Target("≥3x Prism", "ratio:prism", ">=", 3.0)
READ_HALF_PING = Target("≥0.5x no-op", "ratio:ping", ">=", 0.5)
READ_P99_10MS = Target("p99 <10 ms", "p99_ms", "<", 10.0)
PG_UPSERT_RAW = Target("≥0.4x pgbench", "ratio:raw_db", ">=", 0.4, backends=("postgresql",))
MINIMAL_CPU_2X = Target("cpu <2x minimal", "cpu_ratio:minimal", "<", 2.0)
MINIMAL_HALF = Target("≥0.5x minimal", "ratio:minimal", ">=", 0.5)


# ------------------------------------------------------------------------------------------- scenarios

# Where the loaded deployment records live (bench.loaders): upserts that name one of them update it.
ENVIRONMENT = {"logical_environment": "production", "physical_environment": "eu-west-1", "cluster": "k8s-1"}
REGISTRY = {"registry_url": "https://registry.example.com", "repository": "bench/app"}
CLUSTERS = [f"batch-{i}" for i in range(16)]


def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def _current_user(ctx: Context) -> RequestSpec:
    return RequestSpec("GET", "/user", ctx.headers())


def deployment_record_body(repo: str, hex_digest: str, name: str) -> dict[str, Any]:
    return {
        "name": "app",
        "digest": f"sha256:{hex_digest}",
        "version": "1.0.0",
        "status": "deployed",
        **ENVIRONMENT,
        "deployment_name": name,
        "github_repository": repo,
        "tags": {"team": "payments"},
        "runtime_risks": ["internet-exposed"],
    }


def storage_record_body(repo: str, hex_digest: str) -> dict[str, Any]:
    return {
        "name": "app",
        "digest": f"sha256:{hex_digest}",
        "version": "1.0.0",
        "artifact_url": "https://registry.example.com/bench/app",
        **REGISTRY,
        "status": "active",
        "github_repository": repo,
    }


def _deployment_upsert(ctx: Context) -> RequestSpec:
    body = deployment_record_body(ctx.fixture.repo, "{{hex}}", "{{name}}")
    path = f"/orgs/{ctx.fixture.org}/artifacts/metadata/deployment-record"
    pool = max(ctx.data.get("deployment_records", 0), 1)
    return RequestSpec("POST", path, ctx.headers(json_body=True), _json(body), insert_ratio=0.1, pool=pool)


def _storage_record(ctx: Context) -> RequestSpec:
    body = storage_record_body(ctx.fixture.repo, "{{hex}}")
    path = f"/orgs/{ctx.fixture.org}/artifacts/metadata/storage-record"
    return RequestSpec("POST", path, ctx.headers(json_body=True), _json(body))


def _cluster_set(ctx: Context) -> RequestSpec:
    deployments = [
        {
            "name": "app",
            "digest": "sha256:{{hex}}",
            "version": "1.0.0",
            "status": "deployed",
            "deployment_name": f"svc-{i}",
            "github_repository": ctx.fixture.repo,
        }
        for i in range(1000)
    ]
    body = {
        "logical_environment": "production",
        "physical_environment": "eu-west-1",
        "deployments": deployments,
    }
    path = f"/orgs/{ctx.fixture.org}/artifacts/metadata/deployment-record/cluster/{{{{value}}}}"
    return RequestSpec("POST", path, ctx.headers(json_body=True), _json(body), values=CLUSTERS)


def _deployments_by_digest(ctx: Context) -> RequestSpec:
    path = f"/orgs/{ctx.fixture.org}/artifacts/{{{{value}}}}/metadata/deployment-records"
    return RequestSpec("GET", path, ctx.headers(), values=ctx.data["deployment_digests"])


def _storage_by_digest(ctx: Context) -> RequestSpec:
    path = f"/orgs/{ctx.fixture.org}/artifacts/{{{{value}}}}/metadata/storage-records"
    return RequestSpec("GET", path, ctx.headers(), values=ctx.data["storage_digests"])


# A GitHub-instance provenance bundle (RFC 3161 timestamp, no transparency log), as GitHub's own
# private-repository attestations look; its in-toto subject is replaced by a fresh digest per request.
BUNDLE_FIXTURE = "fixtures/attestations/cli/github_provenance_demo-0.0.12-py3-none-any-bundle.jsonl"


def bundle_template(shared: Path) -> tuple[dict[str, Any], str]:
    """The fixture bundle with its payload replaced by ``{{payload}}``, and the payload template."""
    bundle = json.loads((shared / BUNDLE_FIXTURE).read_text().splitlines()[0])
    statement = json.loads(base64.b64decode(bundle["dsseEnvelope"]["payload"]))
    statement["subject"] = [{"name": "app.whl", "digest": {"sha256": "{{hex}}"}}]
    bundle["dsseEnvelope"]["payload"] = "{{payload}}"
    return bundle, _json(statement)


def _attestation_create(ctx: Context) -> RequestSpec:
    bundle, payload = bundle_template(ctx.shared)
    path = f"/repos/{ctx.fixture.org}/{ctx.fixture.repo}/attestations"
    return RequestSpec("POST", path, ctx.headers(json_body=True), _json({"bundle": bundle}), payload=payload)


def _attestation_list(version: str) -> Callable[[Context], RequestSpec]:
    def build(ctx: Context) -> RequestSpec:
        path = f"/repos/{ctx.fixture.org}/{ctx.fixture.repo}/attestations/{{{{value}}}}"
        return RequestSpec("GET", path, ctx.headers(version), values=ctx.data["attestation_digests"])

    return build


PACKAGES_SMALL, PACKAGES_LARGE = 1_000, 10_000
GRAPH_REPO = "graph"


def snapshot(packages: int, sha: str, *, variant: str = "", correlator: str = "bench") -> dict[str, Any]:
    """A dependency snapshot of ``packages`` npm packages in one manifest, each depending on the next
    two; ``variant`` changes every tenth version (a compare of two such graphs finds 10% changed)."""
    resolved: dict[str, Any] = {}
    for i in range(packages):
        minor = f"{i % 50}{variant if i % 10 == 0 else ''}"
        entry: dict[str, Any] = {
            "package_url": f"pkg:npm/%40bench/pkg-{i}@1.{minor}.{i}",
            "relationship": "direct" if i < 100 else "indirect",
            "scope": "runtime" if i % 3 else "development",
        }
        if i < packages - 2:
            entry["dependencies"] = [f"pkg-{i + 1}", f"pkg-{i + 2}"]
        resolved[f"pkg-{i}"] = entry
    return {
        "version": 0,
        "sha": sha,
        "ref": "refs/heads/main",
        "job": {"correlator": correlator, "id": "1"},
        "detector": {"name": "waybill-bench", "version": "1.0.0", "url": "https://example.com/waybill-bench"},
        "scanned": "2026-01-01T00:00:00Z",
        "manifests": {"package-lock.json": {"name": "package-lock.json", "resolved": resolved}},
    }


def _snapshot_submit(packages: int) -> Callable[[Context], RequestSpec]:
    def build(ctx: Context) -> RequestSpec:
        body = _json(snapshot(packages, "{{hex}}", correlator=f"bench-{packages}"))
        path = f"/repos/{ctx.fixture.org}/{ctx.fixture.repo}/dependency-graph/snapshots"
        return RequestSpec("POST", path, ctx.headers(json_body=True), body)

    return build


BASE_SHA, HEAD_SHA = "a" * 40, "b" * 40


def _graph(ctx: Context) -> str:
    """A repository whose graph is two 10,000-package snapshots (base and head), made once."""
    if "graph_repo" not in ctx.data:
        org, headers = ctx.fixture.org, ctx.headers(json_body=True)
        response = ctx.client.post(f"/orgs/{org}/repos", headers=headers, json={"name": GRAPH_REPO})
        if response.status_code not in (201, 422):
            raise RuntimeError(f"creating {org}/{GRAPH_REPO}: {response.status_code} {response.text[:300]}")
        for sha, variant in ((BASE_SHA, ""), (HEAD_SHA, "1")):
            body = snapshot(PACKAGES_LARGE, sha, variant=variant)
            body["scanned"] = "2026-01-01T00:00:00Z" if sha == BASE_SHA else "2026-01-02T00:00:00Z"
            path = f"/repos/{org}/{GRAPH_REPO}/dependency-graph/snapshots"
            response = ctx.client.post(path, headers=headers, content=_json(body))
            if response.status_code != 201:
                raise RuntimeError(f"snapshot for {GRAPH_REPO}: {response.status_code} {response.text[:300]}")
        ctx.data["graph_repo"] = GRAPH_REPO
    return str(ctx.data["graph_repo"])


def _sbom_export(ctx: Context) -> RequestSpec:
    path = f"/repos/{ctx.fixture.org}/{_graph(ctx)}/dependency-graph/sbom"
    return RequestSpec("GET", path, ctx.headers())


def _compare(ctx: Context) -> RequestSpec:
    path = f"/repos/{ctx.fixture.org}/{_graph(ctx)}/dependency-graph/compare/{BASE_SHA}...{HEAD_SHA}"
    return RequestSpec("GET", path, ctx.headers())


METADATA = "/orgs/{org}/artifacts/metadata"
GRAPH = "/repos/{owner}/{repo}/dependency-graph"
SNAPSHOT_10K_FAST = Target("p50 <500 ms", "p50_ms", "<", 500.0)
SBOM_FAST = Target("p50 <300 ms", "p50_ms", "<", 300.0)

SCENARIOS: list[Scenario] = [
    # Not one of the figures: the same server's cost of a token check and one read
    # transaction, which every authenticated operation pays on top of the no-op endpoint.
    Scenario("token_check", "token check (GET /user)", "reference", "GET", "/user", _current_user),
    Scenario(
        "deployment_upsert", "deployment record upsert", "write", "POST", METADATA + "/deployment-record",
        _deployment_upsert, operation="orgs/create-artifact-deployment-record", raw="deployment_upsert",
        at_scale=True, targets=(PG_UPSERT_RAW, PRISM_3X, MINIMAL_CPU_2X, MINIMAL_HALF),
    ),
    Scenario(
        "storage_record", "storage record", "write", "POST", METADATA + "/storage-record", _storage_record,
        operation="orgs/create-artifact-storage-record", raw="storage_record",
        targets=(PRISM_3X, MINIMAL_CPU_2X, MINIMAL_HALF),
    ),
    Scenario(
        "cluster_set_1000", "cluster set, 1000 records", "write", "POST",
        METADATA + "/deployment-record/cluster/{cluster}", _cluster_set,
        operation="orgs/set-cluster-deployment-records", raw="cluster_set_1000", connections=2,
        targets=(PRISM_3X,),
    ),
    Scenario(
        "deployments_by_digest", "deployment records by digest", "read", "GET",
        "/orgs/{org}/artifacts/{subject_digest}/metadata/deployment-records", _deployments_by_digest,
        operation="orgs/list-artifact-deployment-records", at_scale=True,
        targets=(READ_HALF_PING, PRISM_3X),
    ),
    # Latency without queueing: at 16 connections on 2 cores a p99 is mostly time spent waiting for
    # a worker, so the latency target is read from one client sending one request after another.
    Scenario(
        "deployments_by_digest_1c", "deployment records by digest, 1 client", "read", "GET",
        "/orgs/{org}/artifacts/{subject_digest}/metadata/deployment-records", _deployments_by_digest,
        connections=1, at_scale=True, targets=(READ_P99_10MS,),
    ),
    Scenario(
        "storage_by_digest", "storage records by digest", "read", "GET",
        "/orgs/{org}/artifacts/{subject_digest}/metadata/storage-records", _storage_by_digest,
        operation="orgs/list-artifact-storage-records", targets=(READ_HALF_PING, PRISM_3X),
    ),
    Scenario(
        "attestation_create", "attestation create", "write", "POST", "/repos/{owner}/{repo}/attestations",
        _attestation_create, operation="repos/create-attestation", raw="attestation_create", at_scale=True,
        targets=(PRISM_3X, MINIMAL_CPU_2X, MINIMAL_HALF),
    ),
    Scenario(
        "snapshot_1k", "snapshot, 1,000 packages", "write", "POST", GRAPH + "/snapshots",
        _snapshot_submit(PACKAGES_SMALL), operation="dependency-graph/create-repository-snapshot",
        raw="snapshot_1k", connections=2, targets=(PRISM_3X,),
    ),
    Scenario(
        "snapshot_10k", "snapshot, 10,000 packages", "write", "POST", GRAPH + "/snapshots",
        _snapshot_submit(PACKAGES_LARGE), operation="dependency-graph/create-repository-snapshot",
        raw="snapshot_10k", connections=1, targets=(SNAPSHOT_10K_FAST, PRISM_3X),
    ),
    Scenario(
        "attestations_v2022", "attestation list (2022-11-28)", "read", "GET",
        "/repos/{owner}/{repo}/attestations/{subject_digest}", _attestation_list(V2022),
        operation="repos/list-attestations", at_scale=True, targets=(PRISM_3X,),
    ),
    Scenario(
        "attestations_v2026", "attestation list (2026-03-10)", "read", "GET",
        "/repos/{owner}/{repo}/attestations/{subject_digest}", _attestation_list(V2026),
        operation="repos/list-attestations", spec_version=V2026, at_scale=True, targets=(PRISM_3X,),
    ),
    Scenario(
        "attestations_v2026_1c", "attestation list (2026-03-10), 1 client", "read", "GET",
        "/repos/{owner}/{repo}/attestations/{subject_digest}", _attestation_list(V2026),
        connections=1, at_scale=True, targets=(READ_P99_10MS,),
    ),
    Scenario(
        "sbom_10k", "SBOM export, 10,000 packages", "read", "GET", GRAPH + "/sbom", _sbom_export,
        operation="dependency-graph/export-sbom", connections=1, targets=(SBOM_FAST, PRISM_3X),
    ),
    Scenario(
        "compare_10k", "compare two 10,000-package graphs", "read", "GET", GRAPH + "/compare/{basehead}",
        _compare, operation="dependency-graph/diff-range", connections=1, targets=(PRISM_3X,),
    ),
]  # fmt: skip

# The minimal same-stack app (bench/minimal_*.py) answers one write and one read. Every write row is set
# beside its upsert and every read row beside its read by digest: the same operation for the
# deployment-record rows, and for the others the cheapest write or read the stack can do at all.
MINIMAL_SPECS: dict[str, Callable[[Context], RequestSpec]] = {
    "write": _deployment_upsert,
    "read": _deployments_by_digest,
}
MINIMAL_SAME = frozenset({"deployment_upsert", "deployments_by_digest", "deployments_by_digest_1c"})


# ------------------------------------------------------------------------------------ raw writes

_DEPLOYMENT_COLUMNS = (
    "org_id, repository_id, digest, logical_environment, physical_environment, cluster, deployment_name,"
    " status, tags, runtime_risks, created_at, updated_at"
)
_DEPLOYMENT_CONFLICT = (
    "ON CONFLICT (org_id, logical_environment, physical_environment, cluster, deployment_name)"
    " DO UPDATE SET digest = excluded.digest, status = excluded.status, tags = excluded.tags,"
    " runtime_risks = excluded.runtime_risks, updated_at = excluded.updated_at"
)
_STORAGE_COLUMNS = (
    "org_id, repository_id, digest, registry_url, registry_repository, artifact_url, path, version, status,"
    " created_at, updated_at"
)
_STORAGE_CONFLICT = (
    "ON CONFLICT (repository_id, digest, registry_url, registry_repository)"
    " DO UPDATE SET status = excluded.status, artifact_url = excluded.artifact_url,"
    " updated_at = excluded.updated_at"
)


def _now() -> str:
    return datetime.now(UTC).replace(tzinfo=None).isoformat(sep=" ")


_DEPLOYMENT_SQLITE = (
    f"INSERT INTO artifact_deployment_records ({_DEPLOYMENT_COLUMNS}) VALUES (:org, :repo, :digest,"
    " 'production', 'eu-west-1', :cluster, :name, 'deployed', :tags, :risks, :now, :now) "
    + _DEPLOYMENT_CONFLICT
)
_STORAGE_SQLITE = (
    f"INSERT INTO artifact_storage_records ({_STORAGE_COLUMNS}) VALUES (:org, :repo, :digest,"
    " 'https://registry.example.com', 'bench/app', 'https://registry.example.com/bench/app', NULL,"
    " '1.0.0', 'active', :now, :now) " + _STORAGE_CONFLICT
)


def _deployment_sqlite(rng: random.Random, seq: int, v: Params) -> list[tuple[str, Params | list[Params]]]:
    name = f"raw-{v['nonce']}-{seq}" if rng.random() < 0.1 else f"dep-{rng.randrange(max(v['pool'], 1))}"
    params = {
        "org": v["org_id"],
        "repo": v["repo_id"],
        "digest": "sha256:" + hex64(rng),
        "cluster": "k8s-1",
        "name": name,
        "tags": '{"team": "payments"}',
        "risks": '["internet-exposed"]',
        "now": _now(),
    }
    return [(_DEPLOYMENT_SQLITE, params)]


def _storage_sqlite(rng: random.Random, seq: int, v: Params) -> list[tuple[str, Params | list[Params]]]:
    params = {"org": v["org_id"], "repo": v["repo_id"], "digest": "sha256:" + hex64(rng), "now": _now()}
    return [(_STORAGE_SQLITE, params)]


def _cluster_sqlite(rng: random.Random, seq: int, v: Params) -> list[tuple[str, Params | list[Params]]]:
    common = {
        "org": v["org_id"],
        "repo": v["repo_id"],
        "cluster": rng.choice(CLUSTERS),
        "tags": "{}",
        "risks": "[]",
        "now": _now(),
    }
    rows: list[Params] = [
        {**common, "digest": "sha256:" + hex64(rng), "name": f"svc-{i}"} for i in range(1000)
    ]
    return [(_DEPLOYMENT_SQLITE, rows)]


# An attestation: its row, its bundle (3,200 incompressible bytes, about a snappy-compressed
# GitHub provenance bundle) and its subject digest.
_ATTESTATION_COLUMNS = "repository_id, predicate_type, media_type, bundle_hash, initiator, created_at"
_ATTESTATION_VALUES = "'https://slsa.dev/provenance/v1', 'application/vnd.dev.sigstore.bundle.v0.3+json'"
BUNDLE_BYTES = 3200


def _attestation_sqlite(rng: random.Random, seq: int, v: Params) -> list[tuple[str, Params | list[Params]]]:
    params = {
        "repo": v["repo_id"],
        "hash": hex64(rng),
        "digest": "sha256:" + hex64(rng),
        "data": rng.randbytes(BUNDLE_BYTES),
        "now": _now(),
    }
    this = "(SELECT id FROM attestations WHERE repository_id = :repo AND bundle_hash = :hash)"
    return [
        (
            f"INSERT INTO attestations ({_ATTESTATION_COLUMNS})"
            f" VALUES (:repo, {_ATTESTATION_VALUES}, :hash, 'user', :now)",
            params,
        ),
        (f"INSERT INTO attestation_bundles (attestation_id, data) VALUES ({this}, :data)", params),
        (f"INSERT INTO attestation_subjects (digest, attestation_id) VALUES (:digest, {this})", params),
    ]


# A snapshot of N packages already known (every submission of the scenario names the same ones):
# its row, its manifest, N resolved dependencies and the head it becomes.
_SNAPSHOT_COLUMNS = (
    "repository_id, sha, ref, version, job_id, correlator, detector_name, detector_version, detector_url,"
    " scanned, created_at"
)
_SNAPSHOT_VALUES = (
    "'refs/heads/main', 0, '1', :correlator, 'waybill-bench', '1.0.0', 'https://example.com/waybill-bench'"
)
_HEAD_UPSERT = (
    "INSERT INTO dependency_heads (repository_id, correlator, detector_name, snapshot_id, scanned)"
    " VALUES (:repo, :correlator, 'waybill-bench', {snapshot}, :now)"
    " ON CONFLICT (repository_id, correlator, detector_name)"
    " DO UPDATE SET snapshot_id = excluded.snapshot_id, scanned = excluded.scanned"
)


def _purl(i: int) -> str:
    return f"pkg:npm/%40bench/pkg-{i}@1.{i % 50}.{i}"


def _snapshot_sqlite(
    packages: int,
) -> Callable[[random.Random, int, Params], list[tuple[str, Params | list[Params]]]]:
    def statements(rng: random.Random, seq: int, v: Params) -> list[tuple[str, Params | list[Params]]]:
        params = {
            "repo": v["repo_id"],
            "sha": hex64(rng)[:40],
            "correlator": f"raw-{packages}",
            "now": _now(),
        }
        snapshot = "(SELECT max(id) FROM dependency_snapshots)"
        manifest = "(SELECT max(id) FROM dependency_manifests)"
        resolved: list[Params] = [
            {
                "purl": _purl(i),
                "key": f"pkg-{i}",
                "relationship": "direct" if i < 100 else "indirect",
                "scope": "runtime" if i % 3 else "development",
                "base": f"pkg:npm/%40bench/pkg-{i}",
                "version": f"1.{i % 50}.{i}",
                "name": f"pkg-{i}",
            }
            for i in range(packages)
        ]
        return [
            (
                "INSERT INTO dependency_packages (purl, type, namespace, name, version, base)"
                " VALUES (:purl, 'npm', '@bench', :name, :version, :base) ON CONFLICT (purl) DO NOTHING",
                resolved,
            ),
            (
                f"INSERT INTO dependency_snapshots ({_SNAPSHOT_COLUMNS})"
                f" VALUES (:repo, :sha, {_SNAPSHOT_VALUES}, :now, :now)",
                params,
            ),
            (
                "INSERT INTO dependency_manifests (snapshot_id, key, name)"
                f" VALUES ({snapshot}, 'package-lock.json', 'package-lock.json')",
                params,
            ),
            (
                "INSERT INTO dependency_resolved (manifest_id, package_id, key, relationship, scope)"
                f" VALUES ({manifest}, (SELECT id FROM dependency_packages WHERE purl = :purl), :key,"
                " :relationship, :scope)",
                resolved,
            ),
            (_HEAD_UPSERT.format(snapshot=snapshot), params),
        ]

    return statements


def _snapshot_pgbench(packages: int) -> str:
    n, correlator = packages - 1, f"'raw-{packages}'"
    purl = "'pkg:npm/%40bench/pkg-' || g || '@1.' || (g % 50) || '.' || g"
    values = _SNAPSHOT_VALUES.replace(":correlator", correlator)
    head = (
        _HEAD_UPSERT.replace(":repo", ":repo_id").replace(":correlator", correlator).replace(":now", "now()")
    )
    return (
        "\\set d random(1, 2000000000)\n"
        "BEGIN;\n"
        "INSERT INTO dependency_packages (purl, type, namespace, name, version, base)"
        f" SELECT {purl}, 'npm', '@bench', 'pkg-' || g, '1.' || (g % 50) || '.' || g,"
        f" 'pkg:npm/%40bench/pkg-' || g FROM generate_series(0, {n}) g ON CONFLICT (purl) DO NOTHING;\n"
        f"WITH s AS (INSERT INTO dependency_snapshots ({_SNAPSHOT_COLUMNS})"
        f" VALUES (:repo_id, substr(md5(:client_id || '-' || :d), 1, 40), {values}, now(), now())"
        " RETURNING id),"
        " m AS (INSERT INTO dependency_manifests (snapshot_id, key, name)"
        " SELECT id, 'package-lock.json', 'package-lock.json' FROM s RETURNING id),"
        " r AS (INSERT INTO dependency_resolved (manifest_id, package_id, key, relationship, scope)"
        " SELECT m.id, p.id, 'pkg-' || g, CASE WHEN g < 100 THEN 'direct' ELSE 'indirect' END,"
        " CASE WHEN g % 3 = 0 THEN 'development' ELSE 'runtime' END"
        f" FROM m, generate_series(0, {n}) g JOIN dependency_packages p ON p.purl = {purl}) "
        + head.format(snapshot="(SELECT id FROM s)")
        + ";\nCOMMIT;\n"
    )


_PG_DIGEST = "'sha256:' || md5(:d::text || 'a') || md5(:d::text || 'b')"
_PG_DEPLOYMENT_NAME = "CASE WHEN :ins = 1 THEN 'raw-' || :client_id || '-' || :d ELSE 'dep-' || :n END"


def _waybill_write_pgbench() -> str:
    """Waybill's own two statements of a deployment-record write (what the caller may write where;
    the artifact, record and history CTE, whose trigger keeps the risk rows), with pgbench's
    variables for the request's values: the raw-database ceiling of the full semantics."""
    from waybill.artifacts.repository import UPSERT_DEPLOYMENTS_PG, WRITE_TARGET

    values = {
        "org": "(SELECT login_key FROM accounts WHERE id = :org_id)",
        "repository": "(SELECT name_key FROM repositories WHERE id = :repo_id)",
        "user_id": "(SELECT user_id FROM memberships WHERE org_id = :org_id LIMIT 1)",
        "digest": _PG_DIGEST,
        "now": "now()",
        "artifact_repositories": "ARRAY[:repo_id]",
        "artifact_digests": f"ARRAY[{_PG_DIGEST}]",
        "artifact_names": "ARRAY['app']",
        "artifact_versions": "ARRAY['1.0.0']",
        "org_id": ":org_id",
        "logical_environment": "'production'",
        "physical_environment": "'eu-west-1'",
        "cluster": "'k8s-1'",
        "repositories": "ARRAY[:repo_id]",
        "digests": f"ARRAY[{_PG_DIGEST}]",
        "deployment_names": f"ARRAY[{_PG_DEPLOYMENT_NAME}]",
        "statuses": "ARRAY['deployed']",
        "tags": """ARRAY['{"team": "payments"}']""",
        "runtime_risks": """ARRAY['["internet-exposed"]']""",
        "attestations": "ARRAY[NULL]",
        "sender_id": "(SELECT user_id FROM memberships WHERE org_id = :org_id LIMIT 1)",
        # The audit entry the write records, as a request by the member would.
        "audit_actor_type": "'user'",
        "audit_actor_id": "(SELECT user_id FROM memberships WHERE org_id = :org_id LIMIT 1)",
        "audit_actor_login": "'raw'",
        "audit_request_id": "'raw-' || :client_id",
    }

    def render(statement: str) -> str:
        one_line = " ".join(statement.split())
        return re.sub(r"(?<![:\w]):([a-z_][a-z0-9_]*)", lambda m: values.get(m[1], m[0]), one_line)

    sets = "\\set n random(0, :pool - 1)\n\\set ins random(1, 10)\n\\set d random(1, 2000000000)\n"
    return sets + render(WRITE_TARGET.text) + ";\n" + render(UPSERT_DEPLOYMENTS_PG.text) + ";\n"


RAW_WRITES: dict[str, RawWrite] = {
    "deployment_upsert": RawWrite(pgbench=_waybill_write_pgbench(), sqlite=_deployment_sqlite, prepared=True),
    "storage_record": RawWrite(
        pgbench=(
            "\\set d random(1, 2000000000)\n"
            f"INSERT INTO artifact_storage_records ({_STORAGE_COLUMNS})"
            f" VALUES (:org_id, :repo_id, {_PG_DIGEST},"
            " 'https://registry.example.com', 'bench/app', 'https://registry.example.com/bench/app', NULL,"
            " '1.0.0', 'active', now(), now()) " + _STORAGE_CONFLICT + ";\n"
        ),
        sqlite=_storage_sqlite,
    ),
    "cluster_set_1000": RawWrite(
        pgbench=(
            "\\set d random(1, 2000000000)\n\\set c random(0, 15)\n"
            f"INSERT INTO artifact_deployment_records ({_DEPLOYMENT_COLUMNS}) SELECT :org_id, :repo_id,"
            " 'sha256:' || md5(:d::text || g::text) || md5(g::text || :d::text), 'production', 'eu-west-1',"
            " 'batch-' || :c, 'svc-' || g, 'deployed', '{}', '[]', now(), now()"
            " FROM generate_series(0, 999) g " + _DEPLOYMENT_CONFLICT + ";\n"
        ),
        sqlite=_cluster_sqlite,
    ),
    "attestation_create": RawWrite(
        pgbench=(
            "\\set d random(1, 2000000000)\n"
            f"WITH a AS (INSERT INTO attestations ({_ATTESTATION_COLUMNS}) VALUES (:repo_id,"
            f" {_ATTESTATION_VALUES}, md5(random()::text) || md5(random()::text),"
            " 'user', now()) RETURNING id),"
            " b AS (INSERT INTO attestation_bundles (attestation_id, data) SELECT a.id,"
            f" (SELECT decode(string_agg(md5(random()::text), ''), 'hex')"
            f" FROM generate_series(1, {BUNDLE_BYTES // 16})) FROM a)"
            f" INSERT INTO attestation_subjects (digest, attestation_id) SELECT {_PG_DIGEST}, a.id FROM a;\n"
        ),
        sqlite=_attestation_sqlite,
    ),
    "snapshot_1k": RawWrite(
        pgbench=_snapshot_pgbench(PACKAGES_SMALL), sqlite=_snapshot_sqlite(PACKAGES_SMALL)
    ),
    "snapshot_10k": RawWrite(
        pgbench=_snapshot_pgbench(PACKAGES_LARGE), sqlite=_snapshot_sqlite(PACKAGES_LARGE)
    ),
}
