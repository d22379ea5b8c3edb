"""Artifact metadata: a deployment record's risk rows are kept by the database, from the record.

A trigger rewrites them whenever an upsert changes the record (``last_change`` is set). In the
database rather than beside the upsert because on PostgreSQL a trigger's statements read the latest
committed rows: two writers of one record each remove what the other wrote, where statements run
beside the upsert (or in one statement with it) could only see what was committed when they began.

Revision ID: artifacts_0004
Revises: artifacts_0003
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "artifacts_0004"
down_revision: str | Sequence[str] | None = "artifacts_0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_RISK_ROWS = """
    DELETE FROM artifact_deployment_risks WHERE record_id = NEW.id;
    INSERT INTO artifact_deployment_risks (record_id, risk, org_id, repository_id, digest)
    SELECT NEW.id, e.value, NEW.org_id, NEW.repository_id, NEW.digest
    FROM {elements}
    WHERE NEW.status = 'deployed';
"""

_SQLITE = [
    f"""CREATE TRIGGER artifact_deployment_risks_on_{event.lower()}
    AFTER {event} ON artifact_deployment_records
    WHEN NEW.last_change IS NOT NULL
    BEGIN {_RISK_ROWS.format(elements="json_each(NEW.runtime_risks) AS e")} END"""
    for event in ("INSERT", "UPDATE")
]

_POSTGRESQL = [
    f"""CREATE FUNCTION artifact_deployment_risks_from_record() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN {_RISK_ROWS.format(elements="jsonb_array_elements_text(NEW.runtime_risks) AS e(value)")}
    RETURN NULL;
    END $$""",
    """CREATE TRIGGER artifact_deployment_risks_from_record
    AFTER INSERT OR UPDATE ON artifact_deployment_records
    FOR EACH ROW WHEN (NEW.last_change IS NOT NULL)
    EXECUTE FUNCTION artifact_deployment_risks_from_record()""",
]


def upgrade() -> None:
    for statement in _SQLITE if op.get_bind().dialect.name == "sqlite" else _POSTGRESQL:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for event in ("insert", "update"):
            op.execute(f"DROP TRIGGER artifact_deployment_risks_on_{event}")
    else:
        op.execute("DROP TRIGGER artifact_deployment_risks_from_record ON artifact_deployment_records")
        op.execute("DROP FUNCTION artifact_deployment_risks_from_record()")
