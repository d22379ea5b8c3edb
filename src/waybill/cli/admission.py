"""``waybill admission``: an organization's deploy-time admission policy, per logical environment."""

from __future__ import annotations

import json

import click
from sqlalchemy.ext.asyncio import AsyncConnection

from waybill.admission import service
from waybill.admission.types import SEVERITIES, EnvironmentPolicy, Mode
from waybill.cli.common import run


@click.group()
def admission() -> None:
    """Which images clusters may run: the policy the admission entry points apply."""


def _document(environments: dict[str, EnvironmentPolicy]) -> str:
    return json.dumps({"environments": {n: p.as_json() for n, p in environments.items()}}, indent=2)


@admission.command("set")
@click.argument("org")
@click.option("--environment", required=True, help="The logical environment, e.g. prod.")
@click.option(
    "--mode", type=click.Choice([m.value for m in Mode]), default=Mode.AUDIT.value, show_default=True
)
@click.option(
    "--require-provenance", is_flag=True, help="Require verified provenance from a repository of ORG."
)
@click.option(
    "--max-open-alert-severity",
    type=click.Choice(SEVERITIES),
    default=None,
    help="The highest severity of open alerts still allowed (default: no limit).",
)
@click.option("--registry", "registries", multiple=True, help="An allowed registry URL (repeatable).")
@click.option("--exempt-namespace", "exempt_namespaces", multiple=True, help="A namespace left unchecked.")
def admission_set(
    org: str,
    environment: str,
    mode: str,
    require_provenance: bool,
    max_open_alert_severity: str | None,
    registries: tuple[str, ...],
    exempt_namespaces: tuple[str, ...],
) -> None:
    """Set ORG's policy for one environment (replacing it; other environments are kept)."""
    if not 1 <= len(environment) <= 128:
        raise click.BadParameter("1 to 128 characters", param_hint="--environment")
    value = EnvironmentPolicy(
        mode=Mode(mode),
        require_provenance=require_provenance,
        max_open_alert_severity=max_open_alert_severity,
        registries=registries,
        exempt_namespaces=exempt_namespaces,
    )

    async def action(conn: AsyncConnection) -> dict[str, EnvironmentPolicy]:
        return await service.set_policy(conn, org, environment, value)

    click.echo(_document(run(action)))


@admission.command("show")
@click.argument("org")
def admission_show(org: str) -> None:
    """Print ORG's policy (every environment) as the HTTP API returns it."""

    async def action(conn: AsyncConnection) -> dict[str, EnvironmentPolicy]:
        return await service.policies_of(conn, org)

    click.echo(_document(run(action)))
