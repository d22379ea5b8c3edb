"""Values of the accounts domain, shared with the other domains through its service."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import IntEnum, StrEnum


class AccountType(StrEnum):
    USER = "User"
    ORGANIZATION = "Organization"
    # The account a GitHub App acts as (``SLUG[bot]``), never signed in to by anyone.
    BOT = "Bot"


class OrgRole(StrEnum):
    MEMBER = "member"
    OWNER = "owner"


class Role(IntEnum):
    """What a user may do with a repository, in increasing order."""

    NONE = 0
    READ = 1
    WRITE = 2
    ADMIN = 3

    @classmethod
    def parse(cls, name: str) -> Role:
        return {"read": cls.READ, "write": cls.WRITE, "admin": cls.ADMIN}[name]

    @property
    def label(self) -> str:
        return self.name.lower()


@dataclass(frozen=True)
class Account:
    id: int
    login: str
    type: AccountType
    name: str | None
    email: str | None
    site_admin: bool
    created_at: datetime
    updated_at: datetime

    @property
    def is_org(self) -> bool:
        return self.type is AccountType.ORGANIZATION


@dataclass(frozen=True)
class Repository:
    id: int
    owner: Account
    name: str
    private: bool
    description: str | None
    default_branch: str
    created_at: datetime
    updated_at: datetime

    @property
    def full_name(self) -> str:
        return f"{self.owner.login}/{self.name}"

    @property
    def visibility(self) -> str:
        return "private" if self.private else "public"


def own_role(user: Account, owner: Account, org_role: OrgRole | None, collaborator: Role | None) -> Role:
    """A user's own role on a repository of ``owner``: ownership, organization membership (owners
    administer; members get the organization's base permission, read), and collaboration."""
    if user.site_admin or owner.id == user.id or org_role is OrgRole.OWNER:
        return Role.ADMIN
    role = Role.READ if org_role is OrgRole.MEMBER else Role.NONE
    return max(role, collaborator or Role.NONE)
