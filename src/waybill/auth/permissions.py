"""Who may do what with a repository: the user's own role, narrowed by the token they act through.

GitHub's rules, kept everywhere: a repository the caller may not see answers 404; a visible one
without the needed permission answers 403 naming that permission.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncConnection

from waybill.accounts import service as accounts
from waybill.accounts.types import Account, OrgRole, Repository, Role
from waybill.auth import repository
from waybill.auth.repository import RepositoryIds
from waybill.auth.types import Need, Principal, Token, TokenKind
from waybill.core.errors import Forbidden, NotFound, Unauthenticated


def _token_reaches(token: Token, repo: Repository) -> bool:
    """Whether a fine-grained token was granted this repository."""
    return repo.owner.id == token.resource_owner_id and (
        token.repository_ids is None or repo.id in token.repository_ids
    )


def _visible(principal: Principal, repo: Repository, role: Role) -> bool:
    if not repo.private:
        return True
    if role < Role.READ or principal.token is None:
        return False
    token = principal.token
    if token.kind is TokenKind.CLASSIC:
        return "repo" in token.scopes
    return _token_reaches(token, repo)


def _token_missing(token: Token, repo: Repository, need: Need) -> str | None:
    """What the token lacks for ``need`` on a visible repository, or None."""
    if token.kind is TokenKind.CLASSIC:
        if need.role is Role.READ or "repo" in token.scopes:
            return None
        if not repo.private and "public_repo" in token.scopes:
            return None
        return "the repo scope"
    if not _token_reaches(token, repo):
        # Fine-grained tokens read every public repository, and write none they were not granted.
        return None if need.role is Role.READ else need.describe()
    level = Role.READ if need.role is Role.READ else Role.WRITE
    if any(token.level(p) >= level for p in need.permissions):
        return None
    return need.describe()


def acting_role(principal: Principal, repo: Repository, role: Role) -> Role:
    """The role the caller acts with: an integration token's bot has no role of its own, so on the
    repositories its token reaches it acts as an administrator, narrowed by the token's permissions
    like any fine-grained token; elsewhere it keeps what everyone has (read, on public ones)."""
    token = principal.token
    if token is not None and token.integration and _token_reaches(token, repo):
        return Role.ADMIN
    return role


def effective_role(repo: Repository, own: Role) -> Role:
    """Everyone reads a public repository."""
    return max(own, Role.NONE if repo.private else Role.READ)


async def effective_roles(
    conn: AsyncConnection, principal: Principal, repos: Sequence[Repository]
) -> dict[int, Role]:
    own = {} if principal.user is None else await accounts.roles(conn, principal.user, repos)
    return {r.id: effective_role(r, own.get(r.id, Role.NONE)) for r in repos}


def decide(principal: Principal, repo: Repository, role: Role, need: Need) -> Exception | None:
    """The error that refuses ``need`` (404, 401 or 403), or None when it is allowed."""
    role = acting_role(principal, repo, role)
    if not _visible(principal, repo, role):
        return NotFound()
    if principal.token is None:
        return None if need.role is Role.READ else Unauthenticated()
    if role < need.role:
        if principal.token.integration:
            # An integration has no role to name: only the repository its token does not reach.
            return Forbidden(f"Resource not accessible by integration (requires {need.describe()}).")
        return Forbidden(f"Must have {need.role.label} access to repository {repo.full_name}.")
    missing = _token_missing(principal.token, repo, need)
    if missing is not None:
        return Forbidden(f"Resource not accessible by {principal.token.refusal} (requires {missing}).")
    return None


async def require(conn: AsyncConnection, principal: Principal, repo: Repository, need: Need) -> None:
    roles = await effective_roles(conn, principal, [repo])
    require_role(principal, repo, roles[repo.id], need)


def require_role(principal: Principal, repo: Repository, role: Role, need: Need) -> None:
    """``require``, for a caller whose effective role on ``repo`` was read already."""
    error = decide(principal, repo, role, need)
    if error is not None:
        raise error


async def allowed(
    conn: AsyncConnection, principal: Principal, repos: Sequence[Repository], need: Need
) -> dict[int, Exception | None]:
    """For each repository, None when ``need`` is allowed, else the error that refuses it."""
    roles = await effective_roles(conn, principal, repos)
    return {r.id: decide(principal, r, roles[r.id], need) for r in repos}


def readable_repository_ids(principal: Principal, need: Need) -> RepositoryIds:
    """A subquery of the ids of repositories whose ``need`` (a read) the caller has.

    Lists use it to leave out, silently and inside SQL so that pages stay full, what the caller
    may not read.
    """
    user, token = principal.user, principal.token
    if user is None or token is None:
        return repository.readable_ids(None, False, None, None)
    if token.kind is TokenKind.CLASSIC:
        return repository.readable_ids(
            user.id if "repo" in token.scopes else None, user.site_admin, None, None
        )
    if token.resource_owner_id is None or not any(token.level(p) >= Role.READ for p in need.permissions):
        return repository.readable_ids(None, False, None, None)
    # An integration reads every private repository its token reaches, as an administrator would.
    return repository.readable_ids(
        user.id, user.site_admin or token.integration, token.resource_owner_id, token.repository_ids
    )


def require_authenticated(principal: Principal) -> Account:
    if principal.user is None:
        raise Unauthenticated()
    return principal.user


def require_site_admin(principal: Principal) -> Account:
    user = require_authenticated(principal)
    token = principal.token
    if not user.site_admin:
        raise NotFound()
    if token is not None and token.kind is TokenKind.CLASSIC and "site_admin" not in token.scopes:
        raise Forbidden("Resource not accessible by personal access token (requires the site_admin scope).")
    if token is not None and token.kind is not TokenKind.CLASSIC:
        raise Forbidden(f"Resource not accessible by {token.refusal} (requires a classic token).")
    return user


async def require_repository_creation(
    conn: AsyncConnection, principal: Principal, owner: Account, private: bool
) -> None:
    """Creating a repository: the user themself, or a member of the organization (GitHub's default
    lets members create repositories), through a token that may administer repositories."""
    user = require_authenticated(principal)
    if owner.is_org:
        role = await accounts.org_role(conn, owner, user)
        if role is None and not user.site_admin:
            raise NotFound()
    elif owner.id != user.id:
        raise Forbidden("Must be the owner to create a repository for this account.")
    token = principal.token
    assert token is not None
    if token.kind is TokenKind.CLASSIC:
        if "repo" in token.scopes or (not private and "public_repo" in token.scopes):
            return
        raise Forbidden("Resource not accessible by personal access token (requires the repo scope).")
    if token.resource_owner_id != owner.id or token.level("administration") < Role.WRITE:
        raise Forbidden(f"Resource not accessible by {token.refusal} (requires administration:write).")


async def require_org_member(conn: AsyncConnection, principal: Principal, org: Account) -> OrgRole:
    user = require_authenticated(principal)
    role = await accounts.org_role(conn, org, user)
    if role is None:
        if user.site_admin:
            return OrgRole.OWNER
        raise NotFound()
    return role


async def require_org_owner(conn: AsyncConnection, principal: Principal, login: str) -> Account:
    """The organization ``login``, when the caller owns it: to anyone else it does not exist (404),
    as GitHub answers on its owner-only routes."""
    org = await accounts.get_org(conn, login)
    if principal.user is None:
        raise Unauthenticated()
    if await require_org_member(conn, principal, org) is not OrgRole.OWNER:
        raise NotFound()
    return org
