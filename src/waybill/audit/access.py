"""Who may read an organization's audit log: its owners, as on GitHub. Anyone else is told there is
no such log (404), as the owner-only hook routes tell them; a classic token needs ``read:audit_log``
(or ``admin:org``, which grants it), a fine-grained one the organization permission
``organization_administration``."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from waybill.accounts.types import Account, Role
from waybill.auth import permissions
from waybill.auth.types import Principal, TokenKind
from waybill.core.errors import Forbidden

CLASSIC_SCOPES = frozenset({"read:audit_log", "admin:org"})


async def organization(conn: AsyncConnection, principal: Principal, login: str) -> Account:
    org = await permissions.require_org_owner(conn, principal, login)
    token = principal.token
    assert token is not None
    if token.kind is TokenKind.CLASSIC:
        if not token.scopes & CLASSIC_SCOPES:
            raise Forbidden(
                "Resource not accessible by personal access token (requires the read:audit_log scope)."
            )
    elif token.resource_owner_id != org.id or token.level("organization_administration") < Role.READ:
        raise Forbidden(
            f"Resource not accessible by {token.refusal} (requires organization_administration:read)."
        )
    return org
