"""HTTP handlers for users, organizations and repositories."""

from __future__ import annotations

from litestar import Response, get, post
from litestar.params import FromPath
from sqlalchemy.ext.asyncio import AsyncConnection

from waybill.accounts import schemas
from waybill.accounts import service as accounts
from waybill.accounts.types import Account, Repository, Role
from waybill.auth import permissions
from waybill.auth.types import Need, Principal
from waybill.core.errors import NotFound
from waybill.http.body import parse_body
from waybill.http.context import AnyRequest, Caller, ReadConn, WriteConn, api_base, api_version, web_base
from waybill.http.responses import json_response

READ_METADATA = Need(Role.READ, ("metadata",))


@get("/", sync_to_thread=False)
def index(request: AnyRequest) -> Response[bytes]:
    return json_response(schemas.root(api_base(request), web_base(request), api_version(request)))


@get("/waybill/ping", sync_to_thread=False)
def ping() -> Response[bytes]:
    """The HTTP stack's ceiling: every middleware, no database. The benchmarks measure against it."""
    return json_response({"ok": True})


@get("/user")
async def current_user(request: AnyRequest, caller: Caller) -> Response[bytes]:
    user = permissions.require_authenticated(caller)
    return json_response(schemas.user(user, api_base(request), web_base(request)))


@get("/users/{username:str}")
async def get_user(request: AnyRequest, username: FromPath[str], read_conn: ReadConn) -> Response[bytes]:
    account = await accounts.find_account(read_conn, username)
    if account is None:
        raise NotFound()
    return json_response(schemas.user(account, api_base(request), web_base(request)))


@get("/orgs/{org:str}")
async def get_org(request: AnyRequest, org: FromPath[str], read_conn: ReadConn) -> Response[bytes]:
    account = await accounts.find_account(read_conn, org)
    if account is None or not account.is_org:
        raise NotFound()
    return json_response(schemas.organization(account, api_base(request), web_base(request)))


@get("/repos/{owner:str}/{repo:str}")
async def get_repository(
    request: AnyRequest, owner: FromPath[str], repo: FromPath[str], caller: Caller, read_conn: ReadConn
) -> Response[bytes]:
    found = await accounts.find_repository(read_conn, owner, repo)
    if found is None:
        raise NotFound()
    await permissions.require(read_conn, caller, found, READ_METADATA)
    return json_response(
        schemas.repository(found, api_base(request), web_base(request), api_version(request))
    )


@post("/admin/users")
async def admin_create_user(request: AnyRequest, caller: Caller, write_conn: WriteConn) -> Response[bytes]:
    body = await parse_body(request, schemas.CreateUser, "User")
    permissions.require_site_admin(caller)
    created = await accounts.create_user(write_conn, body.login, email=body.email)
    return json_response(schemas.user(created, api_base(request), web_base(request)), 201)


@post("/admin/organizations")
async def admin_create_org(request: AnyRequest, caller: Caller, write_conn: WriteConn) -> Response[bytes]:
    body = await parse_body(request, schemas.CreateOrganization, "Organization")
    permissions.require_site_admin(caller)
    created = await accounts.create_org(write_conn, body.login, body.admin, name=body.profile_name)
    return json_response(schemas.organization(created, api_base(request), web_base(request)), 201)


@post("/orgs/{org:str}/repos")
async def create_org_repository(
    request: AnyRequest, org: FromPath[str], caller: Caller, write_conn: WriteConn
) -> Response[bytes]:
    body = await parse_body(request, schemas.CreateRepository, "Repository")
    owner = await accounts.find_account(write_conn, org)
    if owner is None or not owner.is_org:
        raise NotFound()
    created = await _create_repository(write_conn, caller, owner, body)
    return json_response(
        schemas.repository(created, api_base(request), web_base(request), api_version(request)), 201
    )


@post("/user/repos")
async def create_user_repository(
    request: AnyRequest, caller: Caller, write_conn: WriteConn
) -> Response[bytes]:
    body = await parse_body(request, schemas.CreateRepository, "Repository")
    owner = permissions.require_authenticated(caller)
    created = await _create_repository(write_conn, caller, owner, body)
    return json_response(
        schemas.repository(created, api_base(request), web_base(request), api_version(request)), 201
    )


async def _create_repository(
    conn: AsyncConnection, caller: Principal, owner: Account, body: schemas.CreateRepository
) -> Repository:
    private = body.private if body.visibility is None else body.visibility != "public"
    await permissions.require_repository_creation(conn, caller, owner, private)
    return await accounts.create_repository(
        conn, owner, body.name, private=private, description=body.description
    )


route_handlers = [
    index,
    ping,
    current_user,
    get_user,
    get_org,
    get_repository,
    admin_create_user,
    admin_create_org,
    create_org_repository,
    create_user_repository,
]
