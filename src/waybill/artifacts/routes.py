"""HTTP handlers for artifact metadata, and the deployment history extension under ``/waybill/``."""

from __future__ import annotations

from typing import Any

from litestar import Response, get, post
from litestar.params import FromPath

from waybill.artifacts import schemas, service
from waybill.artifacts.types import DeploymentStatus, HistoryFilter
from waybill.core.clock import iso
from waybill.core.errors import NotFound, ValidationFailed
from waybill.core.ids import parse_id
from waybill.core.jobs import JobStatus, Worker
from waybill.http.body import parse_body
from waybill.http.context import AnyRequest, Caller, Db, ReadConn
from waybill.http.pagination import cursor, cursor_links
from waybill.http.query import time_param
from waybill.http.responses import json_response

METADATA = "/orgs/{org:str}/artifacts/metadata"
CLUSTER = METADATA + "/deployment-record/cluster/{cluster:str}"


@post(METADATA + "/deployment-record")
async def create_deployment_record(
    request: AnyRequest, org: FromPath[str], db: Db, caller: Caller
) -> Response[bytes]:
    body = await parse_body(request, schemas.DeploymentRecordBody, schemas.DEPLOYMENT_RESOURCE)
    schemas.check_deployment(body)
    record = await service.create_deployment_record(db, caller, org, body)
    return json_response(schemas.deployment_list([record], body.return_records))


@post(CLUSTER)
async def set_cluster_records(
    request: AnyRequest, org: FromPath[str], cluster: FromPath[str], db: Db, caller: Caller
) -> Response[bytes]:
    schemas.check_cluster(cluster)
    body = await parse_body(request, schemas.ClusterSetBody, schemas.CLUSTER_RESOURCE)
    schemas.check_deployments(body.deployments)
    result = await service.set_cluster_records(db, caller, org, cluster, body)
    data = schemas.deployment_list(result.records, body.return_records)
    if not result.rejected:
        return json_response(data)
    # Only reached with partial_success: the all-or-nothing mode raised instead.
    data["errors"] = [schemas.rejected(r) for r in result.rejected]
    return json_response(data, 207)


@post(CLUSTER + "/jobs")
async def create_cluster_job(
    request: AnyRequest, org: FromPath[str], cluster: FromPath[str], db: Db, caller: Caller
) -> Response[bytes]:
    schemas.check_cluster(cluster)
    body = await parse_body(request, schemas.ClusterJobBody, schemas.CLUSTER_RESOURCE)
    schemas.check_deployments(body.deployments)
    # The worker is woken once the job is committed, where it can claim it.
    async with db.write() as conn:
        created = await service.create_cluster_job(
            conn,
            caller,
            org,
            cluster,
            body,
            max_pending=request.app.state.settings.max_pending_jobs_per_token,
        )
    worker: Worker | None = getattr(request.app.state, "worker", None)
    if worker is not None:
        worker.wake()
    return json_response(
        {"job_id": created.job_id, "errors": [schemas.rejected(r) for r in created.rejected]}, 202
    )


@get(CLUSTER + "/jobs/{job_id:str}")
async def get_cluster_job(
    org: FromPath[str], cluster: FromPath[str], job_id: FromPath[str], caller: Caller, read_conn: ReadConn
) -> Response[bytes]:
    schemas.check_cluster(cluster)
    job_number = parse_id(job_id)
    if job_number is None:
        raise NotFound()
    job = await service.get_cluster_job(read_conn, caller, org, cluster, job_number)
    data: dict[str, Any] = {"job_id": job.id, "status": str(job.status)}
    if job.status is not JobStatus.PENDING and job.started_at is not None:
        data["started_at"] = iso(job.started_at)
    if job.status is JobStatus.COMPLETED:
        data["total_count"] = job.result["total_count"]
        data["errors"] = job.result["errors"]
    elif job.status is JobStatus.FAILED:
        # The worker logs the exception; its text may hold internals, so clients get a summary.
        data["errors"] = [{"message": "Processing failed; no deployment of this job was written."}]
    return json_response(data)


@post(METADATA + "/storage-record")
async def create_storage_record(
    request: AnyRequest, org: FromPath[str], db: Db, caller: Caller
) -> Response[bytes]:
    body = await parse_body(request, schemas.StorageRecordBody, schemas.STORAGE_RESOURCE)
    schemas.check_storage(body)
    record = await service.create_storage_record(db, caller, org, body)
    data: dict[str, Any] = {"total_count": 1}
    if body.return_records:
        data["storage_records"] = [schemas.storage_record(record, nullable=True)]
    return json_response(data)


@get("/orgs/{org:str}/artifacts/{subject_digest:str}/metadata/deployment-records")
async def list_deployment_records(
    org: FromPath[str], subject_digest: FromPath[str], db: Db, caller: Caller
) -> Response[bytes]:
    digest = schemas.parse_digest(subject_digest)
    records = await service.deployment_records(db, caller, org, digest)
    return json_response(schemas.deployment_list(records))


@get("/orgs/{org:str}/artifacts/{subject_digest:str}/metadata/storage-records")
async def list_storage_records(
    org: FromPath[str], subject_digest: FromPath[str], db: Db, caller: Caller
) -> Response[bytes]:
    digest = schemas.parse_digest(subject_digest)
    records = await service.storage_records(db, caller, org, digest)
    return json_response(
        {
            "total_count": len(records),
            "storage_records": [schemas.storage_record(r, nullable=False) for r in records],
        }
    )


def _history_filter(request: AnyRequest) -> HistoryFilter:
    query = request.query_params
    raw_digest = query.get("digest") or None
    digest = None if raw_digest is None else schemas.parse_digest(raw_digest, field="digest")
    raw_status = query.get("status") or None
    try:
        status = None if raw_status is None else DeploymentStatus(raw_status)
    except ValueError:
        raise ValidationFailed.one(
            "Query", "status", "invalid", "status must be deployed or decommissioned", raw_status
        ) from None
    return HistoryFilter(
        logical_environment=query.get("logical_environment") or None,
        physical_environment=query.get("physical_environment"),
        cluster=query.get("cluster"),
        deployment_name=query.get("deployment_name") or None,
        digest=digest,
        status=status,
        at=time_param(query.get("at"), "at"),
    )


@get("/waybill/orgs/{org:str}/deployments/history")
async def deployment_history(
    request: AnyRequest, org: FromPath[str], caller: Caller, read_conn: ReadConn
) -> Response[bytes]:
    where = _history_filter(request)
    page_at = cursor(request)
    page = await service.history(read_conn, caller, org, where, page_at)
    return json_response(
        {"history": [schemas.history_entry(e) for e in page.items]},
        headers=cursor_links(request, page.next_key, page.prev_key),
    )


@get("/waybill/orgs/{org:str}/artifacts/{subject_digest:str}/deployments")
async def digest_deployments(
    request: AnyRequest,
    org: FromPath[str],
    subject_digest: FromPath[str],
    caller: Caller,
    read_conn: ReadConn,
) -> Response[bytes]:
    digest = schemas.parse_digest(subject_digest)
    page_at = cursor(request)
    page = await service.digest_deployments(read_conn, caller, org, digest, page_at)
    return json_response(
        {"deployments": [schemas.digest_deployment(d) for d in page.items]},
        headers=cursor_links(request, page.next_key, page.prev_key),
    )


route_handlers = [
    create_deployment_record,
    set_cluster_records,
    create_cluster_job,
    get_cluster_job,
    create_storage_record,
    list_deployment_records,
    list_storage_records,
    deployment_history,
    digest_deployments,
]
