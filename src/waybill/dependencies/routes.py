"""HTTP handlers for the dependency graph: snapshot submission, SBOM export and reports, dependency
review, and (under ``/waybill/``) SBOM import and report downloads.

Clients of GitHub's dependency submission send preview media types in ``Accept``; no handler here
negotiates on it, so any is served JSON.
"""

from __future__ import annotations

import asyncio
import re
import tempfile
from pathlib import PurePath
from typing import Any
from urllib.parse import urlencode

from litestar import Response, get, post
from litestar.exceptions import HTTPException
from litestar.params import FromPath

from waybill.config import Settings
from waybill.core.errors import Forbidden
from waybill.dependencies import imports, schemas, service
from waybill.dependencies.sbom_graph import collection_paused
from waybill.http.context import (
    AnyRequest,
    Caller,
    Db,
    ReadConn,
    api_base,
    settings,
    signer,
    web_base,
)
from waybill.http.conventions import BodyLimit
from waybill.http.pagination import page, page_links, per_page
from waybill.http.responses import json_response

REPO = "/repos/{owner:str}/{repo:str}/dependency-graph"
DOWNLOAD_PURPOSE = "dependency-sbom-report"
# How long a download URL handed out by fetch-report stays valid.
DOWNLOAD_TTL_SECONDS = 600


@post(f"{REPO}/snapshots")
async def create_snapshot(
    request: AnyRequest, owner: FromPath[str], repo: FromPath[str], db: Db, caller: Caller
) -> Response[bytes]:
    """The permission is read first, then the snapshot is written in one unit through the drivers."""
    body = await request.body()
    # A snapshot of thousands of packages makes tens of thousands of small objects, none cyclic.
    with collection_paused():
        snapshot = schemas.parse_snapshot(body)
        async with db.read() as conn:
            found = await service.repository(conn, caller, owner, repo, service.WRITE)
        sender_id = None if caller.user is None else caller.user.id
        done = await service.store_snapshot(db, found, snapshot, sender_id=sender_id)
    return json_response(schemas.snapshot_created(done.id, done.created_at, done.result, done.message), 201)


@get(f"{REPO}/sbom")
async def export_sbom(
    request: AnyRequest, owner: FromPath[str], repo: FromPath[str], db: Db, caller: Caller
) -> Response[bytes]:
    async with db.read() as conn:
        found = await service.repository(conn, caller, owner, repo, service.READ)
    # The document of a large graph is tens of thousands of small objects, none cyclic.
    with collection_paused():
        document = await service.export_current_sbom(db, found, web_base(request))
        return json_response({"sbom": document})


@get(f"{REPO}/sbom/generate-report")
async def generate_report(
    request: AnyRequest, owner: FromPath[str], repo: FromPath[str], db: Db, caller: Caller
) -> Response[bytes]:
    # The worker is woken once the job is committed, where it can claim it.
    async with db.write() as conn:
        found = await service.repository(conn, caller, owner, repo, service.READ)
        report_id = await service.generate_report(conn, found, web_base(request))
    request.app.state.worker.wake()
    url = f"{api_base(request)}/repos/{found.full_name}/dependency-graph/sbom/fetch-report/{report_id}"
    return json_response({"sbom_url": url}, 201)


@get(f"{REPO}/sbom/fetch-report/{{sbom_uuid:str}}")
async def fetch_report(
    request: AnyRequest,
    owner: FromPath[str],
    repo: FromPath[str],
    sbom_uuid: FromPath[str],
    caller: Caller,
    read_conn: ReadConn,
) -> Response[bytes]:
    found = await service.repository(read_conn, caller, owner, repo, service.READ)
    ready = await service.report_ready(read_conn, found, sbom_uuid)
    if not ready:
        return Response(content=b"", status_code=202)
    query = signer(request).sign(DOWNLOAD_PURPOSE, sbom_uuid, DOWNLOAD_TTL_SECONDS)
    location = (
        f"{api_base(request)}/waybill/repos/{found.full_name}/dependency-graph/sbom/reports/"
        f"{sbom_uuid}?{urlencode(query)}"
    )
    return Response(content=b"", status_code=302, headers={"Location": location})


@get(f"/waybill{REPO}/sbom/reports/{{sbom_uuid:str}}")
async def download_report(
    request: AnyRequest, owner: FromPath[str], repo: FromPath[str], sbom_uuid: FromPath[str], db: Db
) -> Response[bytes]:
    """The temporary download URL: signed, so it is fetched without a token, as GitHub's are."""
    params = request.query_params
    if not signer(request).check(DOWNLOAD_PURPOSE, sbom_uuid, params.get("expires"), params.get("signature")):
        raise Forbidden("The download URL has expired or its signature is invalid.")
    async with db.read() as conn:
        found = await service.repository_by_name(conn, owner, repo)
        document = await service.report_document(conn, found, sbom_uuid)
    return Response(
        content=document,
        status_code=200,
        media_type="application/json; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{PurePath(found.name).name}-sbom.spdx.json"'},
    )


@get(f"{REPO}/compare/{{basehead:path}}")
async def compare(
    request: AnyRequest,
    owner: FromPath[str],
    repo: FromPath[str],
    basehead: FromPath[str],
    caller: Caller,
    read_conn: ReadConn,
) -> Response[bytes]:
    manifest = request.query_params.get("name") or None
    size, number = per_page(request), page(request)
    found = await service.repository(read_conn, caller, owner, repo, service.READ)
    changes = await service.compare(read_conn, found, basehead.lstrip("/"), manifest, web_base(request))
    last = max((len(changes) + size - 1) // size, 1)
    chunk = changes[(number - 1) * size : number * size]
    return json_response(chunk, headers=page_links(request, number, last))


IMPORT_PATH = re.compile(r"^/waybill/repos/[^/]+/[^/]+/dependency-graph/sbom-import/?$")


def body_limits(config: Settings) -> list[BodyLimit]:
    """The routes of this domain whose bodies have a limit of their own."""
    return [(IMPORT_PATH, config.max_sbom_bytes)]


# Litestar's global limit is lifted here: the handler counts the bytes itself as they arrive.
@post(f"/waybill{REPO}/sbom-import", request_max_body_size=None)
async def import_sbom(
    request: AnyRequest, owner: FromPath[str], repo: FromPath[str], db: Db, caller: Caller
) -> Response[bytes]:
    """An SPDX or CycloneDX JSON document, stored as a snapshot (GitHub has no such endpoint).

    The body goes to a temporary file as it arrives, never whole into memory, and is read from there
    in a thread, outside any transaction: a large document holds neither the event loop nor the
    write lock while it is parsed. Only the batched writes run in the (single) transaction."""
    options = imports.Options.from_query(request.query_params)
    # Refused callers are refused before the body is received.
    async with db.read() as conn:
        await service.repository(conn, caller, owner, repo, service.WRITE)
    with tempfile.TemporaryFile() as spool:
        await _spool(request, spool, settings(request).max_sbom_bytes)
        parsed = await asyncio.to_thread(imports.read, spool, options)
    async with db.write() as conn:
        found = await service.repository(conn, caller, owner, repo, service.WRITE)
        sender_id = None if caller.user is None else caller.user.id
        done = await service.import_sbom(conn, found, parsed, sender_id=sender_id)
    body: dict[str, Any] = schemas.snapshot_created(done.id, done.created_at, done.result, done.message)
    return json_response(body, 201)


async def _spool(request: AnyRequest, spool: Any, limit: int) -> None:
    """The request body into ``spool``, refused with 413 past ``limit`` bytes, Content-Length or not."""
    received = 0
    async for chunk in request.stream():
        received += len(chunk)
        if received > limit:
            raise HTTPException(status_code=413)
        spool.write(chunk)
    spool.seek(0)


route_handlers: list[Any] = [
    create_snapshot,
    export_sbom,
    generate_report,
    fetch_report,
    download_report,
    compare,
    import_sbom,
]
