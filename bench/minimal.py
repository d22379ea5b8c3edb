"""What the two minimal same-stack apps share (``minimal_postgres``, ``minimal_sqlite``): the config the
runner hands them, the token check, the body and the response. Each app adds only its database.

The config comes from ``BENCH_MINIMAL`` (JSON): the database, the tokens, and the organization and
repository ids, all held in memory, so a request costs the HTTP stack, one decode and one statement."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Any

import msgspec
from litestar import Request, Response

from waybill.artifacts.schemas import DeploymentRecordBody, check_deployment
from waybill.core.errors import ValidationFailed

CONFIG: dict[str, Any] = msgspec.json.decode(os.environ.get("BENCH_MINIMAL", "{}"))
TOKENS = frozenset(CONFIG.get("tokens", ()))
ORGS: dict[str, int] = CONFIG.get("orgs", {})
REPOS: dict[str, int] = CONFIG.get("repos", {})
ENCODE = msgspec.json.Encoder().encode


def reply(status: int, body: Any) -> Response[bytes]:
    return Response(ENCODE(body), status_code=status, media_type="application/json")


def refusal(request: Request[Any, Any, Any], org: str) -> Response[bytes] | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() not in ("bearer", "token") or token not in TOKENS:
        return reply(401, {"message": "Bad credentials"})
    return None if org in ORGS else reply(404, {"message": "Not Found"})


def decode(raw: bytes, org: str) -> DeploymentRecordBody | Response[bytes]:
    """The body as Waybill decodes it (the same struct and checks), and the repository it names."""
    try:
        body = msgspec.json.decode(raw, type=DeploymentRecordBody)
        check_deployment(body)
    except (msgspec.ValidationError, msgspec.DecodeError, ValidationFailed) as error:
        return reply(422, {"message": "Validation Failed", "detail": str(error)})
    if f"{org}/{body.github_repository}" not in REPOS:
        return reply(422, {"message": "Validation Failed", "detail": "unknown github_repository"})
    return body


def iso(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def record(body: DeploymentRecordBody, id: int, created: str, updated: str, att: int | None) -> Any:
    """Waybill's ``artifact-deployment-record``; the upsert stores the body's values as given."""
    return {
        "id": id,
        "digest": body.digest,
        "logical_environment": body.logical_environment,
        "physical_environment": body.physical_environment or "",
        "cluster": body.cluster or "",
        "deployment_name": body.deployment_name,
        "tags": body.tags or {},
        "runtime_risks": body.runtime_risks or [],
        "created_at": created,
        "updated_at": updated,
        "attestation_id": att,
    }


UPSERT_COLUMNS = (
    "org_id, repository_id, digest, logical_environment, physical_environment, cluster, deployment_name,"
    " status, tags, runtime_risks, created_at, updated_at"
)
UPSERT_CONFLICT = (
    "ON CONFLICT (org_id, logical_environment, physical_environment, cluster, deployment_name)"
    " DO UPDATE SET repository_id = excluded.repository_id, digest = excluded.digest,"
    " status = excluded.status, tags = excluded.tags, runtime_risks = excluded.runtime_risks,"
    " updated_at = excluded.updated_at RETURNING id, created_at, updated_at, attestation_id"
)
READ_COLUMNS = (
    "id, digest, logical_environment, physical_environment, cluster, deployment_name, tags,"
    " runtime_risks, created_at, updated_at, attestation_id"
)


def upsert_values(org: str, body: DeploymentRecordBody, now: Any) -> tuple[Any, ...]:
    return (
        ORGS[org], REPOS[f"{org}/{body.github_repository}"], body.digest, body.logical_environment,
        body.physical_environment or "", body.cluster or "", body.deployment_name, str(body.status),
        ENCODE(body.tags or {}).decode(), ENCODE(body.runtime_risks or []).decode(), now, now,
    )  # fmt: skip


def listing(records: list[Any]) -> Response[bytes]:
    return reply(200, {"total_count": len(records), "deployment_records": records})


def read_record(row: Any, stamp: Any) -> dict[str, Any]:
    """A stored row as Waybill lists it; the JSON columns pass through as stored."""
    return {
        "id": row[0], "digest": row[1], "logical_environment": row[2], "physical_environment": row[3],
        "cluster": row[4], "deployment_name": row[5], "tags": msgspec.Raw(row[6]),
        "runtime_risks": msgspec.Raw(row[7]), "created_at": stamp(row[8]), "updated_at": stamp(row[9]),
        "attestation_id": row[10],
    }  # fmt: skip
