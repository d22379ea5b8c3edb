"""Request and response shapes of the apps domain: GitHub's ``integration``, ``installation`` and
``installation-token``, and the site administrators' registration bodies under ``/waybill/``."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec

from waybill.accounts import schemas as accounts_schemas
from waybill.accounts.types import Account, Repository
from waybill.apps.types import App, Installation, InstallationToken, RepositorySelection
from waybill.core.clock import iso, iso_or_none
from waybill.core.ids import node_id


class CreateToken(msgspec.Struct, forbid_unknown_fields=True):
    repositories: list[Annotated[str, msgspec.Meta(min_length=1, max_length=100)]] | None = None
    repository_ids: list[Annotated[int, msgspec.Meta(ge=1)]] | None = None
    permissions: dict[str, str] | None = None


class RegisterApp(msgspec.Struct, forbid_unknown_fields=True):
    slug: Annotated[str, msgspec.Meta(min_length=1, max_length=34)]
    owner: Annotated[str, msgspec.Meta(min_length=1, max_length=39)]
    permissions: dict[str, str]
    name: str | None = None
    # PEM; absent: a key pair is made and its private key answered once.
    public_key: str | None = None


class InstallApp(msgspec.Struct, forbid_unknown_fields=True):
    account: Annotated[str, msgspec.Meta(min_length=1, max_length=39)]
    # Absent: all of the account's repositories.
    repositories: list[Annotated[str, msgspec.Meta(min_length=1, max_length=100)]] | None = None


def integration(app: App, installations_count: int, api: str, web: str) -> dict[str, Any]:
    """GitHub's ``integration`` (``GET /app``)."""
    return {
        "id": app.id,
        "slug": app.slug,
        "node_id": node_id("Integration", app.id),
        "client_id": app.client_id,
        "owner": accounts_schemas.simple_user(app.owner, api, web),
        "name": app.name,
        "description": None,
        "external_url": f"{web}/apps/{app.slug}",
        "html_url": f"{web}/apps/{app.slug}",
        "created_at": iso(app.created_at),
        "updated_at": iso(app.updated_at),
        "permissions": app.permissions,
        "events": [],
        "installations_count": installations_count,
    }


def _account(account: Account, api: str, web: str) -> dict[str, Any]:
    """The installation's account: a ``simple-user``, with the fields of an ``enterprise`` too, as
    GitHub's description of ``GET /app/installations`` requires both at once."""
    return {
        **accounts_schemas.simple_user(account, api, web),
        "name": account.name or account.login,
        "slug": account.login.lower(),
        "created_at": iso(account.created_at),
        "updated_at": iso(account.updated_at),
    }


def installation(found: Installation, api: str, web: str) -> dict[str, Any]:
    """GitHub's ``installation``."""
    account = found.account
    settings = f"{web}/organizations/{account.login}" if account.is_org else web
    return {
        "id": found.id,
        "account": _account(account, api, web),
        "repository_selection": str(found.repository_selection),
        "access_tokens_url": f"{api}/app/installations/{found.id}/access_tokens",
        "repositories_url": f"{api}/installation/repositories",
        "html_url": f"{settings}/settings/installations/{found.id}",
        "app_id": found.app.id,
        "client_id": found.app.client_id,
        "target_id": account.id,
        "target_type": str(account.type),
        "permissions": found.permissions,
        "events": [],
        "created_at": iso(found.created_at),
        "updated_at": iso(found.updated_at),
        "single_file_name": None,
        "has_multiple_single_files": False,
        "single_file_paths": [],
        "app_slug": found.app.slug,
        # Waybill's suspensions are the operator's, by no account that could be named here.
        "suspended_by": None,
        "suspended_at": iso_or_none(found.suspended_at),
    }


def installation_token(
    issued: InstallationToken, repos: list[Repository], api: str, web: str, version: str
) -> dict[str, Any]:
    """GitHub's ``installation-token``; ``repositories`` only when the token is narrowed to some."""
    body: dict[str, Any] = {
        "token": issued.raw,
        "expires_at": iso(issued.expires_at),
        "permissions": issued.permissions,
        "repository_selection": str(
            RepositorySelection.ALL if issued.repository_ids is None else RepositorySelection.SELECTED
        ),
    }
    if issued.repository_ids is not None:
        body["repositories"] = [accounts_schemas.repository(r, api, web, version) for r in repos]
    return body


def installation_repositories(
    total: int, repos: list[Repository], selection: RepositorySelection, api: str, web: str, version: str
) -> dict[str, Any]:
    return {
        "total_count": total,
        "repositories": [accounts_schemas.repository(r, api, web, version) for r in repos],
        "repository_selection": str(selection),
    }


def registered(
    app: App, private_key: str | None, installations_count: int, api: str, web: str
) -> dict[str, Any]:
    """Waybill's answer to registering an app: GitHub's ``integration``, plus the private key once."""
    body = integration(app, installations_count, api, web)
    if private_key is not None:
        body["pem"] = private_key
    return body
