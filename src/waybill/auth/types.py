"""Who is calling (a ``Principal``) and what a token grants."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from waybill.accounts.types import Account, Role


class TokenKind(StrEnum):
    CLASSIC = "classic"
    FINE_GRAINED = "fine_grained"
    # A GitHub App installation's token, acting as the app's bot account.
    INSTALLATION = "installation"
    # A CI job's token, exchanged for its OIDC token through a trusted publisher.
    PUBLISHER = "publisher"


CLASSIC_PREFIX = "wbp_"
FINE_GRAINED_PREFIX = "wbpat_"
# GitHub's own prefix for installation tokens: clients and secret scanners recognise it.
INSTALLATION_PREFIX = "ghs_"
PUBLISHER_PREFIX = "wbo_"

CLASSIC_SCOPES = frozenset(
    {
        "repo",
        "public_repo",
        "read:org",
        "write:org",
        "admin:org",
        "read:user",
        "user",
        "delete_repo",
        "read:packages",
        "write:packages",
        "security_events",
        "site_admin",
        # Webhooks: organization hooks need admin:org_hook; repository hooks read, write or admin.
        "admin:org_hook",
        "admin:repo_hook",
        "write:repo_hook",
        "read:repo_hook",
        # The audit log (admin:org grants it too).
        "read:audit_log",
    }
)

# Fine-grained repository permissions and the levels each may take.
FINE_GRAINED_PERMISSIONS = frozenset(
    {
        "administration",
        "contents",
        "metadata",
        "attestations",
        "artifact_metadata",
        "vulnerability_alerts",
        "security_events",
        # GitHub's "Webhooks" permission, of a repository and of an organization.
        "repository_hooks",
        "organization_hooks",
    }
)
LEVELS = {"read": Role.READ, "write": Role.WRITE}


@dataclass(frozen=True)
class Token:
    id: int
    kind: TokenKind
    scopes: frozenset[str]
    resource_owner_id: int | None
    # None: all of the resource owner's repositories.
    repository_ids: frozenset[int] | None
    permissions: dict[str, str]
    expires_at: datetime | None

    @property
    def integration(self) -> bool:
        """An app's or a CI job's token: it grants exactly its permissions on its repositories, with
        no user's role behind it (the bot account it acts as has none)."""
        return self.kind in (TokenKind.INSTALLATION, TokenKind.PUBLISHER)

    @property
    def refusal(self) -> str:
        """How GitHub names the token in a 403: "Resource not accessible by ..."."""
        return "integration" if self.integration else "personal access token"

    def level(self, permission: str) -> Role:
        if permission == "metadata":
            # Every fine-grained token can read repository metadata, as on GitHub.
            return max(Role.READ, LEVELS.get(self.permissions.get(permission, ""), Role.NONE))
        return LEVELS.get(self.permissions.get(permission, ""), Role.NONE)


@dataclass(frozen=True)
class Principal:
    """The caller: a user acting through a token, or nobody."""

    user: Account | None = None
    token: Token | None = None

    @property
    def anonymous(self) -> bool:
        return self.user is None


ANONYMOUS = Principal()


@dataclass(frozen=True)
class Need:
    """What an operation needs on a repository: the user's role, and a fine-grained permission
    (any one of ``permissions``) at the matching level (read for READ, write above)."""

    role: Role
    permissions: tuple[str, ...]

    @property
    def level(self) -> str:
        return "read" if self.role is Role.READ else "write"

    def describe(self) -> str:
        return " or ".join(f"{p}:{self.level}" for p in self.permissions)
