"""HTTP handlers for organization and repository hooks: the same operations under two prefixes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from litestar import Response, delete, get, patch, post
from litestar.params import FromPath
from sqlalchemy.ext.asyncio import AsyncConnection

from waybill.auth.types import Principal
from waybill.core.db import Database
from waybill.core.errors import NotFound, ValidationFailed
from waybill.core.ids import parse_id
from waybill.core.jobs import Worker
from waybill.http.body import decode
from waybill.http.context import (
    AnyRequest,
    Caller,
    Db,
    ReadConn,
    api_base,
    settings,
    web_base,
)
from waybill.http.pagination import decode_cursor, encode_cursor, link_header, page, page_links, per_page
from waybill.http.responses import json_response, no_content
from waybill.webhooks import access, schemas, service
from waybill.webhooks.access import Level, Target
from waybill.webhooks.payloads import Links

ORG = "/orgs/{org:str}/hooks"
REPO = "/repos/{owner:str}/{repo:str}/hooks"
ONE = "/{hook_id:str}"
Resolve = Callable[[AsyncConnection, Level], Awaitable[Target]]


def _links(request: AnyRequest) -> Links:
    return Links(api_base(request), web_base(request))


def _id(raw: str) -> int:
    value = parse_id(raw)
    if value is None:
        raise NotFound()
    return value


def _allow_private(request: AnyRequest) -> bool:
    return settings(request).webhook_allow_private


def _wake(request: AnyRequest) -> None:
    worker: Worker | None = getattr(request.app.state, "worker", None)
    if worker is not None:
        worker.wake()


async def _body(request: AnyRequest, type_: Any, *, optional: bool = False) -> Any:
    raw = await request.body()
    if optional and not raw.strip():
        raw = b"{}"
    return decode(raw, type_, schemas.HOOK_RESOURCE)


def _org(caller: Principal, org: str) -> Resolve:
    async def resolve(conn: AsyncConnection, level: Level) -> Target:
        return await access.organization(conn, caller, org, level)

    return resolve


def _repo(caller: Principal, owner: str, repo: str) -> Resolve:
    async def resolve(conn: AsyncConnection, level: Level) -> Target:
        return await access.repository(conn, caller, owner, repo, level)

    return resolve


# The operations, whichever kind of hook.


async def _list(request: AnyRequest, db: Database, resolve: Resolve) -> Response[bytes]:
    size, current = per_page(request), page(request)
    async with db.read() as conn:
        target = await resolve(conn, Level.READ)
        items, total = await service.list_hooks(conn, target, per_page=size, page=current)
    base = api_base(request) + target.path
    last = max(1, -(-total // size))
    return json_response([schemas.hook(h, base) for h in items], headers=page_links(request, current, last))


async def _create(
    request: AnyRequest, db: Database, caller: Principal, resolve: Resolve, *, optional_body: bool
) -> Response[bytes]:
    body = await _body(request, schemas.HookCreateBody, optional=optional_body)
    async with db.write() as conn:
        target = await resolve(conn, Level.WRITE)
        assert caller.user is not None
        hook = await service.create_hook(
            conn,
            target,
            body,
            sender=caller.user,
            links=_links(request),
            allow_private=_allow_private(request),
        )
    _wake(request)
    base = api_base(request) + target.path
    return json_response(schemas.hook(hook, base), 201, headers={"Location": f"{base}/{hook.id}"})


async def _get(request: AnyRequest, db: Database, resolve: Resolve, hook_id: str) -> Response[bytes]:
    number = _id(hook_id)
    async with db.read() as conn:
        target = await resolve(conn, Level.READ)
        hook = await service.get_hook(conn, target, number)
    return json_response(schemas.hook(hook, api_base(request) + target.path))


async def _update(request: AnyRequest, db: Database, resolve: Resolve, hook_id: str) -> Response[bytes]:
    number = _id(hook_id)
    body = await _body(request, schemas.HookUpdateBody, optional=True)
    async with db.write() as conn:
        target = await resolve(conn, Level.WRITE)
        hook = await service.update_hook(conn, target, number, body, allow_private=_allow_private(request))
    return json_response(schemas.hook(hook, api_base(request) + target.path))


async def _delete(db: Database, resolve: Resolve, hook_id: str) -> Response[bytes]:
    number = _id(hook_id)
    async with db.write() as conn:
        target = await resolve(conn, Level.ADMIN)
        await service.delete_hook(conn, target, number)
    return no_content()


async def _get_config(db: Database, resolve: Resolve, hook_id: str) -> Response[bytes]:
    number = _id(hook_id)
    async with db.read() as conn:
        target = await resolve(conn, Level.READ)
        hook = await service.get_hook(conn, target, number)
    return json_response(schemas.config(hook))


async def _update_config(
    request: AnyRequest, db: Database, resolve: Resolve, hook_id: str
) -> Response[bytes]:
    number = _id(hook_id)
    body = await _body(request, schemas.ConfigUpdateBody, optional=True)
    async with db.write() as conn:
        target = await resolve(conn, Level.WRITE)
        hook = await service.update_config(conn, target, number, body, allow_private=_allow_private(request))
    return json_response(schemas.config(hook))


async def _ping(
    request: AnyRequest, db: Database, caller: Principal, resolve: Resolve, hook_id: str
) -> Response[bytes]:
    number = _id(hook_id)
    async with db.write() as conn:
        target = await resolve(conn, Level.WRITE)
        hook = await service.get_hook(conn, target, number)
        await service.ping(conn, target, hook, caller.user, _links(request))
    _wake(request)
    return no_content()


def _status(request: AnyRequest) -> str | None:
    raw = request.query_params.get("status") or None
    if raw is not None and raw not in ("success", "failure"):
        raise ValidationFailed.one("Query", "status", "invalid", "status must be success or failure", raw)
    return raw


async def _deliveries(request: AnyRequest, db: Database, resolve: Resolve, hook_id: str) -> Response[bytes]:
    number = _id(hook_id)
    size, status = per_page(request), _status(request)
    raw_cursor = request.query_params.get("cursor") or None
    after = None if raw_cursor is None else decode_cursor(raw_cursor, "cursor")
    async with db.read() as conn:
        target = await resolve(conn, Level.READ)
        found = await service.list_deliveries(conn, target, number, per_page=size, after=after, status=status)
    links = {} if found.next_key is None else {"next": {"cursor": encode_cursor(found.next_key)}}
    return json_response([schemas.delivery_item(d) for d in found.items], headers=link_header(request, links))


async def _delivery(db: Database, resolve: Resolve, hook_id: str, delivery_id: str) -> Response[bytes]:
    number, delivery_number = _id(hook_id), _id(delivery_id)
    async with db.read() as conn:
        target = await resolve(conn, Level.READ)
        found = await service.get_delivery(conn, target, number, delivery_number)
    return json_response(schemas.delivery(found))


async def _redeliver(
    request: AnyRequest, db: Database, resolve: Resolve, hook_id: str, delivery_id: str
) -> Response[bytes]:
    number, delivery_number = _id(hook_id), _id(delivery_id)
    async with db.write() as conn:
        target = await resolve(conn, Level.WRITE)
        await service.redeliver(conn, target, number, delivery_number)
    _wake(request)
    return json_response({}, 202)


# Organization hooks.


@get(ORG)
async def list_org_hooks(request: AnyRequest, org: FromPath[str], db: Db, caller: Caller) -> Response[bytes]:
    return await _list(request, db, _org(caller, org))


@post(ORG)
async def create_org_hook(request: AnyRequest, org: FromPath[str], db: Db, caller: Caller) -> Response[bytes]:
    return await _create(request, db, caller, _org(caller, org), optional_body=False)


@get(ORG + ONE)
async def get_org_hook(
    request: AnyRequest, org: FromPath[str], hook_id: FromPath[str], db: Db, caller: Caller
) -> Response[bytes]:
    return await _get(request, db, _org(caller, org), hook_id)


@patch(ORG + ONE)
async def update_org_hook(
    request: AnyRequest, org: FromPath[str], hook_id: FromPath[str], db: Db, caller: Caller
) -> Response[bytes]:
    return await _update(request, db, _org(caller, org), hook_id)


# The handler answers its own 204; Litestar refuses a 204 route that returns a Response.
@delete(ORG + ONE, status_code=200)
async def delete_org_hook(
    request: AnyRequest, org: FromPath[str], hook_id: FromPath[str], db: Db, caller: Caller
) -> Response[bytes]:
    return await _delete(db, _org(caller, org), hook_id)


@get(ORG + ONE + "/config")
async def get_org_hook_config(
    request: AnyRequest, org: FromPath[str], hook_id: FromPath[str], db: Db, caller: Caller
) -> Response[bytes]:
    return await _get_config(db, _org(caller, org), hook_id)


@patch(ORG + ONE + "/config")
async def update_org_hook_config(
    request: AnyRequest, org: FromPath[str], hook_id: FromPath[str], db: Db, caller: Caller
) -> Response[bytes]:
    return await _update_config(request, db, _org(caller, org), hook_id)


@post(ORG + ONE + "/pings")
async def ping_org_hook(
    request: AnyRequest, org: FromPath[str], hook_id: FromPath[str], db: Db, caller: Caller
) -> Response[bytes]:
    return await _ping(request, db, caller, _org(caller, org), hook_id)


@get(ORG + ONE + "/deliveries")
async def list_org_hook_deliveries(
    request: AnyRequest, org: FromPath[str], hook_id: FromPath[str], db: Db, caller: Caller
) -> Response[bytes]:
    return await _deliveries(request, db, _org(caller, org), hook_id)


@get(ORG + ONE + "/deliveries/{delivery_id:str}")
async def get_org_hook_delivery(
    request: AnyRequest,
    org: FromPath[str],
    hook_id: FromPath[str],
    delivery_id: FromPath[str],
    db: Db,
    caller: Caller,
) -> Response[bytes]:
    return await _delivery(db, _org(caller, org), hook_id, delivery_id)


@post(ORG + ONE + "/deliveries/{delivery_id:str}/attempts")
async def redeliver_org_hook_delivery(
    request: AnyRequest,
    org: FromPath[str],
    hook_id: FromPath[str],
    delivery_id: FromPath[str],
    db: Db,
    caller: Caller,
) -> Response[bytes]:
    return await _redeliver(request, db, _org(caller, org), hook_id, delivery_id)


# Repository hooks.


@get(REPO)
async def list_repo_hooks(
    request: AnyRequest, owner: FromPath[str], repo: FromPath[str], db: Db, caller: Caller
) -> Response[bytes]:
    return await _list(request, db, _repo(caller, owner, repo))


@post(REPO)
async def create_repo_hook(
    request: AnyRequest, owner: FromPath[str], repo: FromPath[str], db: Db, caller: Caller
) -> Response[bytes]:
    return await _create(request, db, caller, _repo(caller, owner, repo), optional_body=True)


@get(REPO + ONE)
async def get_repo_hook(
    request: AnyRequest,
    owner: FromPath[str],
    repo: FromPath[str],
    hook_id: FromPath[str],
    db: Db,
    caller: Caller,
) -> Response[bytes]:
    return await _get(request, db, _repo(caller, owner, repo), hook_id)


@patch(REPO + ONE)
async def update_repo_hook(
    request: AnyRequest,
    owner: FromPath[str],
    repo: FromPath[str],
    hook_id: FromPath[str],
    db: Db,
    caller: Caller,
) -> Response[bytes]:
    return await _update(request, db, _repo(caller, owner, repo), hook_id)


@delete(REPO + ONE, status_code=200)
async def delete_repo_hook(
    request: AnyRequest,
    owner: FromPath[str],
    repo: FromPath[str],
    hook_id: FromPath[str],
    db: Db,
    caller: Caller,
) -> Response[bytes]:
    return await _delete(db, _repo(caller, owner, repo), hook_id)


@get(REPO + ONE + "/config")
async def get_repo_hook_config(
    request: AnyRequest,
    owner: FromPath[str],
    repo: FromPath[str],
    hook_id: FromPath[str],
    db: Db,
    caller: Caller,
) -> Response[bytes]:
    return await _get_config(db, _repo(caller, owner, repo), hook_id)


@patch(REPO + ONE + "/config")
async def update_repo_hook_config(
    request: AnyRequest,
    owner: FromPath[str],
    repo: FromPath[str],
    hook_id: FromPath[str],
    db: Db,
    caller: Caller,
) -> Response[bytes]:
    return await _update_config(request, db, _repo(caller, owner, repo), hook_id)


@post(REPO + ONE + "/pings")
async def ping_repo_hook(
    request: AnyRequest,
    owner: FromPath[str],
    repo: FromPath[str],
    hook_id: FromPath[str],
    db: Db,
    caller: Caller,
) -> Response[bytes]:
    return await _ping(request, db, caller, _repo(caller, owner, repo), hook_id)


@post(REPO + ONE + "/tests")
async def test_repo_hook(
    owner: FromPath[str],
    repo: FromPath[str],
    hook_id: FromPath[str],
    read_conn: ReadConn,
    caller: Caller,
) -> Response[bytes]:
    """GitHub replays the latest push to a hook subscribed to ``push``, else sends nothing. Waybill
    has no pushes: the hook must exist and be the caller's to change, and nothing is sent."""
    number = _id(hook_id)
    target = await _repo(caller, owner, repo)(read_conn, Level.WRITE)
    await service.get_hook(read_conn, target, number)
    return no_content()


@get(REPO + ONE + "/deliveries")
async def list_repo_hook_deliveries(
    request: AnyRequest,
    owner: FromPath[str],
    repo: FromPath[str],
    hook_id: FromPath[str],
    db: Db,
    caller: Caller,
) -> Response[bytes]:
    return await _deliveries(request, db, _repo(caller, owner, repo), hook_id)


@get(REPO + ONE + "/deliveries/{delivery_id:str}")
async def get_repo_hook_delivery(
    request: AnyRequest,
    owner: FromPath[str],
    repo: FromPath[str],
    hook_id: FromPath[str],
    delivery_id: FromPath[str],
    db: Db,
    caller: Caller,
) -> Response[bytes]:
    return await _delivery(db, _repo(caller, owner, repo), hook_id, delivery_id)


@post(REPO + ONE + "/deliveries/{delivery_id:str}/attempts")
async def redeliver_repo_hook_delivery(
    request: AnyRequest,
    owner: FromPath[str],
    repo: FromPath[str],
    hook_id: FromPath[str],
    delivery_id: FromPath[str],
    db: Db,
    caller: Caller,
) -> Response[bytes]:
    return await _redeliver(request, db, _repo(caller, owner, repo), hook_id, delivery_id)


route_handlers = [
    list_org_hooks,
    create_org_hook,
    get_org_hook,
    update_org_hook,
    delete_org_hook,
    get_org_hook_config,
    update_org_hook_config,
    ping_org_hook,
    list_org_hook_deliveries,
    get_org_hook_delivery,
    redeliver_org_hook_delivery,
    list_repo_hooks,
    create_repo_hook,
    get_repo_hook,
    update_repo_hook,
    delete_repo_hook,
    get_repo_hook_config,
    update_repo_hook_config,
    ping_repo_hook,
    test_repo_hook,
    list_repo_hook_deliveries,
    get_repo_hook_delivery,
    redeliver_repo_hook_delivery,
]
