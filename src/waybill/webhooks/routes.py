"""HTTP handlers for organization and repository hooks: the same operations under two prefixes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from litestar import Response, Router, delete, get, patch, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath
from sqlalchemy.ext.asyncio import AsyncConnection

from waybill.auth.types import Principal
from waybill.core.db import Database
from waybill.core.errors import NotFound, ValidationFailed
from waybill.core.ids import parse_id
from waybill.core.jobs import Worker
from waybill.core.keyset import Cursor
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


def _org(org: FromPath[str], caller: Caller) -> Resolve:
    async def resolve(conn: AsyncConnection, level: Level) -> Target:
        return await access.organization(conn, caller, org, level)

    return resolve


def _repo(owner: FromPath[str], repo: FromPath[str], caller: Caller) -> Resolve:
    async def resolve(conn: AsyncConnection, level: Level) -> Target:
        return await access.repository(conn, caller, owner, repo, level)

    return resolve


# The operations, whichever kind of hook: ``hooks`` resolves the organization or repository the
# path names (``_org`` or ``_repo``), checked at the level each operation needs.

Hooks = NamedDependency[Resolve]


async def list_hooks(request: AnyRequest, db: Db, hooks: Hooks) -> Response[bytes]:
    size, current = per_page(request), page(request)
    async with db.read() as conn:
        target = await hooks(conn, Level.READ)
        items, total = await service.list_hooks(conn, target, per_page=size, page=current)
    base = api_base(request) + target.path
    last = max(1, -(-total // size))
    return json_response([schemas.hook(h, base) for h in items], headers=page_links(request, current, last))


async def _create(
    request: AnyRequest, db: Database, caller: Principal, hooks: Resolve, *, optional_body: bool
) -> Response[bytes]:
    body = await _body(request, schemas.HookCreateBody, optional=optional_body)
    async with db.write() as conn:
        target = await hooks(conn, Level.WRITE)
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


async def create_org_hook(request: AnyRequest, db: Db, caller: Caller, hooks: Hooks) -> Response[bytes]:
    return await _create(request, db, caller, hooks, optional_body=False)


# GitHub requires nothing in a repository hook's body (``config`` may come later), unlike an
# organization's, whose ``name`` and ``config`` are required.
async def create_repo_hook(request: AnyRequest, db: Db, caller: Caller, hooks: Hooks) -> Response[bytes]:
    return await _create(request, db, caller, hooks, optional_body=True)


async def get_hook(request: AnyRequest, hook_id: FromPath[str], db: Db, hooks: Hooks) -> Response[bytes]:
    number = _id(hook_id)
    async with db.read() as conn:
        target = await hooks(conn, Level.READ)
        hook = await service.get_hook(conn, target, number)
    return json_response(schemas.hook(hook, api_base(request) + target.path))


async def update_hook(request: AnyRequest, hook_id: FromPath[str], db: Db, hooks: Hooks) -> Response[bytes]:
    number = _id(hook_id)
    body = await _body(request, schemas.HookUpdateBody, optional=True)
    async with db.write() as conn:
        target = await hooks(conn, Level.WRITE)
        hook = await service.update_hook(conn, target, number, body, allow_private=_allow_private(request))
    return json_response(schemas.hook(hook, api_base(request) + target.path))


async def delete_hook(hook_id: FromPath[str], db: Db, hooks: Hooks) -> Response[bytes]:
    number = _id(hook_id)
    async with db.write() as conn:
        target = await hooks(conn, Level.ADMIN)
        await service.delete_hook(conn, target, number)
    return no_content()


async def get_hook_config(hook_id: FromPath[str], db: Db, hooks: Hooks) -> Response[bytes]:
    number = _id(hook_id)
    async with db.read() as conn:
        target = await hooks(conn, Level.READ)
        hook = await service.get_hook(conn, target, number)
    return json_response(schemas.config(hook))


async def update_hook_config(
    request: AnyRequest, hook_id: FromPath[str], db: Db, hooks: Hooks
) -> Response[bytes]:
    number = _id(hook_id)
    body = await _body(request, schemas.ConfigUpdateBody, optional=True)
    async with db.write() as conn:
        target = await hooks(conn, Level.WRITE)
        hook = await service.update_config(conn, target, number, body, allow_private=_allow_private(request))
    return json_response(schemas.config(hook))


async def ping_hook(
    request: AnyRequest, hook_id: FromPath[str], db: Db, caller: Caller, hooks: Hooks
) -> Response[bytes]:
    number = _id(hook_id)
    async with db.write() as conn:
        target = await hooks(conn, Level.WRITE)
        hook = await service.get_hook(conn, target, number)
        await service.ping(conn, target, hook, caller.user, _links(request))
    _wake(request)
    return no_content()


async def test_repo_hook(hook_id: FromPath[str], read_conn: ReadConn, hooks: Hooks) -> Response[bytes]:
    """GitHub replays the latest push to a hook subscribed to ``push``, else sends nothing. Waybill
    has no pushes: the hook must exist and be the caller's to change, and nothing is sent."""
    number = _id(hook_id)
    target = await hooks(read_conn, Level.WRITE)
    await service.get_hook(read_conn, target, number)
    return no_content()


def _status(request: AnyRequest) -> str | None:
    raw = request.query_params.get("status") or None
    if raw is not None and raw not in ("success", "failure"):
        raise ValidationFailed.one("Query", "status", "invalid", "status must be success or failure", raw)
    return raw


async def list_deliveries(
    request: AnyRequest, hook_id: FromPath[str], db: Db, hooks: Hooks
) -> Response[bytes]:
    number = _id(hook_id)
    size, status = per_page(request), _status(request)
    raw_cursor = request.query_params.get("cursor") or None
    after = None if raw_cursor is None else decode_cursor(raw_cursor, "cursor")
    async with db.read() as conn:
        target = await hooks(conn, Level.READ)
        found = await service.list_deliveries(conn, target, number, Cursor(size, after), status=status)
    links = {} if found.next_key is None else {"next": {"cursor": encode_cursor(found.next_key)}}
    return json_response([schemas.delivery_item(d) for d in found.items], headers=link_header(request, links))


async def get_delivery(
    hook_id: FromPath[str], delivery_id: FromPath[str], db: Db, hooks: Hooks
) -> Response[bytes]:
    number, delivery_number = _id(hook_id), _id(delivery_id)
    async with db.read() as conn:
        target = await hooks(conn, Level.READ)
        found = await service.get_delivery(conn, target, number, delivery_number)
    return json_response(schemas.delivery(found))


async def redeliver(
    request: AnyRequest, hook_id: FromPath[str], delivery_id: FromPath[str], db: Db, hooks: Hooks
) -> Response[bytes]:
    number, delivery_number = _id(hook_id), _id(delivery_id)
    async with db.write() as conn:
        target = await hooks(conn, Level.WRITE)
        await service.redeliver(conn, target, number, delivery_number)
    _wake(request)
    return json_response({}, 202)


def _routes(prefix: str, hooks: Callable[..., Resolve], create: Callable[..., Any], *extra: Any) -> Router:
    """One router a prefix: Litestar gives each registered handler one owner, so each router
    wraps the operations in handlers of its own."""
    one, delivery = ONE, ONE + "/deliveries/{delivery_id:str}"
    return Router(
        prefix,
        dependencies={"hooks": Provide(hooks, sync_to_thread=False)},
        route_handlers=[
            get("/")(list_hooks),
            post("/")(create),
            get(one)(get_hook),
            patch(one)(update_hook),
            # The handler answers its own 204; Litestar refuses a 204 route that returns a Response.
            delete(one, status_code=200)(delete_hook),
            get(one + "/config")(get_hook_config),
            patch(one + "/config")(update_hook_config),
            post(one + "/pings")(ping_hook),
            get(one + "/deliveries")(list_deliveries),
            get(delivery)(get_delivery),
            post(delivery + "/attempts")(redeliver),
            *extra,
        ],
    )


route_handlers = [
    _routes(ORG, _org, create_org_hook),
    _routes(REPO, _repo, create_repo_hook, post(ONE + "/tests")(test_repo_hook)),
]
