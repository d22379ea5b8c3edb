"""The artifacts branch's data migrations, run over records written before them."""

from __future__ import annotations

from datetime import UTC, datetime

from alembic import command
from sqlalchemy import create_engine, select
from sqlalchemy.engine import make_url

from waybill.accounts.models import accounts, repositories
from waybill.artifacts.models import deployment_records, deployment_risks
from waybill.config import Settings
from waybill.core.migrate import alembic_config


def test_the_risks_of_deployed_records_are_filled_in(settings: Settings) -> None:
    config = alembic_config(settings.resolved_database_url)
    url = make_url(settings.resolved_database_url)
    engine = create_engine(
        url.set(drivername="sqlite" if url.drivername.startswith("sqlite") else "postgresql+psycopg")
    )
    now = datetime.now(UTC)
    command.downgrade(config, "artifacts_0002")
    try:
        with engine.begin() as conn:
            org = conn.execute(
                accounts.insert()
                .values(
                    login="acme",
                    login_key="acme",
                    type="Organization",
                    site_admin=False,
                    created_at=now,
                    updated_at=now,
                )
                .returning(accounts.c.id)
            ).scalar_one()
            repos = [
                conn.execute(
                    repositories.insert()
                    .values(
                        owner_id=org,
                        name=name,
                        name_key=name,
                        private=False,
                        default_branch="main",
                        created_at=now,
                        updated_at=now,
                    )
                    .returning(repositories.c.id)
                ).scalar_one()
                for name in ("web", "api")
            ]
            records = [
                (repos[0], "deployed", ["internet-exposed", "sensitive-data"]),
                (repos[0], "decommissioned", ["critical-resource"]),
                (repos[1], "deployed", []),
                (repos[1], "deployed", ["lateral-movement"]),
            ]
            for n, (repo, status, risks) in enumerate(records):
                conn.execute(
                    deployment_records.insert().values(
                        id=n + 1,
                        org_id=org,
                        repository_id=repo,
                        digest=f"sha256:{n:064x}",
                        logical_environment="production",
                        physical_environment="",
                        cluster="",
                        deployment_name=f"svc-{n}",
                        status=status,
                        tags={},
                        runtime_risks=risks,
                        created_at=now,
                        updated_at=now,
                    )
                )
    finally:
        command.upgrade(config, "heads")
    k = deployment_risks.c
    with engine.connect() as conn:
        rows = conn.execute(select(k.record_id, k.risk, k.org_id, k.repository_id, k.digest)).all()
    engine.dispose()
    assert sorted(tuple(row) for row in rows) == [
        (1, "internet-exposed", org, repos[0], f"sha256:{0:064x}"),
        (1, "sensitive-data", org, repos[0], f"sha256:{0:064x}"),
        (4, "lateral-movement", org, repos[1], f"sha256:{3:064x}"),
    ]
