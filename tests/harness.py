"""A running Waybill for tests: the ASGI app on a real database, an HTTP client, and named helpers
that provision users, organizations, repositories and tokens through the services."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import httpx
from asgi_lifespan import LifespanManager
from sqlalchemy.ext.asyncio import AsyncConnection

from waybill.accounts import service as accounts
from waybill.accounts.types import Account, OrgRole, Repository, Role
from waybill.app import WaybillApp, create_app
from waybill.auth import tokens
from waybill.config import Settings
from waybill.core.db import Database

T = TypeVar("T")


class HttpClient:
    """GitHub-style requests (token, API version) through an httpx client, in-process or over the network."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def request(
        self,
        method: str,
        path: str,
        *,
        token: str | None = None,
        version: str | None = None,
        headers: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        all_headers = dict(headers or {})
        if token is not None:
            all_headers["Authorization"] = f"Bearer {token}"
        if version is not None:
            all_headers["X-GitHub-Api-Version"] = version
        return await self.client.request(method, path, headers=all_headers, **kwargs)

    async def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return await self.request("GET", path, **kwargs)

    async def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return await self.request("POST", path, **kwargs)

    async def delete(self, path: str, **kwargs: Any) -> httpx.Response:
        return await self.request("DELETE", path, **kwargs)

    async def patch(self, path: str, **kwargs: Any) -> httpx.Response:
        return await self.request("PATCH", path, **kwargs)


class Harness(HttpClient):
    def __init__(self, app: WaybillApp, client: httpx.AsyncClient, backend: str) -> None:
        super().__init__(client)
        self.app = app
        self.backend = backend

    @property
    def db(self) -> Database:
        return self.app.db

    async def tx(self, action: Callable[[AsyncConnection], Awaitable[T]]) -> T:
        async with self.db.write() as conn:
            return await action(conn)

    # Provisioning, straight through the services.

    async def user(self, login: str, *, site_admin: bool = False) -> Account:
        return await self.tx(lambda c: accounts.create_user(c, login, site_admin=site_admin))

    async def org(self, login: str, *, owner: str) -> Account:
        return await self.tx(lambda c: accounts.create_org(c, login, owner))

    async def member(self, org: str, login: str, role: str = "member") -> None:
        await self.tx(lambda c: accounts.add_member(c, org, login, OrgRole(role)))

    async def repo(self, full_name: str, *, private: bool = False) -> Repository:
        owner, _, name = full_name.partition("/")

        async def create(c: AsyncConnection) -> Repository:
            return await accounts.create_repository(
                c, await accounts.get_account(c, owner), name, private=private
            )

        return await self.tx(create)

    async def collaborator(self, full_name: str, login: str, permission: str = "write") -> None:
        await self.tx(lambda c: accounts.add_collaborator(c, full_name, login, Role.parse(permission)))

    async def token(self, login: str, scopes: str = "repo") -> str:
        return await self.tx(lambda c: tokens.create_classic(c, login, scopes.split(",")))

    async def fine_grained(
        self,
        login: str,
        *,
        owner: str,
        permissions: dict[str, str],
        repositories: list[str] | None = None,
        expires_in_days: int | None = None,
    ) -> str:
        return await self.tx(
            lambda c: tokens.create_fine_grained(
                c,
                login,
                resource_owner=owner,
                repositories=repositories,
                permissions=permissions,
                expires_in_days=expires_in_days,
            )
        )


@asynccontextmanager
async def running(settings: Settings, backend: str) -> AsyncIterator[Harness]:
    """The app with its lifespan started, and a client talking to it in-process."""
    app = create_app(settings)
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://waybill.test") as client:
            yield Harness(app, client, backend)
