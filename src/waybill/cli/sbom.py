"""``waybill sbom import OWNER/REPO FILE --sha SHA``: an SBOM stored as a dependency snapshot, straight
into the configured database, with the same reading and writing as the server's import route.

A CycloneDX document is streamed from the file, so one of hundreds of megabytes imports in bounded
memory; a progress bar on stderr follows the bytes read, then the rows written. The import is one
transaction: on an error nothing is stored, and exit code 0 means it is committed.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from waybill.accounts import service as accounts
from waybill.cli.common import message
from waybill.config import Settings
from waybill.core.db import Database
from waybill.core.errors import DomainError
from waybill.core.migrate import upgrade
from waybill.dependencies import imports, service
from waybill.dependencies.types import Submitted

_PHASES = {
    "components": "Reading components",
    "dependencies": "Reading dependencies",
    "metadata": "Reading metadata",
    "packages": "Writing packages",
    "resolved": "Writing the graph",
}


@click.group()
def sbom() -> None:
    """SBOM import."""


@sbom.command("import")
@click.argument("full_name", metavar="OWNER/REPO")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--sha", required=True, help="The commit the SBOM describes (40 to 64 characters).")
def sbom_import(full_name: str, file: Path, sha: str) -> None:
    """Import a CycloneDX (1.4-1.6) or SPDX (2.2, 2.3) JSON document as the repository's dependency
    snapshot for the commit SHA on its default branch."""
    settings = Settings.from_env()
    upgrade(settings)
    started = time.perf_counter()
    try:
        parsed, done = asyncio.run(_import(settings, full_name, file, sha))
    except DomainError as error:
        click.echo(f"waybill: {message(error)}", err=True)
        sys.exit(1)
    seconds = time.perf_counter() - started
    click.echo(
        f"imported {parsed.elements} components and {parsed.edges} dependency edges into {full_name} "
        f"in {seconds:.1f} s (snapshot {done.id}, {done.result.value.lower()})"
    )


async def _import(
    settings: Settings, full_name: str, file: Path, sha: str
) -> tuple[imports.Parsed, Submitted]:
    db = Database.for_settings(settings)
    try:
        # A misspelt repository fails before the file is read.
        async with db.read() as conn:
            await accounts.get_repository(conn, full_name)
        with _progress() as report, file.open("rb") as source:
            # Read in a thread: the bar keeps moving, and the database is not touched until the whole
            # document has been read and checked.
            parsed = await asyncio.to_thread(imports.read, source, imports.Options(sha=sha), report)
            async with db.write() as conn:
                repo = await accounts.get_repository(conn, full_name)
                done = await service.import_sbom(conn, repo, parsed, report)
        return parsed, done
    finally:
        await db.dispose()


@contextmanager
def _progress() -> Iterator[service.Progress]:
    """A reporter of (phase, done, total) drawing one bar per phase on stderr; nothing when stderr is
    not a terminal."""
    console = Console(stderr=True)
    bars = Progress(
        TextColumn("{task.description:<22}"),
        BarColumn(),
        TextColumn("{task.fields[detail]:>24}"),
        TimeElapsedColumn(),
        console=console,
        disable=not console.is_terminal,
    )
    tasks: dict[str, TaskID] = {}

    def report(phase: str, done: int, total: int) -> None:
        task = tasks.get(phase)
        if task is None:
            task = tasks[phase] = bars.add_task(_PHASES.get(phase, phase), total=total, detail="")
        if phase in ("components", "dependencies", "metadata"):
            detail = f"{done / 2**20:,.0f}/{total / 2**20:,.0f} MiB"
        else:
            detail = f"{done:,}/{total:,} rows"
        bars.update(task, completed=done, total=total, detail=detail)

    with bars:
        yield report
