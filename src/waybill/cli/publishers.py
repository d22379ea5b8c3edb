"""``waybill oidc issuers`` (the OIDC issuers the operator trusts) and ``waybill publishers`` (which
CI jobs' tokens stand for a repository)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
from sqlalchemy.ext.asyncio import AsyncConnection

from waybill.accounts import service as accounts
from waybill.cli.common import permissions, run
from waybill.publishers import service
from waybill.publishers.types import Issuer, Publisher


@click.group()
def oidc() -> None:
    """OpenID Connect: the issuers whose CI tokens may be exchanged."""


@oidc.group("issuers")
def issuers() -> None:
    """Trusted OIDC issuers (GitHub Actions, GitHub Enterprise Server, GitLab, ...)."""


@issuers.command("add")
@click.argument("issuer_url")
@click.option(
    "--jwks-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Pin the issuer's signing keys from this JWKS file (nothing is fetched: works offline).",
)
def issuers_add(issuer_url: str, jwks_file: Path | None) -> None:
    """Trust ISSUER_URL (exactly as its tokens' iss claim says it). Adding it again replaces its keys."""
    document: Any = None
    if jwks_file is not None:
        try:
            document = json.loads(jwks_file.read_text())
        except json.JSONDecodeError as exc:
            raise click.BadParameter(f"not JSON: {exc}", param_hint="--jwks-file") from None

    async def action(conn: AsyncConnection) -> Issuer:
        return await service.add_issuer(conn, issuer_url, document)

    added = run(action)
    keys = "pinned from the file" if added.jwks is not None else "fetched through its discovery document"
    click.echo(f"trusted issuer {added.url} (keys {keys})")


@issuers.command("list")
def issuers_list() -> None:
    for issuer in run(service.issuers):
        click.echo(f"{issuer.url}\t{'pinned' if issuer.jwks is not None else 'discovered'}")


@issuers.command("remove")
@click.argument("issuer_url")
def issuers_remove(issuer_url: str) -> None:
    """Stop trusting ISSUER_URL; the publishers bound to it go too."""

    async def action(conn: AsyncConnection) -> None:
        await service.remove_issuer(conn, issuer_url)

    run(action)
    click.echo(f"no longer trusted: {issuer_url}")


@click.group()
def publishers() -> None:
    """Trusted publishers: CI jobs whose OIDC tokens are exchanged for a repository's short-lived token."""


def _claims(values: tuple[str, ...]) -> dict[str, str]:
    result: dict[str, str] = {}
    for value in values:
        name, sep, expected = value.partition("=")
        if not sep or not name.strip():
            raise click.BadParameter(f"{value!r}: expected NAME=VALUE", param_hint="--claim")
        result[name.strip()] = expected
    return result


def _show(found: Publisher) -> None:
    claims = " ".join(f"{k}={v}" for k, v in sorted(found.claims.items()))
    extra = "".join(
        f" {label}={value}"
        for label, value in (("workflow", found.workflow), ("environment", found.environment))
        if value is not None
    )
    grants = ",".join(f"{k}:{v}" for k, v in sorted(found.permissions.items()))
    click.echo(f"publisher {found.id}: {found.issuer.url} {claims}{extra} -> {grants}")


@publishers.command("add")
@click.argument("full_name", metavar="OWNER/REPO")
@click.option("--issuer", "issuer_url", required=True, help="A trusted issuer's URL.")
@click.option(
    "--claim", "claim", multiple=True, required=True, help="NAME=VALUE the token's claim must equal."
)
@click.option(
    "--workflow", help="PATH@REF (GitHub's job_workflow_ref after OWNER/REPO/, GitLab's ci_config_ref_uri)."
)
@click.option("--environment", help="The deployment environment the job must run in.")
@click.option(
    "--permission", "permission", multiple=True, required=True, help="NAME:LEVEL, e.g. attestations:write."
)
def publishers_add(
    full_name: str,
    issuer_url: str,
    claim: tuple[str, ...],
    workflow: str | None,
    environment: str | None,
    permission: tuple[str, ...],
) -> None:
    """Bind a publisher to OWNER/REPO: tokens of ISSUER matching every claim get a token for it."""
    claims = _claims(claim)
    grants = permissions(permission)

    async def action(conn: AsyncConnection) -> Publisher:
        repo = await accounts.get_repository(conn, full_name)
        return await service.add_publisher(
            conn,
            repo,
            issuer_url=issuer_url,
            claims=claims,
            workflow=workflow,
            environment=environment,
            permissions=grants,
        )

    _show(run(action))
    hint = service.immutable_hint(list(claims))
    if hint is not None:
        click.echo(f"hint: {hint}", err=True)


@publishers.command("list")
@click.argument("full_name", metavar="OWNER/REPO")
def publishers_list(full_name: str) -> None:
    async def action(conn: AsyncConnection) -> list[Publisher]:
        return await service.publishers_of(conn, await accounts.get_repository(conn, full_name))

    for found in run(action):
        _show(found)


@publishers.command("remove")
@click.argument("full_name", metavar="OWNER/REPO")
@click.argument("publisher_id", type=int)
def publishers_remove(full_name: str, publisher_id: int) -> None:
    async def action(conn: AsyncConnection) -> None:
        await service.remove_publisher(conn, await accounts.get_repository(conn, full_name), publisher_id)

    run(action)
    click.echo(f"publisher {publisher_id} removed from {full_name}")
