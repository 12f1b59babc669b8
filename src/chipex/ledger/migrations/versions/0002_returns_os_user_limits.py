"""Ledger schema: the OS account beside each event's user, the same length limits on SQLite as on
PostgreSQL, and buckets append-only too.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# What PostgreSQL's VARCHAR(n) enforces, written out for SQLite (which stores any length).
LIMITS = {
    "events": {
        "at": 40,
        "actor": 200,
        "os_user": 200,
        "kind": 40,
        "subject": 300,
        "prev_hash": 64,
        "hash": 64,
    },
    "buckets": {"name": 600, "unit": 8},
}


def upgrade() -> None:
    op.add_column("events", sa.Column("os_user", sa.String(200), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        # a bucket's name is what its amounts are counted under: renaming one would move them
        op.execute(
            "CREATE TRIGGER buckets_append_only BEFORE UPDATE OR DELETE ON buckets "
            "FOR EACH ROW EXECUTE FUNCTION chipex_append_only()"
        )
        op.execute(
            "CREATE TRIGGER buckets_no_truncate BEFORE TRUNCATE ON buckets "
            "FOR EACH STATEMENT EXECUTE FUNCTION chipex_append_only()"
        )
        return
    for verb in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER buckets_no_{verb.lower()} BEFORE {verb} ON buckets "
            f"BEGIN SELECT RAISE(ABORT, 'chipex ledger: buckets is append-only ({verb} refused)'); END"
        )
    for table, columns in LIMITS.items():
        for column, limit in columns.items():
            op.execute(
                f"CREATE TRIGGER {table}_{column}_length BEFORE INSERT ON {table} "
                f"WHEN length(NEW.{column}) > {limit} BEGIN SELECT RAISE(ABORT, "
                f"'chipex ledger: value too long for type character varying({limit}) ({table}.{column})'); END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER buckets_append_only ON buckets")
        op.execute("DROP TRIGGER buckets_no_truncate ON buckets")
    else:
        for verb in ("update", "delete"):
            op.execute(f"DROP TRIGGER buckets_no_{verb}")
        for table, columns in LIMITS.items():
            for column in columns:
                op.execute(f"DROP TRIGGER {table}_{column}_length")
    with op.batch_alter_table("events") as batch:
        batch.drop_column("os_user")
