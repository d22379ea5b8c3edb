"""Values of the apps domain: GitHub Apps and their installations."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from waybill.accounts.types import Account

# GitHub's figures: an installation token lives one hour; an app JWT at most ten minutes, with a
# minute of clock drift allowed either way.
INSTALLATION_TOKEN_LIFETIME = timedelta(hours=1)
JWT_MAX_LIFETIME_SECONDS = 600
JWT_DRIFT_SECONDS = 60


class RepositorySelection(StrEnum):
    ALL = "all"
    SELECTED = "selected"


@dataclass(frozen=True)
class App:
    id: int
    slug: str
    name: str
    owner: Account
    bot: Account
    client_id: str
    public_key: str
    permissions: dict[str, str]
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class Installation:
    id: int
    app: App
    account: Account
    # None: every repository of the account, now and later.
    repository_ids: frozenset[int] | None
    permissions: dict[str, str]
    suspended_at: datetime | None
    created_at: datetime
    updated_at: datetime

    @property
    def repository_selection(self) -> RepositorySelection:
        return RepositorySelection.ALL if self.repository_ids is None else RepositorySelection.SELECTED


@dataclass(frozen=True)
class NewApp:
    """What registering an app answers: the app, and its private key when Waybill made it (PEM)."""

    app: App
    private_key: str | None


@dataclass(frozen=True)
class InstallationToken:
    raw: str
    expires_at: datetime
    permissions: dict[str, str]
    installation: Installation
    # The repositories the token was narrowed to (or the installation's selection), else None.
    repository_ids: list[int] | None
