"""All SQL of the accounts domain."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import Row, Table, and_, delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from waybill.accounts.models import accounts, collaborators, memberships, repositories
from waybill.accounts.types import Account, AccountType, OrgRole, Repository, Role, own_role
from waybill.core.db import upsert
from waybill.core.drivers import utc

_owner = accounts.alias("owner")


def account_from_row(row: Any, prefix: str = "") -> Account:
    m = row._mapping
    return Account(
        id=m[f"{prefix}id"],
        login=m[f"{prefix}login"],
        type=AccountType(m[f"{prefix}type"]),
        name=m[f"{prefix}name"],
        email=m[f"{prefix}email"],
        site_admin=m[f"{prefix}site_admin"],
        created_at=m[f"{prefix}created_at"],
        updated_at=m[f"{prefix}updated_at"],
    )


# An account's columns in a statement run through the drivers, as ``account_from_values`` reads them.
ACCOUNT_COLUMNS = ("id", "login", "type", "name", "email", "site_admin", "created_at", "updated_at")


def account_from_values(values: Sequence[Any]) -> Account:
    """An account from a driver's row whose first values are ``ACCOUNT_COLUMNS``."""
    return Account(
        id=values[0],
        login=values[1],
        type=AccountType(values[2]),
        name=values[3],
        email=values[4],
        site_admin=bool(values[5]),
        created_at=utc(values[6]),
        updated_at=utc(values[7]),
    )


def _repository(row: Row[Any]) -> Repository:
    m = row._mapping
    return Repository(
        id=m["id"],
        owner=account_from_row(row, "owner__"),
        name=m["name"],
        private=m["private"],
        description=m["description"],
        default_branch=m["default_branch"],
        created_at=m["created_at"],
        updated_at=m["updated_at"],
    )


_repository_select = select(
    repositories,
    *(c.label(f"owner__{c.name}") for c in _owner.c),
).join(_owner, _owner.c.id == repositories.c.owner_id)


async def count_accounts(conn: AsyncConnection) -> int:
    return int((await conn.execute(select(func.count()).select_from(accounts))).scalar_one())


async def insert_account(
    conn: AsyncConnection,
    *,
    login: str,
    type_: AccountType,
    site_admin: bool,
    name: str | None,
    email: str | None,
    now: datetime,
) -> Account | None:
    """Insert, or return None when the login is taken (case-insensitively)."""
    stmt = (
        upsert(conn, accounts)
        .values(
            login=login,
            login_key=login.lower(),
            type=type_,
            site_admin=site_admin,
            name=name,
            email=email,
            created_at=now,
            updated_at=now,
        )
        .on_conflict_do_nothing(index_elements=["login_key"])
        .returning(*accounts.c)
    )
    row = (await conn.execute(stmt)).first()
    return None if row is None else account_from_row(row)


async def account_by_login(conn: AsyncConnection, login: str) -> Account | None:
    row = (await conn.execute(select(accounts).where(accounts.c.login_key == login.lower()))).first()
    return None if row is None else account_from_row(row)


@lru_cache(maxsize=1024)
def org_id_by_login(login: str) -> Any:
    """The id of the organization ``login`` as a scalar subquery (NULL when there is none), so that
    a read scoped to an organization needs no statement of its own to find it. Memoized, as the
    same few organizations are named again and again (SQL elements are immutable)."""
    return (
        select(accounts.c.id)
        .where(accounts.c.login_key == login.lower(), accounts.c.type == AccountType.ORGANIZATION)
        .scalar_subquery()
    )


async def account_by_id(conn: AsyncConnection, account_id: int) -> Account | None:
    row = (await conn.execute(select(accounts).where(accounts.c.id == account_id))).first()
    return None if row is None else account_from_row(row)


async def organizations_of_user(conn: AsyncConnection, user_id: int) -> list[Account]:
    rows = await conn.execute(
        select(accounts)
        .join(memberships, memberships.c.org_id == accounts.c.id)
        .where(memberships.c.user_id == user_id)
        .order_by(accounts.c.login_key)
    )
    return [account_from_row(row) for row in rows]


async def accounts_by_ids(conn: AsyncConnection, ids: Iterable[int]) -> dict[int, Account]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = await conn.execute(select(accounts).where(accounts.c.id.in_(wanted)))
    return {row.id: account_from_row(row) for row in rows}


async def accounts_by_logins(conn: AsyncConnection, logins: Iterable[str]) -> dict[str, Account]:
    """By lower-cased login."""
    wanted = sorted({login.lower() for login in logins})
    if not wanted:
        return {}
    rows = await conn.execute(select(accounts).where(accounts.c.login_key.in_(wanted)))
    return {row.login_key: account_from_row(row) for row in rows}


async def set_membership(conn: AsyncConnection, org_id: int, user_id: int, role: OrgRole) -> None:
    stmt = upsert(conn, memberships).values(org_id=org_id, user_id=user_id, role=role)
    await conn.execute(stmt.on_conflict_do_update(index_elements=["org_id", "user_id"], set_={"role": role}))


async def membership_role(conn: AsyncConnection, org_id: int, user_id: int) -> OrgRole | None:
    role = (
        await conn.execute(
            select(memberships.c.role).where(memberships.c.org_id == org_id, memberships.c.user_id == user_id)
        )
    ).scalar()
    return None if role is None else OrgRole(role)


async def insert_repository(
    conn: AsyncConnection,
    *,
    owner_id: int,
    name: str,
    private: bool,
    description: str | None,
    default_branch: str,
    now: datetime,
) -> int | None:
    stmt = (
        upsert(conn, repositories)
        .values(
            owner_id=owner_id,
            name=name,
            name_key=name.lower(),
            private=private,
            description=description,
            default_branch=default_branch,
            created_at=now,
            updated_at=now,
        )
        .on_conflict_do_nothing(index_elements=["owner_id", "name_key"])
        .returning(repositories.c.id)
    )
    return (await conn.execute(stmt)).scalar()


async def repository_by_name(conn: AsyncConnection, owner_login: str, name: str) -> Repository | None:
    row = (
        await conn.execute(
            _repository_select.where(
                _owner.c.login_key == owner_login.lower(), repositories.c.name_key == name.lower()
            )
        )
    ).first()
    return None if row is None else _repository(row)


async def repositories_by_ids(conn: AsyncConnection, ids: Iterable[int]) -> dict[int, Repository]:
    wanted = list(set(ids))
    if not wanted:
        return {}
    rows = await conn.execute(_repository_select.where(repositories.c.id.in_(wanted)))
    return {row.id: _repository(row) for row in rows}


async def repositories_by_names(
    conn: AsyncConnection, owner_id: int, names: Iterable[str]
) -> dict[str, Repository]:
    """Repositories of one owner, keyed by lower-cased name."""
    keys = list({n.lower() for n in names})
    if not keys:
        return {}
    rows = await conn.execute(
        _repository_select.where(repositories.c.owner_id == owner_id, repositories.c.name_key.in_(keys))
    )
    return {row.name_key: _repository(row) for row in rows}


async def repositories_owned(
    conn: AsyncConnection, owner_id: int, ids: Iterable[int] | None, *, limit: int, offset: int
) -> tuple[int, list[Repository]]:
    """The owner's repositories (only ``ids`` among them, unless None), by id: how many, and a page."""
    where = [repositories.c.owner_id == owner_id]
    if ids is not None:
        where.append(repositories.c.id.in_(sorted(ids)))
    total = (await conn.execute(select(func.count()).select_from(repositories).where(*where))).scalar_one()
    rows = await conn.execute(
        _repository_select.where(*where).order_by(repositories.c.id).limit(limit).offset(offset)
    )
    return int(total), [_repository(row) for row in rows]


async def set_collaborator(conn: AsyncConnection, repository_id: int, user_id: int, role: Role) -> None:
    stmt = upsert(conn, collaborators).values(
        repository_id=repository_id, user_id=user_id, permission=role.label
    )
    await conn.execute(
        stmt.on_conflict_do_update(
            index_elements=["repository_id", "user_id"], set_={"permission": role.label}
        )
    )


async def roles(conn: AsyncConnection, user: Account, repos: Sequence[Repository]) -> dict[int, Role]:
    """The user's own role on each repository (ownership, organization membership, collaboration)."""
    org_ids = {r.owner.id for r in repos if r.owner.is_org}
    org_roles: dict[int, OrgRole] = {}
    if org_ids:
        rows = await conn.execute(
            select(memberships.c.org_id, memberships.c.role).where(
                and_(memberships.c.user_id == user.id, memberships.c.org_id.in_(org_ids))
            )
        )
        org_roles = {row.org_id: OrgRole(row.role) for row in rows}
    rows = await conn.execute(
        select(collaborators.c.repository_id, collaborators.c.permission).where(
            collaborators.c.user_id == user.id, collaborators.c.repository_id.in_([r.id for r in repos])
        )
    )
    collaborations = {row.repository_id: Role.parse(row.permission) for row in rows}
    return {r.id: own_role(user, r.owner, org_roles.get(r.owner.id), collaborations.get(r.id)) for r in repos}


def readable_by_user(user_id: int) -> Any:
    """SQL condition on ``repositories`` for the repositories a user may read through their own role."""
    return (
        (repositories.c.owner_id == user_id)
        | repositories.c.owner_id.in_(select(memberships.c.org_id).where(memberships.c.user_id == user_id))
        | repositories.c.id.in_(
            select(collaborators.c.repository_id).where(collaborators.c.user_id == user_id)
        )
    )


# Alert assignees: each alert kind keeps them in a table of its own, of (alert_id, user_id) rows.

_ASSIGNEE_CHUNK = 500


async def set_assignees(conn: AsyncConnection, table: Table, alert_id: int, user_ids: Sequence[int]) -> None:
    await conn.execute(delete(table).where(table.c.alert_id == alert_id))
    if user_ids:
        await conn.execute(
            insert(table), [{"alert_id": alert_id, "user_id": u} for u in sorted(set(user_ids))]
        )


async def assignees_of(
    conn: AsyncConnection, table: Table, alert_ids: Collection[int]
) -> dict[int, list[int]]:
    out: dict[int, list[int]] = {}
    ids = sorted(alert_ids)
    for start in range(0, len(ids), _ASSIGNEE_CHUNK):
        rows = await conn.execute(
            select(table.c.alert_id, table.c.user_id)
            .where(table.c.alert_id.in_(ids[start : start + _ASSIGNEE_CHUNK]))
            .order_by(table.c.alert_id, table.c.user_id)
        )
        for alert_id, user_id in rows:
            out.setdefault(alert_id, []).append(user_id)
    return out
