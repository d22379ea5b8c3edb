"""The ``waybill`` command. Each subcommand reads the same settings as the server."""

from __future__ import annotations

import asyncio
import getpass
import os
import signal
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
from sqlalchemy.ext.asyncio import AsyncConnection

from waybill.accounts import service as accounts
from waybill.accounts.types import OrgRole, Role
from waybill.attestations import service as attestations
from waybill.attestations.types import Mode
from waybill.auth import tokens
from waybill.auth.types import CLASSIC_SCOPES
from waybill.cli.admission import admission
from waybill.cli.apps import apps
from waybill.cli.common import permissions as _permissions
from waybill.cli.common import run as _run
from waybill.cli.publishers import oidc, publishers
from waybill.cli.sbom import sbom
from waybill.config import Settings
from waybill.core import audit, jobs
from waybill.core.db import Database, is_unavailable
from waybill.core.migrate import upgrade


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="waybill")
def main() -> None:
    """Waybill: GitHub's supply-chain REST API, self-hosted."""
    # What a subcommand writes is recorded as the operator's, under an id of this run.
    audit.set_actor(audit.Actor(audit.ActorType.CLI, getpass.getuser()))
    audit.set_request(f"cli-{uuid.uuid4()}")


main.add_command(sbom)
main.add_command(apps)
main.add_command(oidc)
main.add_command(publishers)
main.add_command(admission)


T = TypeVar("T")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8080, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=click.IntRange(min=1))
@click.option("--tls-cert", envvar="WAYBILL_TLS_CERT", type=click.Path(exists=True, dir_okay=False))
@click.option("--tls-key", envvar="WAYBILL_TLS_KEY", type=click.Path(exists=True, dir_okay=False))
def serve(host: str, port: int, workers: int, tls_cert: str | None, tls_key: str | None) -> None:
    """Upgrade the database if needed, then serve the API (over HTTPS with --tls-cert and --tls-key)."""
    import uvicorn

    from waybill.ops import logs, metrics

    if bool(tls_cert) != bool(tls_key):
        raise click.UsageError("--tls-cert and --tls-key go together")
    first = _until_database_answers(lambda: _run(_first_start))
    if first is not None:
        # On stdout alone, never through the log: log collectors keep what they are given.
        login, token = first
        click.echo(f"Created site administrator '{login}'. Its token, shown only this once:\n{token}")
    # Each worker process sizes its share of the database connections from this.
    os.environ["WAYBILL_WORKERS"] = str(workers)
    # glibc gives each thread that allocates its own arena (up to 8 per core), and memory freed into
    # one is not reused by another: a worker's threads (SQLite connections each have one) then grow
    # its resident memory steadily. Two arenas keep it flat; read by each worker process as it starts.
    os.environ.setdefault("MALLOC_ARENA_MAX", "2")
    settings = Settings.from_env()
    if workers > 1 and settings.log_format == "text":
        # Text only: with WAYBILL_LOG_FORMAT=json every line on stderr is a JSON object.
        click.echo(
            f"Starting {workers} worker processes; each has {settings.worker_start_timeout} s to answer "
            "the supervisor (WAYBILL_WORKER_START_TIMEOUT), or it is started again.",
            err=True,
        )
    # uvicorn stops on SIGTERM (no new connections; the requests in flight get
    # WAYBILL_SHUTDOWN_GRACE seconds), then raises the signal again so that the process ends by it.
    # A server that stopped as it was asked exits 0, as service managers and Kubernetes expect.
    signal.signal(signal.SIGTERM, lambda *_: None)
    with metrics.multiprocess_directory(workers):
        if settings.metrics_port:
            metrics.serve_port(host, settings.metrics_port)
        uvicorn.run(
            "waybill.cli.serving:create",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_level="info",
            log_config=logs.uvicorn_config(settings.log_format),
            access_log=settings.access_log,
            # X-Forwarded-* are the client layer's, from WAYBILL_TRUSTED_PROXIES alone.
            proxy_headers=False,
            http="waybill.http.clients:Protocol",
            server_header=False,
            ssl_certfile=tls_cert,
            ssl_keyfile=tls_key,
            timeout_worker_healthcheck=settings.worker_start_timeout,
            timeout_graceful_shutdown=settings.shutdown_grace,
        )


def _until_database_answers(action: Callable[[], T]) -> T:
    """``action``, tried again while the database cannot be reached (it may be starting beside us)."""
    delay = 1.0
    while True:
        try:
            return action()
        except Exception as exc:
            if not is_unavailable(exc):
                raise
            click.echo(
                f"waybill: the database does not answer ({type(exc).__name__}: {exc}); "
                f"trying again in {delay:g} s",
                err=True,
            )
            time.sleep(delay)
            delay = min(delay * 2, 10.0)


async def _first_start(conn: AsyncConnection) -> tuple[str, str] | None:
    if not await accounts.is_empty(conn):
        return None
    admin = await accounts.create_user(conn, "admin", site_admin=True)
    return admin.login, await tokens.create_classic(conn, admin.login, sorted(CLASSIC_SCOPES))


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply every pending migration."""
    upgrade(Settings.from_env())
    click.echo("database is up to date")


@main.group()
def users() -> None:
    """Users."""


@users.command("create")
@click.argument("login")
@click.option("--site-admin", is_flag=True, help="May provision users and organizations.")
def users_create(login: str, site_admin: bool) -> None:
    async def action(conn: AsyncConnection) -> Any:
        return await accounts.create_user(conn, login, site_admin=site_admin)

    user = _run(action)
    click.echo(f"created user {user.login} (id {user.id})")


@main.group()
def orgs() -> None:
    """Organizations and their members."""


@orgs.command("create")
@click.argument("org")
@click.option("--owner", required=True, help="Login of the user who owns the organization.")
def orgs_create(org: str, owner: str) -> None:
    async def action(conn: AsyncConnection) -> Any:
        return await accounts.create_org(conn, org, owner)

    created = _run(action)
    click.echo(f"created organization {created.login} (id {created.id})")


@orgs.command("add-member")
@click.argument("org")
@click.argument("login")
@click.option("--role", type=click.Choice([r.value for r in OrgRole]), default="member", show_default=True)
def orgs_add_member(org: str, login: str, role: str) -> None:
    async def action(conn: AsyncConnection) -> None:
        await accounts.add_member(conn, org, login, OrgRole(role))

    _run(action)
    click.echo(f"{login} is now {role} of {org}")


@main.group()
def repos() -> None:
    """Repositories and their collaborators."""


@repos.command("create")
@click.argument("full_name", metavar="OWNER/NAME")
@click.option("--private", is_flag=True)
def repos_create(full_name: str, private: bool) -> None:
    owner, _, name = full_name.partition("/")
    if not owner or not name:
        raise click.BadParameter("expected OWNER/NAME", param_hint="OWNER/NAME")

    async def action(conn: AsyncConnection) -> Any:
        return await accounts.create_repository(
            conn, await accounts.get_account(conn, owner), name, private=private
        )

    repo = _run(action)
    click.echo(f"created {repo.visibility} repository {repo.full_name} (id {repo.id})")


@repos.command("add-collaborator")
@click.argument("full_name", metavar="OWNER/NAME")
@click.argument("login")
@click.option(
    "--permission", type=click.Choice(["read", "write", "admin"]), default="write", show_default=True
)
def repos_add_collaborator(full_name: str, login: str, permission: str) -> None:
    async def action(conn: AsyncConnection) -> None:
        await accounts.add_collaborator(conn, full_name, login, Role.parse(permission))

    _run(action)
    click.echo(f"{login} has {permission} access to {full_name}")


@main.group("tokens")
def tokens_group() -> None:
    """Personal access tokens (classic and fine-grained)."""


@tokens_group.command("create")
@click.argument("login")
@click.option("--scopes", default="", help="Classic token scopes, comma-separated (e.g. repo,read:org).")
@click.option("--fine-grained", is_flag=True, help="A fine-grained token bound to one resource owner.")
@click.option("--resource-owner", help="User or organization the fine-grained token is bound to.")
@click.option("--repositories", default="all", show_default=True, help="'all' or NAME,NAME of the owner.")
@click.option("--permission", "permission", multiple=True, help="NAME:LEVEL, e.g. attestations:write.")
@click.option("--expires-in-days", type=int, default=None)
def tokens_create(
    login: str,
    scopes: str,
    fine_grained: bool,
    resource_owner: str | None,
    repositories: str,
    permission: tuple[str, ...],
    expires_in_days: int | None,
) -> None:
    """Create a token for LOGIN and print it (alone, once) on stdout."""
    if fine_grained:
        if not resource_owner:
            raise click.UsageError("--fine-grained needs --resource-owner")
        if scopes:
            raise click.UsageError("--scopes is for classic tokens; use --permission with --fine-grained")
        grants = _permissions(permission)
        selected = (
            None if repositories == "all" else [n.strip() for n in repositories.split(",") if n.strip()]
        )

        async def action(conn: AsyncConnection) -> str:
            return await tokens.create_fine_grained(
                conn,
                login,
                resource_owner=resource_owner or "",
                repositories=selected,
                permissions=grants,
                expires_in_days=expires_in_days,
            )
    else:
        if resource_owner or permission:
            raise click.UsageError("--resource-owner and --permission need --fine-grained")
        if expires_in_days is not None:
            raise click.UsageError("--expires-in-days is for fine-grained tokens")

        async def action(conn: AsyncConnection) -> str:
            return await tokens.create_classic(conn, login, scopes.split(","))

    click.echo(_run(action))


@tokens_group.command("revoke")
@click.argument("token")
def tokens_revoke(token: str) -> None:
    async def action(conn: AsyncConnection) -> None:
        await tokens.revoke(conn, token)

    _run(action)
    click.echo("token revoked")


@main.group()
def advisories() -> None:
    """The advisory database (OSV format)."""


@advisories.command("import")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
def advisories_import(path: Path) -> None:
    """Import OSV advisories from PATH: a JSON or YAML file, a directory tree (such as a checkout of
    an advisory database), or a zip archive. Unchanged advisories are skipped, changed ones updated,
    withdrawn ones retired."""
    from waybill.advisories import osv
    from waybill.advisories.service import ImportCounts, count_advisories
    from waybill.alerts import service as alerts

    total = len(osv.entries(path))
    problems: list[str] = []

    async def action(conn: AsyncConnection) -> tuple[ImportCounts, int]:
        with click.progressbar(length=total, label="Importing advisories", file=sys.stderr) as bar:
            counts = await alerts.import_advisories(
                conn, osv.load(path), progress=bar.update, problems=problems
            )
        if counts.changed:
            # Every repository's alerts are re-evaluated by the server's job worker.
            await alerts.request_rematch(conn)
        return counts, await count_advisories(conn)

    counts, stored = _run(action)
    for problem in problems[:5]:
        click.echo(f"waybill: skipped {problem}", err=True)
    if len(problems) > 5:
        click.echo(f"waybill: ... and {len(problems) - 5} more invalid files", err=True)
    click.echo(
        f"{counts.added} added, {counts.updated} updated, {counts.unchanged} unchanged, "
        f"{counts.withdrawn} withdrawn, {counts.invalid} invalid; {stored} advisories in the database"
    )


@main.group()
def policies() -> None:
    """Attestation verification policies per owner or repository (a repository's replaces its owner's)."""


def _show_policy(view: attestations.PolicyView) -> None:
    kind = "repository" if view.scope.repository is not None else "owner"
    click.echo(f"{view.scope.name} ({kind})")
    click.echo(f"  own policy: {view.own.mode.value if view.own else 'none'}")
    effective = view.effective
    click.echo(f"  effective: {effective.mode.value} (from {effective.source.value})")
    workflows = ", ".join(effective.allowed_workflows) or "any workflow of the repository"
    click.echo(f"  allowed workflows: {workflows}")


@policies.command("set")
@click.argument("target", metavar="OWNER[/REPO]")
@click.option("--mode", required=True, type=click.Choice([m.value for m in Mode]))
@click.option(
    "--allow-workflow",
    "allow_workflow",
    multiple=True,
    metavar="URI",
    help="A workflow allowed to sign (https://github.com/OWNER/REPO/.github/workflows/F.yml[@REF]); "
    "repeatable. None: any workflow of the repository.",
)
def policies_set(target: str, mode: str, allow_workflow: tuple[str, ...]) -> None:
    """Set the policy of an owner or a repository: off, record (the default) or enforce."""

    async def action(conn: AsyncConnection) -> attestations.PolicyView:
        scope = await attestations.policy_scope(conn, target)
        return await attestations.set_policy(conn, scope, Mode(mode), allow_workflow)

    _show_policy(_run(action))


@policies.command("show")
@click.argument("target", metavar="OWNER[/REPO]")
def policies_show(target: str) -> None:
    """Show the policy set on an owner or repository and the one that applies."""

    async def action(conn: AsyncConnection) -> attestations.PolicyView:
        return await attestations.show_policy(conn, await attestations.policy_scope(conn, target))

    _show_policy(_run(action))


@policies.command("clear")
@click.argument("target", metavar="OWNER[/REPO]")
def policies_clear(target: str) -> None:
    """Remove a policy: a repository follows its owner's again, an owner the default (record)."""

    async def action(conn: AsyncConnection) -> attestations.PolicyView:
        return await attestations.clear_policy(conn, await attestations.policy_scope(conn, target))

    _show_policy(_run(action))


@main.group("attestations")
def attestations_group() -> None:
    """Stored attestations."""


def _progress(job: jobs.Job) -> str:
    result = job.result or {}
    if "total" not in result:
        return f"job {job.id}: {job.status.value}"
    return (
        f"job {job.id}: {job.status.value}, {result['processed']}/{result['total']} processed "
        f"({result['verified']} verified, {result['failed']} failed, {result['skipped']} skipped)"
    )


@attestations_group.command("reverify")
@click.option("--wait", is_flag=True, help="Run the job here (or follow the server running it) until done.")
def attestations_reverify(wait: bool) -> None:
    """Verify every stored attestation again, against the trust roots configured now."""
    settings = Settings.from_env()
    upgrade(settings)

    async def main() -> int:
        db = Database.for_settings(settings)
        try:
            async with db.write() as conn:
                job, created = await attestations.request_reverify(conn, settings.trust_roots)
            click.echo(f"{'queued' if created else 'already queued:'} job {job.id} ({job.kind})")
            if not wait:
                return 0
            return await _follow(db, job.id)
        finally:
            await db.dispose()

    sys.exit(asyncio.run(main()))


async def _follow(db: Database, job_id: int) -> int:
    """Run the queued job in this process unless a server's worker holds it, printing progress."""
    worker = jobs.Worker(db, {attestations.REVERIFY_JOB: attestations.reverify})
    running = asyncio.get_running_loop().create_task(worker.run_until_idle())
    last = ""
    while True:
        async with db.read() as conn:
            job = await attestations.job(conn, job_id)
        line = _progress(job)
        if line != last:
            click.echo(line)
            last = line
        if job.status in (jobs.JobStatus.COMPLETED, jobs.JobStatus.FAILED):
            await running
            if job.error:
                click.echo(f"waybill: {job.error}", err=True)
            return 0 if job.status is jobs.JobStatus.COMPLETED else 1
        if running.done():
            # Nothing left to run here: another process holds the job, or it waits for a retry.
            running = asyncio.get_running_loop().create_task(worker.run_until_idle())
        await asyncio.sleep(0.5)
