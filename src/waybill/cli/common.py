"""What every ``waybill`` subcommand shares: running an action in one transaction, how a domain
error reads on one line, and how ``--permission NAME:LEVEL`` options parse."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import TypeVar

import click
from sqlalchemy.ext.asyncio import AsyncConnection

from waybill.config import Settings
from waybill.core.db import Database
from waybill.core.errors import DomainError, ValidationFailed
from waybill.core.migrate import upgrade

T = TypeVar("T")


def message(error: DomainError) -> str:
    if isinstance(error, ValidationFailed) and error.errors:
        return "; ".join(e.message or f"{e.field} is {e.code}" for e in error.errors)
    return error.message


def run(action: Callable[[AsyncConnection], Awaitable[T]]) -> T:
    """Run ``action`` in one transaction on an up-to-date database; domain errors exit non-zero."""
    settings = Settings.from_env()
    upgrade(settings)

    async def main() -> T:
        db = Database.for_settings(settings)
        try:
            async with db.write() as conn:
                return await action(conn)
        finally:
            await db.dispose()

    try:
        return asyncio.run(main())
    except DomainError as error:
        click.echo(f"waybill: {message(error)}", err=True)
        sys.exit(1)


def permissions(values: tuple[str, ...]) -> dict[str, str]:
    result: dict[str, str] = {}
    for value in values:
        name, sep, level = value.partition(":")
        if not sep:
            raise click.BadParameter(
                f"{value!r}: expected NAME:LEVEL, e.g. contents:write", param_hint="--permission"
            )
        result[name.strip()] = level.strip()
    return result
