"""HTTP handlers of trusted publishing: the token exchange, and repository administrators' bindings."""

from __future__ import annotations

from litestar import Response, delete, get, post
from litestar.params import FromPath
from sqlalchemy.ext.asyncio import AsyncConnection

from waybill.accounts import service as accounts
from waybill.accounts.types import Repository, Role
from waybill.auth import permissions
from waybill.auth.types import Need, Principal
from waybill.core.errors import NotFound
from waybill.core.ids import parse_id
from waybill.http.body import parse_body
from waybill.http.context import AnyRequest, Caller, Db, ReadConn, WriteConn, settings, web_base
from waybill.http.responses import json_response, no_content
from waybill.publishers import schemas, service
from waybill.publishers.oidc import KeyCache

PUBLISHERS = "/waybill/repos/{owner:str}/{repo:str}/publishers"
ADMINISTER = Need(Role.ADMIN, ("administration",))


def key_cache(request: AnyRequest) -> KeyCache:
    """The issuers' signing keys this process fetched (``create_app`` makes the cache)."""
    cache: KeyCache = request.app.state.oidc_keys
    return cache


@post("/waybill/oidc/token")
async def exchange(request: AnyRequest, db: Db) -> Response[bytes]:
    body = await parse_body(request, schemas.ExchangeBody, "Token")
    audience = settings(request).oidc_audience or web_base(request)
    async with db.write() as conn:
        result = await service.exchange(conn, body.token, audience=audience, keys=key_cache(request))
    return json_response(schemas.exchanged(result), 201)


async def _administered(conn: AsyncConnection, caller: Principal, owner: str, name: str) -> Repository:
    repo = await accounts.find_repository(conn, owner, name)
    if repo is None:
        raise NotFound()
    await permissions.require(conn, caller, repo, ADMINISTER)
    return repo


@get(PUBLISHERS)
async def list_publishers(
    owner: FromPath[str], repo: FromPath[str], caller: Caller, read_conn: ReadConn
) -> Response[bytes]:
    found = await service.publishers_of(read_conn, await _administered(read_conn, caller, owner, repo))
    return json_response([schemas.publisher(p) for p in found])


@post(PUBLISHERS)
async def create_publisher(
    request: AnyRequest, owner: FromPath[str], repo: FromPath[str], caller: Caller, write_conn: WriteConn
) -> Response[bytes]:
    body = await parse_body(request, schemas.CreatePublisher, "Publisher")
    created = await service.add_publisher(
        write_conn,
        await _administered(write_conn, caller, owner, repo),
        issuer_url=body.issuer,
        claims=dict(body.claims),
        workflow=body.workflow,
        environment=body.environment,
        permissions=dict(body.permissions),
    )
    return json_response(schemas.publisher(created), 201)


@delete(PUBLISHERS + "/{publisher_id:str}", status_code=200)
async def delete_publisher(
    owner: FromPath[str],
    repo: FromPath[str],
    publisher_id: FromPath[str],
    caller: Caller,
    write_conn: WriteConn,
) -> Response[bytes]:
    found_id = parse_id(publisher_id)
    target = await _administered(write_conn, caller, owner, repo)
    if found_id is None:
        raise NotFound()
    await service.remove_publisher(write_conn, target, found_id)
    return no_content()


route_handlers = [exchange, list_publishers, create_publisher, delete_publisher]
