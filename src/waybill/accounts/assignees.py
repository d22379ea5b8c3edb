"""The users that an alert's ``assignees`` name: shared by Dependabot and code scanning alerts, which
sit in different domains."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncConnection

from waybill.accounts import service as accounts
from waybill.accounts.types import Account, Repository, Role


class UnfitAssignees(Exception):
    """Logins that name no user, or a user who may not be assigned; the message says which."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


async def resolve(
    conn: AsyncConnection, logins: Sequence[str], *, writers_of: Repository | None = None
) -> list[Account]:
    """The users, in the order given; with ``writers_of``, each must have write access to it."""
    known = await accounts.accounts_by_logins(conn, logins)
    unknown = [login for login in logins if login.lower() not in known]
    if unknown:
        raise UnfitAssignees(f"unknown users: {', '.join(unknown)}")
    users = [known[login.lower()] for login in logins]
    if writers_of is not None:
        readers = []
        for user in users:
            role = (await accounts.roles(conn, user, [writers_of])).get(writers_of.id, Role.NONE)
            if role < Role.WRITE:
                readers.append(user.login)
        if readers:
            raise UnfitAssignees(f"users without write access to the repository: {', '.join(readers)}")
    return users
