"""The rules of GitHub Apps: registering one, installing it, and what its tokens may do.

An installation token is an ordinary token of the auth domain (kind ``installation``) acting as the
app's bot account, with the installation's account as resource owner: every permission check treats
it as it treats a fine-grained personal token. This domain only decides what it grants.
"""

from __future__ import annotations

import re
import secrets
import string
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncConnection

from waybill.accounts import service as accounts
from waybill.accounts.types import Account, Repository
from waybill.apps import app_jwt, keys
from waybill.apps import repository as sql
from waybill.apps.types import INSTALLATION_TOKEN_LIFETIME, App, Installation, InstallationToken, NewApp
from waybill.auth import tokens
from waybill.auth.types import FINE_GRAINED_PERMISSIONS, LEVELS, Principal, TokenKind
from waybill.core import audit, clock
from waybill.core.errors import Forbidden, NotFound, Unauthenticated, ValidationFailed

# GitHub's slugs: lower-case alphanumerics and inner hyphens; 34 characters leave room for "[bot]".
_SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,32}[a-z0-9])?$")
_CLIENT_ID_ALPHABET = string.ascii_letters + string.digits

SUSPENDED = "This installation has been suspended"
NOT_GRANTED = "The permissions requested are not granted to this installation."
NOT_ACCESSIBLE = (
    "There is at least one repository that does not exist or is not accessible to the parent installation."
)


def check_permissions(permissions: dict[str, str], resource: str = "App") -> dict[str, str]:
    for name, level in permissions.items():
        if name not in FINE_GRAINED_PERMISSIONS:
            raise ValidationFailed.one(resource, "permissions", "invalid", f"unknown permission: {name}")
        if level not in LEVELS:
            raise ValidationFailed.one(
                resource, "permissions", "invalid", f"{name}: level must be read or write"
            )
    # Every app reads repository metadata, as on GitHub.
    return {"metadata": "read", **permissions}


async def create_app(
    conn: AsyncConnection,
    slug: str,
    *,
    owner: str,
    permissions: dict[str, str],
    public_key: str | None = None,
    name: str | None = None,
) -> NewApp:
    """Register an app owned by ``owner``. Without ``public_key`` a key pair is made and its private
    half returned (once: only the public half is stored)."""
    if not _SLUG.match(slug):
        raise ValidationFailed.one(
            "App",
            "slug",
            "invalid",
            "slug may only contain lower-case letters, digits and inner hyphens, at most 34 characters",
            slug,
        )
    granted = check_permissions(permissions)
    owner_account = await accounts.get_account(conn, owner)
    if public_key is None:
        private_key, public = keys.generate()
    else:
        private_key, public = None, keys.parse_public(public_key)
    if await sql.app_by_slug(conn, slug) is not None or await accounts.find_account(conn, f"{slug}[bot]"):
        raise ValidationFailed.one("App", "slug", "already_exists", f"slug already exists: {slug}", slug)
    bot = await accounts.create_bot(conn, slug)
    app_id = await sql.insert_app(
        conn,
        slug=slug,
        name=name or slug,
        owner_id=owner_account.id,
        bot_id=bot.id,
        client_id="Iv23" + "".join(secrets.choice(_CLIENT_ID_ALPHABET) for _ in range(16)),
        public_key=public,
        permissions=granted,
        now=clock.now(),
    )
    if app_id is None:
        raise ValidationFailed.one("App", "slug", "already_exists", f"slug already exists: {slug}", slug)
    app = await sql.app_by_id(conn, app_id)
    assert app is not None
    await audit.record(conn, owner_account.id, "app.created", repository_id=None, target=slug)
    return NewApp(app, private_key)


async def get_app(conn: AsyncConnection, slug: str) -> App:
    app = await sql.app_by_slug(conn, slug)
    if app is None:
        raise NotFound(f"app not found: {slug}")
    return app


async def install(
    conn: AsyncConnection, slug: str, account_login: str, repositories: Sequence[str] | None
) -> Installation:
    """Install the app on an account, on all its repositories or on those named; the installation
    gets the app's permissions."""
    app = await get_app(conn, slug)
    account = await accounts.get_account(conn, account_login)
    repository_ids = None
    if repositories is not None:
        repository_ids = sorted(r.id for r in (await _named(conn, account, repositories)).values())
    installation_id = await sql.insert_installation(
        conn,
        app_id=app.id,
        account_id=account.id,
        repository_ids=repository_ids,
        permissions=app.permissions,
        now=clock.now(),
    )
    if installation_id is None:
        raise ValidationFailed.one(
            "Installation", "account", "already_exists", f"{slug} is already installed on {account.login}"
        )
    await audit.record(conn, account.id, "installation.created", repository_id=None, target=slug)
    return await _installation(conn, installation_id)


async def _named(conn: AsyncConnection, account: Account, names: Sequence[str]) -> dict[str, Repository]:
    found = await accounts.repositories_of(conn, account, names)
    missing = sorted({n.lower() for n in names} - set(found))
    if missing:
        raise NotFound(f"repository not found: {account.login}/{missing[0]}")
    return found


async def _installation(conn: AsyncConnection, installation_id: int) -> Installation:
    found = await sql.installation_by_id(conn, installation_id)
    if found is None:
        raise NotFound()
    return found


async def installation_on(conn: AsyncConnection, slug: str, account_login: str) -> Installation:
    app = await get_app(conn, slug)
    account = await accounts.get_account(conn, account_login)
    found = await sql.installation_on(conn, app.id, account.id)
    if found is None:
        raise NotFound(f"{app.slug} is not installed on {account.login}")
    return found


async def suspend(conn: AsyncConnection, installation: Installation) -> None:
    """Suspend: every token it issued stops working on its next request, and it issues no more."""
    now = clock.now()
    await sql.set_suspended(conn, installation.id, installation.suspended_at or now, now)
    await tokens.revoke_ids(conn, await sql.token_ids(conn, [installation.id]))
    await _audit(conn, installation, "installation.suspended")


async def unsuspend(conn: AsyncConnection, installation: Installation) -> None:
    await sql.set_suspended(conn, installation.id, None, clock.now())
    await _audit(conn, installation, "installation.unsuspended")


async def uninstall(conn: AsyncConnection, installation: Installation) -> None:
    await tokens.revoke_ids(conn, await sql.token_ids(conn, [installation.id]))
    await sql.delete_installation(conn, installation.id)
    await _audit(conn, installation, "installation.deleted")


async def _audit(conn: AsyncConnection, installation: Installation, action: str) -> None:
    await audit.record(
        conn, installation.account.id, action, repository_id=None, target=installation.app.slug
    )


# Acting as the app (its JWT).


async def authenticate_app(conn: AsyncConnection, raw: str) -> App:
    """The app whose valid JWT ``raw`` is; 401 naming the failed check otherwise."""
    if not app_jwt.looks_like_jwt(raw):
        raise Unauthenticated(app_jwt.UNDECODABLE)
    iss = app_jwt.issuer(raw)
    app = await (
        sql.app_by_id(conn, int(iss)) if iss.isdigit() and len(iss) < 19 else sql.app_by_client_id(conn, iss)
    )
    if app is None:
        raise Unauthenticated(app_jwt.ISS_INVALID)
    app_jwt.verify(raw, app.public_key)
    # What it writes as itself (its installations' tokens, their suspension) names it.
    audit.set_actor(audit.Actor(audit.ActorType.APP, app.bot.login, app.bot.id))
    return app


async def count_installations(conn: AsyncConnection, app: App) -> int:
    return await sql.count_installations(conn, app.id)


async def installations(conn: AsyncConnection, app: App, *, limit: int, offset: int) -> list[Installation]:
    return await sql.installations_of_app(conn, app.id, limit=limit, offset=offset)


async def app_installation(conn: AsyncConnection, app: App, installation_id: int) -> Installation:
    """One of the app's installations; another app's is as unknown as a missing one."""
    found = await sql.installation_by_id(conn, installation_id)
    if found is None or found.app.id != app.id:
        raise NotFound()
    return found


async def installation_for_account(conn: AsyncConnection, app: App, login: str, *, org: bool) -> Installation:
    account = await accounts.find_account(conn, login)
    if account is None or (org and not account.is_org):
        raise NotFound()
    found = await sql.installation_on(conn, app.id, account.id)
    if found is None:
        raise NotFound()
    return found


async def installation_for_repository(conn: AsyncConnection, app: App, owner: str, name: str) -> Installation:
    repo = await accounts.find_repository(conn, owner, name)
    if repo is None:
        raise NotFound()
    found = await sql.installation_on(conn, app.id, repo.owner.id)
    if found is None or (found.repository_ids is not None and repo.id not in found.repository_ids):
        raise NotFound()
    return found


@dataclass(frozen=True)
class TokenRequest:
    repositories: list[str] | None = None
    repository_ids: list[int] | None = None
    permissions: dict[str, str] | None = None


async def create_token(
    conn: AsyncConnection, app: App, installation_id: int, request: TokenRequest
) -> InstallationToken:
    """An installation token: the installation's permissions on its repositories, narrowed to what
    was asked (asking for more than the installation has is refused, never silently granted)."""
    installation = await app_installation(conn, app, installation_id)
    if installation.suspended_at is not None:
        raise Forbidden(SUSPENDED)
    permissions = _narrowed_permissions(installation, request.permissions)
    repository_ids = await _narrowed_repositories(conn, installation, request)
    issued = await tokens.issue_integration(
        conn,
        TokenKind.INSTALLATION,
        acting_as=installation.app.bot.id,
        resource_owner_id=installation.account.id,
        repository_ids=repository_ids,
        permissions=permissions,
        lifetime=INSTALLATION_TOKEN_LIFETIME,
    )
    await sql.link_token(conn, issued.id, installation.id)
    await _audit(conn, installation, "installation_token.created")
    return InstallationToken(issued.raw, issued.expires_at, permissions, installation, repository_ids)


def _narrowed_permissions(installation: Installation, wanted: dict[str, str] | None) -> dict[str, str]:
    if not wanted:
        return dict(installation.permissions)
    for name, level in wanted.items():
        have = LEVELS.get(installation.permissions.get(name, ""))
        asked = LEVELS.get(level)
        if have is None or asked is None or asked > have:
            raise ValidationFailed.one(
                "Installation", "permissions", "invalid", NOT_GRANTED, f"{name}:{level}"
            )
    return dict(wanted)


async def _narrowed_repositories(
    conn: AsyncConnection, installation: Installation, request: TokenRequest
) -> list[int] | None:
    if request.repositories is None and request.repository_ids is None:
        return None if installation.repository_ids is None else sorted(installation.repository_ids)
    wanted: set[int] = set()
    if request.repositories:
        found = await accounts.repositories_of(conn, installation.account, request.repositories)
        if len(found) != len({n.lower() for n in request.repositories}):
            raise ValidationFailed.one("Installation", "repositories", "invalid", NOT_ACCESSIBLE)
        wanted |= {r.id for r in found.values()}
    if request.repository_ids:
        found_ids = await accounts.repositories_by_ids(conn, request.repository_ids)
        if any(
            i not in found_ids or found_ids[i].owner.id != installation.account.id
            for i in request.repository_ids
        ):
            raise ValidationFailed.one("Installation", "repository_ids", "invalid", NOT_ACCESSIBLE)
        wanted |= set(request.repository_ids)
    if installation.repository_ids is not None and not wanted <= installation.repository_ids:
        field = "repositories" if request.repositories else "repository_ids"
        raise ValidationFailed.one("Installation", field, "invalid", NOT_ACCESSIBLE)
    return sorted(wanted)


# Acting as an installation (its token).


async def installation_of(conn: AsyncConnection, principal: Principal) -> Installation:
    """The installation whose token the caller presents; any other caller is refused as GitHub does."""
    token = principal.token
    if principal.user is None or token is None:
        raise Unauthenticated()
    if token.kind is not TokenKind.INSTALLATION:
        raise Forbidden(
            "You must authenticate with an installation access token in order to list repositories "
            "for an installation."
        )
    found = await sql.installation_of_token(conn, token.id)
    if found is None:
        raise Unauthenticated("Bad credentials")
    return found


async def repositories_of_token(
    conn: AsyncConnection, principal: Principal, *, limit: int, offset: int
) -> tuple[Installation, int, list[Repository]]:
    installation = await installation_of(conn, principal)
    token = principal.token
    assert token is not None
    total, repos = await accounts.repositories_owned(
        conn, installation.account, token.repository_ids, limit=limit, offset=offset
    )
    return installation, total, repos


async def revoke_own_token(conn: AsyncConnection, principal: Principal) -> None:
    token = principal.token
    if principal.user is None or token is None:
        raise Unauthenticated()
    if token.kind is not TokenKind.INSTALLATION:
        raise Forbidden("You must authenticate with an installation access token in order to revoke it.")
    await tokens.revoke_ids(conn, [token.id])


async def repositories_by_ids(conn: AsyncConnection, ids: Sequence[int]) -> list[Repository]:
    found = await accounts.repositories_by_ids(conn, ids)
    return [found[i] for i in sorted(found)]
