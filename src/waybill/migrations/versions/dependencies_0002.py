"""Dependencies: on PostgreSQL, the resolved packages' references are checked once per statement.

A snapshot of 10,000 packages inserts 10,000 resolved rows. Each foreign key checks each row on its
own (a query and a row lock per row and key): measured, the two keys took 0.10 s of the 0.14 s
that inserting 10,000 rows cost, the largest part of a submission. Triggers with transition tables
do the same work once per statement, over all the rows:

- inserting or updating resolved rows fails (foreign_key_violation) when one names a manifest or
  package that is not there;
- deleting manifests deletes their resolved rows, as the cascade did;
- deleting a package that resolved rows name fails, as the key did.

A snapshot's manifests cannot vanish while it is written: they are its own rows, and the snapshot's
key to its repository (kept) holds the repository until it commits. SQLite keeps its foreign keys,
which it checks in an index lookup of its own, without a query per row.

Revision ID: dependencies_0002
Revises: dependencies_0001
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "dependencies_0002"
down_revision: str | Sequence[str] | None = "dependencies_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_MANIFEST_KEY = "fk_dependency_resolved_manifest_id_dependency_manifests"
_PACKAGE_KEY = "fk_dependency_resolved_package_id_dependency_packages"

_UPGRADE = [
    f"ALTER TABLE dependency_resolved DROP CONSTRAINT {_MANIFEST_KEY}",
    f"ALTER TABLE dependency_resolved DROP CONSTRAINT {_PACKAGE_KEY}",
    """CREATE FUNCTION dependency_resolved_check_references() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF EXISTS (
            SELECT 1 FROM written AS w
            WHERE NOT EXISTS (SELECT 1 FROM dependency_manifests AS m WHERE m.id = w.manifest_id)
                OR NOT EXISTS (SELECT 1 FROM dependency_packages AS p WHERE p.id = w.package_id)
        ) THEN
            RAISE foreign_key_violation USING
                MESSAGE = 'dependency_resolved names a manifest or package that does not exist';
        END IF;
        RETURN NULL;
    END $$""",
    """CREATE TRIGGER dependency_resolved_check_inserted AFTER INSERT ON dependency_resolved
    REFERENCING NEW TABLE AS written FOR EACH STATEMENT
    EXECUTE FUNCTION dependency_resolved_check_references()""",
    """CREATE TRIGGER dependency_resolved_check_updated AFTER UPDATE ON dependency_resolved
    REFERENCING NEW TABLE AS written FOR EACH STATEMENT
    EXECUTE FUNCTION dependency_resolved_check_references()""",
    """CREATE FUNCTION dependency_resolved_follow_manifests() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        DELETE FROM dependency_resolved WHERE manifest_id IN (SELECT id FROM removed);
        RETURN NULL;
    END $$""",
    """CREATE TRIGGER dependency_resolved_follow_manifests AFTER DELETE ON dependency_manifests
    REFERENCING OLD TABLE AS removed FOR EACH STATEMENT
    EXECUTE FUNCTION dependency_resolved_follow_manifests()""",
    """CREATE FUNCTION dependency_packages_keep_named() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF EXISTS (SELECT 1 FROM dependency_resolved WHERE package_id IN (SELECT id FROM removed)) THEN
            RAISE foreign_key_violation USING
                MESSAGE = 'dependency_packages rows named by dependency_resolved cannot be deleted';
        END IF;
        RETURN NULL;
    END $$""",
    """CREATE TRIGGER dependency_packages_keep_named AFTER DELETE ON dependency_packages
    REFERENCING OLD TABLE AS removed FOR EACH STATEMENT
    EXECUTE FUNCTION dependency_packages_keep_named()""",
]


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    for statement in _UPGRADE:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    op.execute("DROP TRIGGER dependency_packages_keep_named ON dependency_packages")
    op.execute("DROP FUNCTION dependency_packages_keep_named()")
    op.execute("DROP TRIGGER dependency_resolved_follow_manifests ON dependency_manifests")
    op.execute("DROP FUNCTION dependency_resolved_follow_manifests()")
    op.execute("DROP TRIGGER dependency_resolved_check_updated ON dependency_resolved")
    op.execute("DROP TRIGGER dependency_resolved_check_inserted ON dependency_resolved")
    op.execute("DROP FUNCTION dependency_resolved_check_references()")
    op.execute(
        f"ALTER TABLE dependency_resolved ADD CONSTRAINT {_MANIFEST_KEY} FOREIGN KEY (manifest_id)"
        " REFERENCES dependency_manifests (id) ON DELETE CASCADE"
    )
    op.execute(
        f"ALTER TABLE dependency_resolved ADD CONSTRAINT {_PACKAGE_KEY} FOREIGN KEY (package_id)"
        " REFERENCES dependency_packages (id)"
    )
