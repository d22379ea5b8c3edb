"""What a handler needs from the request: the database, the caller, the API version and base URL.

The database, the caller and a connection are Litestar dependencies (``DEPENDENCIES``): a handler
names them as parameters (``db``, ``caller``, ``read_conn``, ``write_conn`` or ``query_conn``) and
receives them resolved. A connection's transaction spans the handler and the building of its
response, and commits before the response is sent; a handler that raises rolls it back."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from litestar import Request
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath
from sqlalchemy.ext.asyncio import AsyncConnection

from waybill.accounts.types import Repository
from waybill.auth import tokens
from waybill.auth.types import ANONYMOUS, Principal, TokenKind
from waybill.config import Settings
from waybill.core import audit
from waybill.core.db import Database
from waybill.core.signing import Signer
from waybill.http.conventions import DEFAULT_API_VERSION

AnyRequest = Request[Any, Any, Any]


def database(request: AnyRequest) -> Database:
    db: Database = request.app.state.db
    return db


def settings(request: AnyRequest) -> Settings:
    value: Settings = request.app.state.settings
    return value


def signer(request: AnyRequest) -> Signer:
    value: Signer = request.app.state.signer
    return value


def api_version(request: AnyRequest) -> str:
    version: str = request.scope.get("state", {}).get("api_version", DEFAULT_API_VERSION)
    return version


def api_base(request: AnyRequest) -> str:
    """The URL prefix the client used (``http://host:port`` or ``.../api/v3``), for links in bodies."""
    public = settings(request).public_url
    root = request.scope.get("root_path", "")
    if public:
        return public + root
    return f"{request.url.scheme}://{request.headers.get('host', 'localhost')}{root}"


def web_base(request: AnyRequest) -> str:
    public = settings(request).public_url
    return public or f"{request.url.scheme}://{request.headers.get('host', 'localhost')}"


async def principal(request: AnyRequest, conn: AsyncConnection | None = None) -> Principal:
    """The caller, resolved once per request from its ``Authorization`` header. Without ``conn``, a
    token this process has not cached is looked up on a connection of its own."""
    state = request.scope.setdefault("state", {})
    cached: Principal | None = state.get("principal")
    if cached is not None:
        return cached
    header = request.headers.get("authorization")
    if not header:
        resolved = ANONYMOUS
    else:
        raw = tokens.parse_authorization(header)
        max_age = settings(request).token_cache_seconds
        db = database(request)
        found = tokens.cached(db.engine.url, raw, max_age)

        async def lookup() -> Principal:
            if conn is not None:
                return await tokens.authenticate(conn, raw, max_age=max_age)
            async with db.query() as own:
                return await tokens.authenticate(own, raw, max_age=max_age)

        resolved = found if found is not None else await tokens.looked_up_once(db.engine.url, raw, lookup)
    state["principal"] = resolved
    if resolved.user is not None:
        audit.set_actor(actor_of(resolved))
    return resolved


_ACTOR_TYPES = {TokenKind.INSTALLATION: audit.ActorType.APP, TokenKind.PUBLISHER: audit.ActorType.PUBLISHER}


def actor_of(caller: Principal) -> audit.Actor:
    """The audit log's name of a caller: a user, or the app or trusted publisher acting as its bot."""
    assert caller.user is not None
    kind = TokenKind.CLASSIC if caller.token is None else caller.token.kind
    return audit.Actor(_ACTOR_TYPES.get(kind, audit.ActorType.USER), caller.user.login, caller.user.id)


# A handler's parameters for its dependencies, each by the name it is registered under.
Db = NamedDependency[Database]
Caller = NamedDependency[Principal]
ReadConn = NamedDependency[AsyncConnection]
WriteConn = NamedDependency[AsyncConnection]
QueryConn = NamedDependency[AsyncConnection]


async def _caller(request: AnyRequest, db: Db) -> Principal:
    del db  # named so that Litestar resolves it first, alone (see ``DEPENDENCIES``)
    return await principal(request)


# Each connection names the caller so that the caller is resolved before the connection is taken: a
# bad token is refused without one, and a token's look-up never waits for a second connection while
# holding the first (which a full pool would turn into a deadlock). A request's body is received
# before it too (and kept for the handler): a slow client never holds a connection, or the write.


async def _received(request: AnyRequest) -> None:
    if request.method not in _BODILESS:
        await request.body()


_BODILESS = frozenset(("GET", "HEAD"))


async def _read_conn(request: AnyRequest, db: Db, caller: Caller) -> AsyncIterator[AsyncConnection]:
    del caller
    await _received(request)
    async with db.read() as conn:
        yield conn


async def _write_conn(request: AnyRequest, db: Db, caller: Caller) -> AsyncIterator[AsyncConnection]:
    del caller
    await _received(request)
    async with db.write() as conn:
        yield conn


async def _query_conn(request: AnyRequest, db: Db, caller: Caller) -> AsyncIterator[AsyncConnection]:
    del caller
    await _received(request)
    async with db.query() as conn:
        yield conn


# A chain (db, then caller, then a connection) rather than siblings: Litestar resolves the
# dependencies of one level together in a task group, which costs more than resolving them in turn.
DEPENDENCIES = {
    "db": Provide(database, sync_to_thread=False),
    "caller": Provide(_caller),
    "read_conn": Provide(_read_conn),
    "write_conn": Provide(_write_conn),
    "query_conn": Provide(_query_conn),
}


# The repository a handler works on, as ``readable`` (the caller may read the data of the domain
# that checks it) or ``writable`` (change it): the domain's check refuses as GitHub does (404, 403)
# before the handler runs. A router registers them for its domain (``repository_dependencies``).
Readable = NamedDependency[Repository]
Writable = NamedDependency[Repository]
RepositoryCheck = Callable[..., Awaitable[Repository]]


def repository_dependencies(check: RepositoryCheck) -> dict[str, Provide]:
    """``check(conn, caller, owner, name, write=...)`` is the domain's: its permission on the
    repository the path names (``{owner}/{repo}``)."""

    async def readable(
        owner: FromPath[str], repo: FromPath[str], caller: Caller, read_conn: ReadConn
    ) -> Repository:
        return await check(read_conn, caller, owner, repo, write=False)

    async def writable(
        owner: FromPath[str], repo: FromPath[str], caller: Caller, write_conn: WriteConn
    ) -> Repository:
        return await check(write_conn, caller, owner, repo, write=True)

    return {"readable": Provide(readable), "writable": Provide(writable)}
