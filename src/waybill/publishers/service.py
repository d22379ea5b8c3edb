"""The rules of trusted publishing: which issuers are trusted, how a publisher binds a CI job's
token to a repository, and the exchange of such a token for a short-lived Waybill token.

The token issued is an ordinary token of the auth domain (kind ``publisher``) for that repository
alone, with the binding's permissions, acting as the bot account ``trusted-publisher[bot]``: every
permission check treats it as it treats an installation token.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from waybill.accounts import service as accounts
from waybill.accounts.types import Account, Repository
from waybill.auth import tokens
from waybill.auth.types import FINE_GRAINED_PERMISSIONS, LEVELS, TokenKind
from waybill.core import audit, clock
from waybill.core.errors import Forbidden, NotFound, ValidationFailed
from waybill.publishers import oidc
from waybill.publishers import repository as sql
from waybill.publishers.oidc import KeyCache, TokenRefused
from waybill.publishers.types import (
    IMMUTABLE_CLAIMS,
    PUBLISHER_TOKEN_LIFETIME,
    Check,
    Exchanged,
    Issuer,
    Publisher,
    StoredPublisher,
)

BOT = "trusted-publisher"
NO_MATCH = "No trusted publisher matches this token"


async def add_issuer(conn: AsyncConnection, url: str, jwks: Any = None) -> Issuer:
    """Trust an issuer; with ``jwks`` its keys are pinned from that document, else fetched."""
    try:
        oidc.check_issuer_url(url)
        pinned = None if jwks is None else oidc.parse_jwks(jwks)
    except ValueError as exc:
        field = "jwks" if jwks is not None and "JWKS" in str(exc) else "url"
        raise ValidationFailed.one("Issuer", field, "invalid", str(exc)) from None
    return await sql.upsert_issuer(conn, url, pinned, clock.now())


async def issuers(conn: AsyncConnection) -> list[Issuer]:
    return await sql.issuers(conn)


async def remove_issuer(conn: AsyncConnection, url: str) -> None:
    if not await sql.delete_issuer(conn, url):
        raise NotFound(f"issuer not trusted: {url}")


def _check_permissions(permissions: dict[str, str]) -> dict[str, str]:
    if not permissions:
        raise ValidationFailed.one(
            "Publisher", "permissions", "missing_field", "at least one permission is needed"
        )
    for name, level in permissions.items():
        if name not in FINE_GRAINED_PERMISSIONS or name == "administration":
            raise ValidationFailed.one("Publisher", "permissions", "invalid", f"unknown permission: {name}")
        if level not in LEVELS:
            raise ValidationFailed.one(
                "Publisher", "permissions", "invalid", f"{name}: level must be read or write"
            )
    return {"metadata": "read", **permissions}


async def add_publisher(
    conn: AsyncConnection,
    repo: Repository,
    *,
    issuer_url: str,
    claims: dict[str, str],
    workflow: str | None,
    environment: str | None,
    permissions: dict[str, str],
) -> Publisher:
    issuer = await sql.issuer_by_url(conn, issuer_url)
    if issuer is None:
        raise ValidationFailed.one(
            "Publisher",
            "issuer",
            "invalid",
            f"issuer not trusted: {issuer_url} (add it with waybill oidc issuers add)",
        )
    if not claims:
        raise ValidationFailed.one("Publisher", "claims", "missing_field", "at least one claim must be bound")
    if workflow is not None and "@" not in workflow:
        raise ValidationFailed.one("Publisher", "workflow", "invalid", "workflow must be PATH@REF", workflow)
    granted = _check_permissions(permissions)
    publisher_id = await sql.insert_publisher(
        conn,
        repository_id=repo.id,
        issuer_id=issuer.id,
        claims=claims,
        workflow=workflow,
        environment=environment,
        permissions=granted,
        now=clock.now(),
    )
    found = [p for p in await publishers_of(conn, repo) if p.id == publisher_id]
    await audit.record(
        conn, repo.owner.id, "publisher.created", repository_id=repo.id, target=str(publisher_id)
    )
    return found[0]


async def publishers_of(conn: AsyncConnection, repo: Repository) -> list[Publisher]:
    return [_publisher(stored, repo) for stored in await sql.publishers(conn, repository_id=repo.id)]


def _publisher(stored: StoredPublisher, repo: Repository) -> Publisher:
    return Publisher(**vars(stored), repository=repo)


async def remove_publisher(conn: AsyncConnection, repo: Repository, publisher_id: int) -> None:
    if not await sql.delete_publisher(conn, repo.id, publisher_id):
        raise NotFound()
    await audit.record(
        conn, repo.owner.id, "publisher.deleted", repository_id=repo.id, target=str(publisher_id)
    )


def _workflow_of(claims: dict[str, Any]) -> str | None:
    """PATH@REF of the job's workflow: GitHub's ``job_workflow_ref`` is ``OWNER/REPO/PATH@REF``,
    GitLab's ``ci_config_ref_uri`` is ``HOST/GROUP/PROJECT//PATH@REF``."""
    github = claims.get("job_workflow_ref")
    if isinstance(github, str) and github.count("/") >= 2:
        return github.split("/", 2)[2]
    gitlab = claims.get("ci_config_ref_uri")
    if isinstance(gitlab, str) and "//" in gitlab:
        return gitlab.split("//", 1)[1]
    return None


def _claim(claims: dict[str, Any], name: str) -> str | None:
    value = claims.get(name)
    if value is None or isinstance(value, dict | list):
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def matches(publisher: StoredPublisher, claims: dict[str, Any]) -> bool:
    if any(_claim(claims, name) != value for name, value in publisher.claims.items()):
        return False
    if publisher.workflow is not None and _workflow_of(claims) != publisher.workflow:
        return False
    return publisher.environment is None or _claim(claims, "environment") == publisher.environment


async def exchange(conn: AsyncConnection, raw: str, *, audience: str, keys: KeyCache) -> Exchanged:
    """A CI job's OIDC token for a Waybill token of the one repository a publisher binds it to."""
    issuer = await sql.issuer_by_url(conn, oidc.unverified_issuer(raw))
    if issuer is None:
        raise TokenRefused(Check.ISSUER, "the issuer is not trusted")
    claims = await oidc.verify(raw, issuer, audience, keys)
    found = [p for p in await sql.publishers(conn, issuer_id=issuer.id) if matches(p, claims)]
    if not found:
        # Nothing about the bindings is told: not which exist, nor which claim differed.
        raise Forbidden(NO_MATCH)
    chosen = found[0]
    now = clock.now()
    expires = datetime.fromtimestamp(int(claims["exp"]), UTC)
    if not await sql.use_token_id(conn, issuer.id, str(claims["jti"]), expires, now):
        raise TokenRefused(Check.REPLAY, "this token (its jti) was exchanged already")
    repos = await accounts.repositories_by_ids(conn, [chosen.repository_id])
    repo = repos[chosen.repository_id]
    bot = await _bot(conn)
    issued = await tokens.issue_integration(
        conn,
        TokenKind.PUBLISHER,
        acting_as=bot.id,
        resource_owner_id=repo.owner.id,
        repository_ids=[repo.id],
        permissions=dict(chosen.permissions),
        lifetime=PUBLISHER_TOKEN_LIFETIME,
    )
    # The job has no caller of its own before the exchange: it acts as the publisher from here on.
    audit.set_actor(audit.Actor(audit.ActorType.PUBLISHER, bot.login, bot.id))
    await audit.record(
        conn, repo.owner.id, "publisher.token_exchanged", repository_id=repo.id, target=str(chosen.id)
    )
    return Exchanged(issued.raw, issued.expires_at, dict(chosen.permissions), repo)


async def _bot(conn: AsyncConnection) -> Account:
    found = await accounts.find_account(conn, f"{BOT}[bot]")
    if found is not None:
        return found
    try:
        return await accounts.create_bot(conn, BOT)
    except ValidationFailed:
        # A concurrent first exchange made it meanwhile (the insert does nothing on a conflict).
        return await accounts.get_account(conn, f"{BOT}[bot]")


def immutable_hint(claims: Sequence[str]) -> str | None:
    """Advice when a binding names only mutable claims (names can be renamed and then re-registered
    by someone else); None when it binds an immutable id already."""
    if any(c in IMMUTABLE_CLAIMS for c in claims):
        return None
    return (
        "bind an immutable id as well (GitHub: --claim repository_id=N --claim repository_owner_id=N; "
        "GitLab: --claim project_id=N): names can change hands"
    )
