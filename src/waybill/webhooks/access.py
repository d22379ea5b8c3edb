"""Who may manage hooks, as GitHub documents it.

- Organization hooks: an owner of the organization; classic tokens need ``admin:org_hook``,
  fine-grained ones the organization permission ``organization_hooks`` (read to read, write to change).
  Anyone else is told the hooks do not exist (404), as GitHub does.
- Repository hooks: an admin of the repository; classic tokens need ``repo`` or ``admin:repo_hook``
  (``write:repo_hook`` reads and writes but does not delete, ``read:repo_hook`` reads), fine-grained
  ones the repository permission ``repository_hooks``. A repository the caller cannot see is a 404; a
  visible one without the rights, a 403 naming them.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from sqlalchemy.ext.asyncio import AsyncConnection

from waybill.accounts import service as accounts
from waybill.accounts.types import Account, Repository, Role
from waybill.auth import permissions
from waybill.auth.types import Need, Principal, TokenKind
from waybill.core.errors import Forbidden, NotFound, Unauthenticated


class Level(IntEnum):
    READ = 1
    WRITE = 2
    ADMIN = 3


_REPO_SCOPES = {
    Level.READ: frozenset({"repo", "admin:repo_hook", "write:repo_hook", "read:repo_hook"}),
    Level.WRITE: frozenset({"repo", "admin:repo_hook", "write:repo_hook"}),
    Level.ADMIN: frozenset({"repo", "admin:repo_hook"}),
}
_SCOPE_NAMES = {Level.READ: "read:repo_hook", Level.WRITE: "write:repo_hook", Level.ADMIN: "admin:repo_hook"}


@dataclass(frozen=True)
class Target:
    """Whose hooks a request manages: an organization's, or one repository's."""

    owner: Account
    repository: Repository | None

    @property
    def path(self) -> str:
        if self.repository is None:
            return f"/orgs/{self.owner.login}/hooks"
        return f"/repos/{self.repository.full_name}/hooks"


def _fine_grained_level(level: Level) -> Role:
    return Role.READ if level is Level.READ else Role.WRITE


async def organization(conn: AsyncConnection, principal: Principal, login: str, level: Level) -> Target:
    org = await permissions.require_org_owner(conn, principal, login)
    token = principal.token
    assert token is not None
    if token.kind is TokenKind.CLASSIC:
        if "admin:org_hook" not in token.scopes:
            raise Forbidden(
                "Resource not accessible by personal access token (requires the admin:org_hook scope)."
            )
    elif token.resource_owner_id != org.id or token.level("organization_hooks") < _fine_grained_level(level):
        needed = "read" if level is Level.READ else "write"
        raise Forbidden(
            f"Resource not accessible by personal access token (requires organization_hooks:{needed})."
        )
    return Target(org, None)


async def repository(
    conn: AsyncConnection, principal: Principal, owner: str, name: str, level: Level
) -> Target:
    repo = await accounts.find_repository(conn, owner, name)
    if repo is None:
        raise NotFound()
    roles = await permissions.effective_roles(conn, principal, [repo])
    refusal = permissions.decide(principal, repo, roles[repo.id], Need(Role.READ, ("metadata",)))
    if refusal is not None:
        raise refusal
    token = principal.token
    if token is None:
        raise Unauthenticated()
    if roles[repo.id] < Role.ADMIN:
        raise Forbidden(f"Must have admin access to repository {repo.full_name}.")
    if token.kind is TokenKind.CLASSIC:
        if not token.scopes & _REPO_SCOPES[level]:
            scope = _SCOPE_NAMES[level]
            raise Forbidden(f"Resource not accessible by personal access token (requires the {scope} scope).")
    else:
        reaches = repo.owner.id == token.resource_owner_id and (
            token.repository_ids is None or repo.id in token.repository_ids
        )
        if not reaches or token.level("repository_hooks") < _fine_grained_level(level):
            needed = "read" if level is Level.READ else "write"
            raise Forbidden(
                f"Resource not accessible by personal access token (requires repository_hooks:{needed})."
            )
    return Target(repo.owner, repo)
