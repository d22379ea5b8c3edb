"""``waybill apps``: register GitHub Apps, install them on accounts, suspend and uninstall them."""

from __future__ import annotations

import os
from pathlib import Path

import click
from sqlalchemy.ext.asyncio import AsyncConnection

from waybill.apps import service
from waybill.apps.types import Installation, NewApp
from waybill.cli.common import permissions, run


@click.group()
def apps() -> None:
    """GitHub Apps and their installations."""


@apps.command("create")
@click.argument("slug")
@click.option("--owner", required=True, help="Organization (or user) that owns the app.")
@click.option("--permission", "permission", multiple=True, help="NAME:LEVEL, e.g. artifact_metadata:write.")
@click.option(
    "--private-key-out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write a newly made RSA private key (PEM) here.",
)
@click.option(
    "--public-key",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Register this RSA public key (PEM) of your own instead.",
)
@click.option("--name", help="Display name (the slug by default).")
def apps_create(
    slug: str,
    owner: str,
    permission: tuple[str, ...],
    private_key_out: Path | None,
    public_key: Path | None,
    name: str | None,
) -> None:
    """Register app SLUG; prints its app id and client id."""
    if (private_key_out is None) == (public_key is None):
        raise click.UsageError("give exactly one of --private-key-out and --public-key")
    if private_key_out is not None and private_key_out.exists():
        raise click.UsageError(f"{private_key_out} exists already; the private key is written only once")
    grants = permissions(permission)
    pem = None if public_key is None else public_key.read_text()

    async def action(conn: AsyncConnection) -> NewApp:
        return await service.create_app(
            conn, slug, owner=owner, permissions=grants, public_key=pem, name=name
        )

    created = run(action)
    if private_key_out is not None:
        assert created.private_key is not None
        # Owner-only from the first byte: the key is a credential.
        fd = os.open(private_key_out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(created.private_key)
    click.echo(f"app id {created.app.id}")
    click.echo(f"client id {created.app.client_id}")


@apps.command("install")
@click.argument("slug")
@click.argument("account")
@click.option("--repositories", default="all", show_default=True, help="'all' or NAME,NAME of the account.")
def apps_install(slug: str, account: str, repositories: str) -> None:
    """Install app SLUG on ACCOUNT (an organization or user) with the app's permissions."""
    selected = None if repositories == "all" else [n.strip() for n in repositories.split(",") if n.strip()]

    async def action(conn: AsyncConnection) -> Installation:
        return await service.install(conn, slug, account, selected)

    found = run(action)
    click.echo(f"installation id {found.id}")


def _on_installation(slug: str, account: str, change: str) -> None:
    async def action(conn: AsyncConnection) -> None:
        found = await service.installation_on(conn, slug, account)
        if change == "suspend":
            await service.suspend(conn, found)
        elif change == "unsuspend":
            await service.unsuspend(conn, found)
        else:
            await service.uninstall(conn, found)

    run(action)


@apps.command("suspend")
@click.argument("slug")
@click.argument("account")
def apps_suspend(slug: str, account: str) -> None:
    """Suspend the installation: its tokens stop working at once and it issues no more."""
    _on_installation(slug, account, "suspend")
    click.echo(f"{slug} is suspended on {account}")


@apps.command("unsuspend")
@click.argument("slug")
@click.argument("account")
def apps_unsuspend(slug: str, account: str) -> None:
    _on_installation(slug, account, "unsuspend")
    click.echo(f"{slug} is no longer suspended on {account}")


@apps.command("uninstall")
@click.argument("slug")
@click.argument("account")
def apps_uninstall(slug: str, account: str) -> None:
    """Remove the installation; its tokens stop working at once."""
    _on_installation(slug, account, "uninstall")
    click.echo(f"{slug} is uninstalled from {account}")
