"""The rules of the accounts domain: names, ownership, membership and who may do what."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from sqlalchemy.ext.asyncio import AsyncConnection

from waybill.accounts import repository as repo_sql
from waybill.accounts.types import Account, AccountType, OrgRole, Repository, Role
from waybill.core import audit, clock
from waybill.core.errors import NotFound, ValidationFailed

# GitHub logins: alphanumerics and single inner hyphens, at most 39 characters.
_LOGIN = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$")
_REPO_NAME = re.compile(r"^[A-Za-z0-9._-]{1,100}$")


def _check_login(login: str, resource: str) -> None:
    if not _LOGIN.match(login):
        raise ValidationFailed.one(
            resource,
            "login",
            "invalid",
            "login may only contain alphanumeric characters or single hyphens, "
            "cannot begin or end with a hyphen, and is at most 39 characters",
            login,
        )


async def is_empty(conn: AsyncConnection) -> bool:
    return await repo_sql.count_accounts(conn) == 0


async def create_user(
    conn: AsyncConnection,
    login: str,
    *,
    site_admin: bool = False,
    name: str | None = None,
    email: str | None = None,
) -> Account:
    _check_login(login, "User")
    return await _create(conn, login, AccountType.USER, site_admin=site_admin, name=name, email=email)


async def create_org(
    conn: AsyncConnection, login: str, owner_login: str, *, name: str | None = None
) -> Account:
    _check_login(login, "Organization")
    owner = await get_user(conn, owner_login)
    org = await _create(conn, login, AccountType.ORGANIZATION, site_admin=False, name=name, email=None)
    await repo_sql.set_membership(conn, org.id, owner.id, OrgRole.OWNER)
    await audit.record(conn, org.id, "organization.created", repository_id=None, target=login)
    return org


async def create_bot(conn: AsyncConnection, slug: str) -> Account:
    """The bot account ``SLUG[bot]`` an app acts as; its name is outside the login syntax on purpose,
    so that no user or organization can ever take it."""
    return await _create(conn, f"{slug}[bot]", AccountType.BOT, site_admin=False, name=None, email=None)


async def _create(
    conn: AsyncConnection,
    login: str,
    type_: AccountType,
    *,
    site_admin: bool,
    name: str | None,
    email: str | None,
) -> Account:
    account = await repo_sql.insert_account(
        conn, login=login, type_=type_, site_admin=site_admin, name=name, email=email, now=clock.now()
    )
    if account is None:
        raise ValidationFailed.one(
            "Organization" if type_ is AccountType.ORGANIZATION else "User",
            "login",
            "already_exists",
            f"login already exists: {login}",
            login,
        )
    return account


async def get_account(conn: AsyncConnection, login: str) -> Account:
    account = await repo_sql.account_by_login(conn, login)
    if account is None:
        raise NotFound(f"account not found: {login}")
    return account


async def find_account(conn: AsyncConnection, login: str) -> Account | None:
    return await repo_sql.account_by_login(conn, login)


async def accounts_by_ids(conn: AsyncConnection, ids: Iterable[int]) -> dict[int, Account]:
    return await repo_sql.accounts_by_ids(conn, ids)


async def accounts_by_logins(conn: AsyncConnection, logins: Iterable[str]) -> dict[str, Account]:
    """The accounts with these logins, keyed by lower-cased login (unknown ones left out)."""
    return await repo_sql.accounts_by_logins(conn, logins)


async def get_user(conn: AsyncConnection, login: str) -> Account:
    account = await repo_sql.account_by_login(conn, login)
    if account is None or account.is_org:
        raise NotFound(f"user not found: {login}")
    return account


async def get_org(conn: AsyncConnection, login: str) -> Account:
    account = await repo_sql.account_by_login(conn, login)
    if account is None or not account.is_org:
        raise NotFound()
    return account


async def add_member(conn: AsyncConnection, org_login: str, user_login: str, role: OrgRole) -> None:
    org = await find_account(conn, org_login)
    if org is None or not org.is_org:
        raise NotFound(f"organization not found: {org_login}")
    user = await get_user(conn, user_login)
    await repo_sql.set_membership(conn, org.id, user.id, role)


async def organizations_of(conn: AsyncConnection, user: Account) -> list[Account]:
    """The organizations the user belongs to, by login."""
    return await repo_sql.organizations_of_user(conn, user.id)


async def org_role(conn: AsyncConnection, org: Account, user: Account) -> OrgRole | None:
    return await repo_sql.membership_role(conn, org.id, user.id)


async def create_repository(
    conn: AsyncConnection,
    owner: Account,
    name: str,
    *,
    private: bool = False,
    description: str | None = None,
    default_branch: str = "main",
) -> Repository:
    if not _REPO_NAME.match(name) or name in (".", ".."):
        raise ValidationFailed.one(
            "Repository",
            "name",
            "invalid",
            "name may only contain ASCII letters, digits, '.', '-' and '_', at most 100 characters",
            name,
        )
    repo_id = await repo_sql.insert_repository(
        conn,
        owner_id=owner.id,
        name=name,
        private=private,
        description=description,
        default_branch=default_branch,
        now=clock.now(),
    )
    if repo_id is None:
        raise ValidationFailed.one(
            "Repository", "name", "already_exists", "name already exists on this account", name
        )
    found = await repo_sql.repositories_by_ids(conn, [repo_id])
    # Under its owner, a user as well as an organization: the log is read per account.
    await audit.record(
        conn, owner.id, "repository.created", repository_id=repo_id, target=found[repo_id].full_name
    )
    return found[repo_id]


async def find_repository(conn: AsyncConnection, owner: str, name: str) -> Repository | None:
    return await repo_sql.repository_by_name(conn, owner, name.removesuffix(".git"))


async def get_repository(conn: AsyncConnection, full_name: str) -> Repository:
    owner, _, name = full_name.partition("/")
    repo = await find_repository(conn, owner, name) if owner and name else None
    if repo is None:
        raise NotFound(f"repository not found: {full_name}")
    return repo


async def repositories_by_ids(conn: AsyncConnection, ids: Iterable[int]) -> dict[int, Repository]:
    return await repo_sql.repositories_by_ids(conn, ids)


async def repositories_of(
    conn: AsyncConnection, owner: Account, names: Iterable[str]
) -> dict[str, Repository]:
    """The owner's repositories with these names, keyed by lower-cased name."""
    return await repo_sql.repositories_by_names(conn, owner.id, names)


async def repositories_owned(
    conn: AsyncConnection, owner: Account, ids: Iterable[int] | None, *, limit: int, offset: int
) -> tuple[int, list[Repository]]:
    """A page of the owner's repositories (those of ``ids`` only, unless None), and their number."""
    return await repo_sql.repositories_owned(conn, owner.id, ids, limit=limit, offset=offset)


async def add_collaborator(conn: AsyncConnection, full_name: str, login: str, role: Role) -> None:
    repo = await get_repository(conn, full_name)
    user = await get_user(conn, login)
    await repo_sql.set_collaborator(conn, repo.id, user.id, role)


async def roles(conn: AsyncConnection, user: Account, repos: Sequence[Repository]) -> dict[int, Role]:
    """The user's own role on each repository; site admins administer everything."""
    if user.site_admin:
        return {r.id: Role.ADMIN for r in repos}
    return await repo_sql.roles(conn, user, repos)
