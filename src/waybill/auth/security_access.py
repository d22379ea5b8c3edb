"""Who may see and change a repository's security data (Dependabot alerts, code scanning), as GitHub
documents it; each domain names its fine-grained permission and its table (``alerts.access``,
``codescanning.access``).

- The user: write access to the repository; the organization list: an owner of the organization.
- Classic tokens: ``repo`` or ``security_events`` (``public_repo`` for public repositories).
- Fine-grained tokens: the domain's repository permission, read to list and get, write to change.

Visibility comes first: a private repository the caller cannot see answers 404, as everywhere.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncConnection

from waybill.accounts.types import Account, OrgRole, Repository, Role
from waybill.auth import permissions, repository
from waybill.auth.repository import RepositoryIds
from waybill.auth.types import Principal, Token, TokenKind
from waybill.core.errors import Forbidden, NotFound, Unauthenticated

# Classic scopes granting security data on every repository the user can reach.
FULL_SCOPES = frozenset({"repo", "security_events"})


def _reaches(token: Token, repo: Repository) -> bool:
    return repo.owner.id == token.resource_owner_id and (
        token.repository_ids is None or repo.id in token.repository_ids
    )


@dataclass(frozen=True)
class SecurityAccess:
    """``permission``: the fine-grained repository permission."""

    permission: str

    def _token_refusal(self, token: Token, private: bool, reaches: bool, write: bool) -> Exception | None:
        if token.kind is TokenKind.CLASSIC:
            if token.scopes & FULL_SCOPES or (not private and "public_repo" in token.scopes):
                return None
            return Forbidden(
                "Resource not accessible by personal access token (requires the security_events scope)."
            )
        level = Role.WRITE if write else Role.READ
        if reaches and token.level(self.permission) >= level:
            return None
        return Forbidden(
            f"Resource not accessible by {token.refusal} (requires {self.permission}:{level.label})."
        )

    def decide(self, principal: Principal, repo: Repository, role: Role, *, write: bool) -> Exception | None:
        """The error refusing the repository's data (to read, or to ``write``), or None."""
        role = permissions.acting_role(principal, repo, role)
        token = principal.token
        if repo.private:
            visible = role >= Role.READ and token is not None
            if visible and token is not None and token.kind is TokenKind.CLASSIC:
                visible = bool(token.scopes & FULL_SCOPES)
            elif visible and token is not None:
                visible = _reaches(token, repo)
            if not visible:
                return NotFound()
        if principal.user is None or token is None:
            return Unauthenticated()
        if role < Role.WRITE:
            return Forbidden(f"Must have {Role.WRITE.label} access to repository {repo.full_name}.")
        return self._token_refusal(token, repo.private, _reaches(token, repo), write)

    async def require(
        self, conn: AsyncConnection, principal: Principal, repo: Repository, *, write: bool
    ) -> None:
        roles = await permissions.effective_roles(conn, principal, [repo])
        error = self.decide(principal, repo, roles[repo.id], write=write)
        if error is not None:
            raise error

    async def readable(
        self, conn: AsyncConnection, principal: Principal, repos: Sequence[Repository]
    ) -> set[int]:
        """Ids of the repositories whose data the caller may read."""
        roles = await permissions.effective_roles(conn, principal, repos)
        return {r.id for r in repos if self.decide(principal, r, roles[r.id], write=False) is None}

    async def organization_repositories(
        self, conn: AsyncConnection, principal: Principal, org: Account
    ) -> RepositoryIds:
        """The organization's repositories whose data the caller may read, for the organization
        lists. Raises 401/404 (not a member)/403 (not an owner, or a token without the permission)."""
        role = await permissions.require_org_member(conn, principal, org)
        if role is not OrgRole.OWNER:
            raise Forbidden("Must be an owner or security manager of the organization.")
        token = principal.token
        assert token is not None
        if token.kind is TokenKind.CLASSIC:
            public_only = not token.scopes & FULL_SCOPES
            if public_only and "public_repo" not in token.scopes:
                raise self._token_refusal(token, True, False, False) or Forbidden()
            return repository.organization_repository_ids(
                org.id, public_only=public_only, repository_ids=None
            )
        if token.resource_owner_id != org.id or token.level(self.permission) < Role.READ:
            raise Forbidden(
                f"Resource not accessible by personal access token (requires {self.permission}:read)."
            )
        return repository.organization_repository_ids(
            org.id, public_only=False, repository_ids=token.repository_ids
        )
