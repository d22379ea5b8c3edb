"""HTTP handlers of GitHub's Apps operations, and site administrators' registration under ``/waybill/``.

Operations under ``/app`` and the installation look-ups authenticate with the app's JWT; those under
``/installation`` with an installation token (the ordinary principal of the request).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from litestar import Response, delete, get, post, put
from litestar.params import FromPath
from sqlalchemy.ext.asyncio import AsyncConnection

from waybill.apps import schemas, service
from waybill.apps.types import App, Installation, RepositorySelection
from waybill.auth import permissions, tokens
from waybill.core.db import Database
from waybill.core.errors import NotFound, Unauthenticated
from waybill.core.ids import parse_id
from waybill.http.body import decode, parse_body
from waybill.http.context import AnyRequest, Caller, Db, ReadConn, WriteConn, api_base, api_version, web_base
from waybill.http.pagination import page, page_links, per_page
from waybill.http.responses import json_response, no_content

INSTALLATION = "/app/installations/{installation_id:str}"


async def _as_app(request: AnyRequest, conn: AsyncConnection) -> App:
    header = request.headers.get("authorization")
    if not header:
        raise Unauthenticated()
    return await service.authenticate_app(conn, tokens.parse_authorization(header))


def _installation_id(raw: str) -> int:
    found = parse_id(raw)
    if found is None:
        raise NotFound()
    return found


@get("/app")
async def get_authenticated(request: AnyRequest, db: Db) -> Response[bytes]:
    async with db.read() as conn:
        app = await _as_app(request, conn)
        count = await service.count_installations(conn, app)
    return json_response(schemas.integration(app, count, api_base(request), web_base(request)))


@get("/app/installations")
async def list_installations(request: AnyRequest, db: Db) -> Response[bytes]:
    size, current = per_page(request), page(request)
    async with db.read() as conn:
        app = await _as_app(request, conn)
        total = await service.count_installations(conn, app)
        found = await service.installations(conn, app, limit=size, offset=(current - 1) * size)
    api, web = api_base(request), web_base(request)
    return json_response(
        [schemas.installation(i, api, web) for i in found],
        headers=page_links(request, current, max(1, -(-total // size))),
    )


@get(INSTALLATION)
async def get_installation(request: AnyRequest, installation_id: FromPath[str], db: Db) -> Response[bytes]:
    async with db.read() as conn:
        app = await _as_app(request, conn)
        found = await service.app_installation(conn, app, _installation_id(installation_id))
    return json_response(schemas.installation(found, api_base(request), web_base(request)))


@delete(INSTALLATION, status_code=200)
async def delete_installation(request: AnyRequest, installation_id: FromPath[str], db: Db) -> Response[bytes]:
    async with db.write() as conn:
        app = await _as_app(request, conn)
        await service.uninstall(
            conn, await service.app_installation(conn, app, _installation_id(installation_id))
        )
    # API 2026-03-10 answers 202: GitHub finishes an uninstallation later (Waybill already has).
    return no_content(202 if api_version(request) >= "2026-03-10" else 204)


async def _change_installation(
    request: AnyRequest,
    installation_id: str,
    db: Database,
    change: Callable[[AsyncConnection, Installation], Awaitable[None]],
) -> Response[bytes]:
    async with db.write() as conn:
        app = await _as_app(request, conn)
        await change(conn, await service.app_installation(conn, app, _installation_id(installation_id)))
    return no_content()


@put(INSTALLATION + "/suspended", status_code=200)
async def suspend_installation(
    request: AnyRequest, installation_id: FromPath[str], db: Db
) -> Response[bytes]:
    return await _change_installation(request, installation_id, db, service.suspend)


@delete(INSTALLATION + "/suspended", status_code=200)
async def unsuspend_installation(
    request: AnyRequest, installation_id: FromPath[str], db: Db
) -> Response[bytes]:
    return await _change_installation(request, installation_id, db, service.unsuspend)


@get("/orgs/{org:str}/installation")
async def get_org_installation(request: AnyRequest, org: FromPath[str], db: Db) -> Response[bytes]:
    async with db.read() as conn:
        app = await _as_app(request, conn)
        found = await service.installation_for_account(conn, app, org, org=True)
    return json_response(schemas.installation(found, api_base(request), web_base(request)))


@get("/users/{username:str}/installation")
async def get_user_installation(request: AnyRequest, username: FromPath[str], db: Db) -> Response[bytes]:
    async with db.read() as conn:
        app = await _as_app(request, conn)
        found = await service.installation_for_account(conn, app, username, org=False)
    return json_response(schemas.installation(found, api_base(request), web_base(request)))


@get("/repos/{owner:str}/{repo:str}/installation")
async def get_repo_installation(
    request: AnyRequest, owner: FromPath[str], repo: FromPath[str], db: Db
) -> Response[bytes]:
    async with db.read() as conn:
        app = await _as_app(request, conn)
        found = await service.installation_for_repository(conn, app, owner, repo)
    return json_response(schemas.installation(found, api_base(request), web_base(request)))


@post(INSTALLATION + "/access_tokens")
async def create_access_token(request: AnyRequest, installation_id: FromPath[str], db: Db) -> Response[bytes]:
    raw = await request.body()
    # Clients that want the installation's full grant send no body, or (Go clients) JSON null.
    body = (
        schemas.CreateToken()
        if raw.strip() in (b"", b"null")
        else decode(raw, schemas.CreateToken, "Installation")
    )
    wanted = service.TokenRequest(body.repositories, body.repository_ids, body.permissions)
    async with db.write() as conn:
        app = await _as_app(request, conn)
        issued = await service.create_token(conn, app, _installation_id(installation_id), wanted)
        repos = await service.repositories_by_ids(conn, issued.repository_ids or [])
    data = schemas.installation_token(
        issued, repos, api_base(request), web_base(request), api_version(request)
    )
    return json_response(data, 201)


@get("/installation/repositories")
async def list_repositories(request: AnyRequest, caller: Caller, read_conn: ReadConn) -> Response[bytes]:
    size, current = per_page(request), page(request)
    _, total, repos = await service.repositories_of_token(
        read_conn, caller, limit=size, offset=(current - 1) * size
    )
    token = caller.token
    assert token is not None
    selection = RepositorySelection.ALL if token.repository_ids is None else RepositorySelection.SELECTED
    data = schemas.installation_repositories(
        total, repos, selection, api_base(request), web_base(request), api_version(request)
    )
    return json_response(data, headers=page_links(request, current, max(1, -(-total // size))))


@delete("/installation/token", status_code=200)
async def revoke_token(caller: Caller, write_conn: WriteConn) -> Response[bytes]:
    await service.revoke_own_token(write_conn, caller)
    return no_content()


# Site administrators register and install apps over HTTP, as the CLI does.


@post("/waybill/apps")
async def register_app(request: AnyRequest, caller: Caller, write_conn: WriteConn) -> Response[bytes]:
    body = await parse_body(request, schemas.RegisterApp, "App")
    permissions.require_site_admin(caller)
    created = await service.create_app(
        write_conn,
        body.slug,
        owner=body.owner,
        permissions=dict(body.permissions),
        public_key=body.public_key,
        name=body.name,
    )
    data = schemas.registered(created.app, created.private_key, 0, api_base(request), web_base(request))
    return json_response(data, 201)


@post("/waybill/apps/{slug:str}/installations")
async def install_app(
    request: AnyRequest, slug: FromPath[str], caller: Caller, write_conn: WriteConn
) -> Response[bytes]:
    body = await parse_body(request, schemas.InstallApp, "Installation")
    permissions.require_site_admin(caller)
    found = await service.install(write_conn, slug, body.account, body.repositories)
    return json_response(schemas.installation(found, api_base(request), web_base(request)), 201)


route_handlers = [
    get_authenticated,
    list_installations,
    get_installation,
    delete_installation,
    suspend_installation,
    unsuspend_installation,
    get_org_installation,
    get_user_installation,
    get_repo_installation,
    create_access_token,
    list_repositories,
    revoke_token,
    register_app,
    install_app,
]
